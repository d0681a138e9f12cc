# TP1, exercice 3 : le client du dialogue, écrit comme la fiche l'écrit (socket, connect,
# send(msg.encode()) sans fin de ligne, recv(1024)). Les tests de `reparti chat` le font
# parler à `reparti chat serve` : reparti doit comprendre un client de la fiche tel quel.
#
# Usage : python3 client.py PORT   puis taper les messages ; "fin" ou une ligne vide termine.
import socket
import sys

port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(('127.0.0.1', port))
print("client :", s.getsockname())
while True:
    msg = input("Message : ")
    s.send(msg.encode())
    if msg.lower() == 'fin' or msg == '':
        break
    data = s.recv(1024)
    print("Réponse :", data.decode())
s.close()
