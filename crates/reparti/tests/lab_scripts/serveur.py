# TP1, exercices 2 et 3 : le serveur du dialogue, écrit comme la fiche l'écrit (socket,
# bind, listen, accept, recv(1024), send(rep.encode()) sans fin de ligne), qui revient
# accepter un nouveau client sans fin. Chaque réponse se tape au clavier. Les tests de
# `reparti chat` lui font parler `reparti chat connect`.
#
# Usage : python3 serveur.py PORT   (0 : un port libre, affiché au démarrage)
import socket
import sys

port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(('127.0.0.1', port))
s.listen(1)
print("serveur en écoute sur le port", s.getsockname()[1])
while True:
    sock_client, add_client = s.accept()
    print("connexion de", add_client)
    while True:
        data = sock_client.recv(1024)
        msg = data.decode()
        print("reçu :", msg)
        if msg.lower() == 'fin' or msg == '':
            break
        rep = input("Réponse : ")
        sock_client.send(rep.encode())
    sock_client.close()
    print("fin du dialogue avec", add_client)
