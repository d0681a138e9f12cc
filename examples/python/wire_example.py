#!/usr/bin/env python3
"""Speak reparti's wire format (docs/PROTOCOL.md): encode, encrypt, decrypt, decode a datagram.

Usage: python3 wire_example.py [KEY_FILE]    (no key file: a fresh key, as `reparti keygen` makes)
Needs only the standard library and `cryptography` (pip install cryptography).
"""
import json
import sys

from cryptography.fernet import Fernet

MAX_DATAGRAM = 64 * 1024


def encode(frm, to, lamport, kind, body, vc=None):
    env = {"v": 1, "from": frm, "to": to, "lamport": lamport, "type": kind, "body": body}
    if vc is not None:
        env["vc"] = vc  # only when the run keeps vector clocks
    return json.dumps(env, separators=(",", ":")).encode()


def decode(datagram):
    if len(datagram) > MAX_DATAGRAM:
        raise ValueError("datagram over 64 KiB")
    env = json.loads(datagram)
    if env.get("v") != 1:
        raise ValueError(f"wire format version {env.get('v')}, expected 1")
    return env


key = open(sys.argv[1], "rb").read().strip() if len(sys.argv) > 1 else Fernet.generate_key()
fernet = Fernet(key)
plain = encode(2, 3, 7, "ELECT", {"ELECT": 5})  # Chang-Roberts: node 2 tells node 3 "ELECT(5)"
token = fernet.encrypt(plain)  # the datagram: sock.sendto(token, ("127.0.0.1", 5003))
env = decode(fernet.decrypt(token, ttl=60))  # the receiver: raises InvalidToken if forged/old
print(plain.decode())
print(env["from"], "->", env["to"], env["type"], env["body"], "lamport", env["lamport"])
print(token.decode())
