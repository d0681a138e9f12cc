#!/usr/bin/env python3
"""A token-ring node (TP3) in Python, in two shapes.

The catalogue shape speaks reparti's wire format (docs/PROTOCOL.md) and can take any
position in a ring of `reparti node token-ring --me/--peers` nodes
(crates/reparti-algos/src/communication/token_ring.rs):

    python3 token_ring_node.py --me 2 --peers 127.0.0.1:5000,127.0.0.1:5001,127.0.0.1:5002 \
        [--key-file K] [--holder 0] [--laps 2] [--send 0:hello ...] [--idle-ms 1500]

Each node sends only to its successor. The token starts at `holder`; whoever gets it
originates its queued messages, then passes it on. `holder` counts the laps and keeps
the token after `laps` of them (0: never passes it on). Data not addressed to us is
relayed with one hop more. Clocks follow TP6, as reparti applies them
(crates/reparti-core/src/clock.rs). After --idle-ms with nothing received the node
prints a summary as one JSON line, always the last line of its output.

The lab shape is the sheet's `node.py port_local port_prec [jeton]`, and speaks the lab
ring protocol of `reparti node token-ring LOCAL_PORT PREV_PORT [jeton]`
(docs/PROTOCOL.md, "Lab token ring"), so Python and reparti lab nodes form one ring:

    python3 token_ring_node.py 5001 5003 jeton [--laps K] [--send 5002:hello ...] \
        [--key-file K] [--interactive] [--idle-ms 1500]

A node is named by its port and told only its predecessor's; it finds its successor by
saying SUCCESSOR to its predecessor. Only the token holder originates a message, to
any port; messages travel hop by hop. Without --laps the console moves the token
(`send PORT TEXT`, `release`, `state`, `help`, `quit`); with --laps K every holder
passes it on at once and it rests at the `jeton` node after K laps.

Standard library only; `cryptography` (TP8's Fernet) only with --key-file.
"""
import argparse
import json
import queue
import socket
import sys
import threading
import time

try:
    from cryptography.fernet import Fernet, InvalidToken
except ImportError:  # only --key-file needs it
    Fernet = InvalidToken = None

MAX_DATAGRAM = 64 * 1024
VECTOR_LIMIT = 64  # reparti keeps vector clocks only up to 64 nodes
LAB_MAX_HOPS = 256  # RingNode with n=None: the ring's size is unknown, so cap how far a message travels
FERNET_TTL = 60  # seconds, as reparti checks it


class BadDatagram(Exception):
    """A datagram we refuse; the message says why."""


def is_count(x):
    """An integer that fits reparti's u64 fields (JSON's true/false are not numbers)."""
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 2**64


class Clocks:
    """Lamport and (when n is known and small) vector clocks, by TP6's rules."""

    def __init__(self, me, n):
        self.me = me
        self.lamport = 0
        self.vc = [0] * n if n is not None and n <= VECTOR_LIMIT else None

    def tick(self):  # a local event, and every send (the message carries the new values)
        self.lamport += 1
        if self.vc is not None:
            self.vc[self.me] += 1

    def merge(self, lamport, vc):  # a receive: take the maximum, then tick
        self.lamport = max(self.lamport, lamport) + 1
        if self.vc is not None:
            if vc is not None:
                self.vc = [max(a, b) for a, b in zip(self.vc, vc)]
            self.vc[self.me] += 1


class RingNode:
    """One ring node: reparti's token-ring `Node`, with its socket and clocks."""

    def __init__(self, me, sock, next_id, next_addr, n=None, holder=0, laps=2, fernet=None):
        self.me, self.sock, self.next_id, self.next_addr = me, sock, next_id, next_addr
        self.n = n  # None if nobody knows the ring's size (the lab shape is LabNode, below)
        self.holder, self.laps, self.fernet = holder, laps, fernet
        self.clocks = Clocks(me, n)
        self.has_token = me == holder
        self.laps_done = 0
        self.queue = []  # (dest, text) waiting for the token
        self.sent_to = []  # destination of each message we originated; its index is its seq
        self.delivered = []
        self.channel_seq = 0  # envelope `seq`: we send on one channel only, to the successor
        self.tokens_received = self.tokens_sent = self.data_sent = self.data_received = self.dropped = 0

    def warn(self, text):
        print(f"node {self.me}: {text}", file=sys.stderr, flush=True)

    # Sending: every send ticks the clocks and carries their new values.
    def send(self, kind, body):
        self.clocks.tick()
        self.channel_seq += 1
        env = {"v": 1, "from": self.me, "to": self.next_id, "seq": self.channel_seq,
               "lamport": self.clocks.lamport, "type": kind, "body": body}
        if self.clocks.vc is not None:
            env["vc"] = self.clocks.vc
        datagram = json.dumps(env, separators=(",", ":")).encode()
        if self.fernet is not None:
            datagram = self.fernet.encrypt(datagram)
        try:
            self.sock.sendto(datagram, self.next_addr)
        except OSError as e:  # UDP promises nothing: report and carry on
            self.warn(f"sending to {self.next_addr} failed: {e}")

    def pass_token(self):
        self.has_token = False
        self.tokens_sent += 1
        self.send("TOKEN", "Token")

    def originate(self, dest, text):
        seq = len(self.sent_to)
        self.sent_to.append(dest)
        self.data_sent += 1
        self.send("DATA", {"Data": {"origin": self.me, "seq": seq, "dest": dest, "hops": 1, "text": text}})

    def got_token(self):
        self.has_token = True
        while self.queue:
            self.originate(*self.queue.pop(0))
        if self.laps == 0:
            return  # reparti's manual mode: keep the token (this node has no `release`)
        if self.me == self.holder and self.laps_done >= self.laps:
            return  # the token rests here; only the holder decides it
        self.pass_token()

    # Local events: the start, then each requested send (reparti's order).
    def start(self):
        self.clocks.tick()
        if self.has_token:
            self.got_token()

    def request_send(self, dest, text):
        self.clocks.tick()
        if dest == self.me or (self.n is not None and dest >= self.n):
            self.warn(f"cannot send to {dest}: destinations are the other nodes")
        elif self.has_token:
            self.originate(dest, text)
        else:
            self.queue.append((dest, text))

    # Receiving: a datagram is hostile input, checked field by field before it is used.
    def decode(self, datagram):
        """The envelope in `datagram`, None for an ack, or BadDatagram."""
        if self.fernet is not None:
            try:
                datagram = self.fernet.decrypt(datagram, ttl=FERNET_TTL)
            except InvalidToken:
                raise BadDatagram("does not open with our key (other key, tampered, too old, or plaintext)")
        if len(datagram) > MAX_DATAGRAM:
            raise BadDatagram("over 64 KiB")
        try:
            env = json.loads(datagram)
        except ValueError:  # also catches bytes that are not UTF-8
            hint = ": it is a Fernet token, give --key-file" if datagram.startswith(b"gAAAAA") else ""
            raise BadDatagram("not JSON" + hint)
        if not isinstance(env, dict) or env.get("v") != 1:
            raise BadDatagram("not a version 1 envelope")
        if "ack" in env and "type" not in env:
            return None  # the reliable layer's ack: this node runs without it (an envelope's `seq` is ignored too)
        if not all(is_count(env.get(f)) for f in ("from", "to", "lamport")):
            raise BadDatagram("`from`, `to` and `lamport` must be integers 0..2**64-1")
        if self.n is not None and env["from"] >= self.n:
            raise BadDatagram(f"sender {env['from']} is not a node of this ring")
        if env["to"] != self.me:
            raise BadDatagram(f"addressed to node {env['to']}, not to us: check the address list")
        vc = env.get("vc")
        if vc is not None and not (isinstance(vc, list) and all(is_count(x) for x in vc)):
            raise BadDatagram("`vc` must be a list of integers 0..2**64-1")
        if vc is not None and self.clocks.vc is not None and len(vc) != self.n:
            raise BadDatagram(f"a vector clock of {len(vc)} entries for {self.n} nodes")
        kind, body = env.get("type"), env.get("body")
        if kind == "TOKEN" and body != "Token":
            raise BadDatagram("a TOKEN's body must be \"Token\"")
        if kind == "DATA":
            data = body.get("Data") if isinstance(body, dict) and len(body) == 1 else None
            if not (isinstance(data, dict) and isinstance(data.get("text"), str)
                    and all(is_count(data.get(f)) for f in ("origin", "seq", "dest", "hops"))):
                raise BadDatagram("a DATA's body must be {\"Data\":{origin,seq,dest,hops,text}}")
        elif kind != "TOKEN":
            raise BadDatagram(f"unknown message type {kind!r}")
        return env

    def receive(self, datagram):
        """Decodes a datagram and merges its clocks: the envelope, or None if dropped or an ack."""
        try:
            env = self.decode(datagram)
        except BadDatagram as e:
            self.dropped += 1
            self.warn(f"dropped a datagram: {e}")
            return None
        if env is not None:
            self.clocks.merge(env["lamport"], env.get("vc"))
        return env

    def on_datagram(self, datagram):
        env = self.receive(datagram)
        if env is None:
            return
        if env["type"] == "TOKEN":
            self.tokens_received += 1
            if self.me == self.holder:
                self.laps_done += 1
            self.got_token()
            return
        data = env["body"]["Data"]
        self.data_received += 1
        origin, dest, hops = data["origin"], data["dest"], data["hops"]
        if dest == self.me:
            self.delivered.append({"origin": origin, "seq": data["seq"], "hops": hops, "text": data["text"]})
            vc = f", vc {self.clocks.vc}" if self.clocks.vc is not None else ""
            print(f"from {origin}: {data['text']} (lamport {self.clocks.lamport}{vc})", flush=True)
        elif self.undeliverable(origin, dest, hops):
            self.warn(f"dropped data {origin}#{data['seq']} for {dest} after {hops} hops: no such node")
        else:  # relaying needs no token: the token only grants the right to originate
            relayed = {"origin": origin, "seq": data["seq"], "dest": dest, "hops": hops + 1, "text": data["text"]}
            self.send("DATA", {"Data": relayed})

    def undeliverable(self, origin, dest, hops):
        """A message for no node (or from a faulty peer) would circle forever: drop it."""
        if self.n is not None:
            return dest >= self.n or hops >= self.n  # reparti's rule
        return origin == self.me or hops >= LAB_MAX_HOPS  # size unknown: back home, nobody took it

    def run(self, idle_s):
        """Handles datagrams until none has come for `idle_s` seconds."""
        self.sock.settimeout(idle_s)
        while True:
            try:
                datagram, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                return
            except OSError as e:  # one failed receive is not a broken socket
                self.warn(f"receive error: {e}")
                continue
            self.on_datagram(datagram)

    def render(self, verb):
        """The node in a few lines, as reparti's `state` and summary write it."""
        token = ("holds" if self.has_token else "does not hold") + " the token" + \
            (" (the jeton node)" if self.jeton else "")
        mode = (f"automatic mode, {self.laps_done} of {self.laps} laps" if self.jeton else "automatic mode") \
            if self.laps else "manual mode"
        succ = self.successor[0] if self.successor else "not announced yet"
        answered = "" if not self.awaiting_pred else " (has not answered yet)"
        out = (f"node {self.me} {verb}: {token}, {mode}; predecessor {self.pred[1]}{answered}, successor {succ}; "
               f"lamport {self.lamport}\n  tokens: {self.received['TOKEN']} received, {self.sent['TOKEN']} passed; "
               f"texts: {self.originated} originated, {len(self.delivered)} delivered here, {self.relayed} relayed, "
               f"{len(self.undeliverable)} came back")
        waiting = len(self.outbox) + int(self.release_pending)
        if self.queued or waiting:
            out += f"\n  waiting: {len(self.queued)} for the token, {waiting} for the successor"
        dropped = sum(self.dropped.values())
        return out + ("\n  dropped: none" if not dropped else
                      f"\n  dropped: {dropped} ({self.dropped['key']} not opening with our key, "
                      f"{self.dropped['malformed']} malformed, {self.dropped['misaddressed']} addressed to another "
                      f"port, {self.dropped['duplicate_token']} duplicate tokens, {self.dropped['circling']} circling)")

    def summary(self):
        return {"me": self.me, "tokens_received": self.tokens_received, "tokens_sent": self.tokens_sent,
                "delivered": self.delivered, "data_sent": self.data_sent, "data_received": self.data_received,
                "dropped": self.dropped, "has_token": self.has_token, "lamport": self.clocks.lamport,
                "vc": self.clocks.vc}


# The lab shape: the lab ring protocol (crates/reparti-labs/src/ring/mod.rs).
LAB_TYPES = ("SUCCESSOR", "SUCCESSOR_OK", "TOKEN", "DATA")
LAB_HOP_LIMIT = 1024  # a text whose origin left the ring would circle for ever
ANNOUNCE_FIRST, ANNOUNCE_MAX = 0.1, 1.0  # SUCCESSOR is repeated after 0.1 s, 0.2 s, ... at most 1 s apart
MAX_TEXT = 32 * 1024
WRONG_KEY = "it does not open with our key: check every node uses the same key file"
LAB_HELP = """send PORT TEXT   send TEXT to the node listening on PORT (any port: it travels hop by hop);
                 without the token it is queued and leaves when the token arrives
release          pass the token to the successor
state            show this node's ring, token, clock and counters
help, ?          show this list
quit, exit, fin  stop this node"""


def is_port(x):
    return isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= 65535


def decode_lab(datagram):
    """The lab envelope in an (opened) datagram, or BadDatagram saying why not."""
    if len(datagram) > MAX_DATAGRAM:
        raise BadDatagram("over 64 KiB")
    try:
        env = json.loads(datagram)
    except ValueError:
        hint = ": it is a Fernet token, so the sender encrypts: give every node the same --key-file" \
            if datagram.startswith(b"gAAAAA") else ""
        raise BadDatagram("not a lab ring envelope (not JSON)" + hint)
    if not isinstance(env, dict) or env.get("v") != 1:
        raise BadDatagram("not a version 1 lab ring envelope")
    for field in ("from", "to"):
        if not is_port(env.get(field)):
            raise BadDatagram(f"field `{field}`: {env.get(field)!r} is not a port (1..65535), "
                              "and the lab ring names nodes by port")
    if not is_count(env.get("lamport")):
        raise BadDatagram("`lamport` must be an integer 0..2**64-1")
    kind = env.get("type")
    if kind not in LAB_TYPES:
        raise BadDatagram(f"unknown message type {kind!r}: the lab ring speaks SUCCESSOR, SUCCESSOR_OK, TOKEN and DATA")
    if kind == "DATA":
        b = env.get("body")
        if not (isinstance(b, dict) and is_port(b.get("origin")) and is_port(b.get("dest"))
                and is_count(b.get("hops")) and b["hops"] < 2**32 and isinstance(b.get("text"), str)):
            raise BadDatagram('DATA body is not {"origin":PORT,"dest":PORT,"hops":N,"text":"..."}')
    return env


class LabNode:
    """One node of the lab ring: the same rules as reparti's (crates/reparti-labs/src/ring/node.rs)."""

    def __init__(self, sock, me, pred, jeton=False, laps=None, fernet=None):
        self.sock, self.me, self.pred, self.jeton, self.laps, self.fernet = sock, me, pred, jeton, laps, fernet
        self.addr = "%s:%d" % sock.getsockname()[:2]
        self.successor = None  # (port, address) once it says SUCCESSOR
        self.awaiting_pred, self.next_announce, self.announce_wait = False, 0.0, ANNOUNCE_FIRST
        self.has_token = self.release_pending = self.told_waiting = self.quit = False
        self.laps_done = self.lamport = self.originated = self.relayed = self.send_errors = 0
        self.queued = []  # (dest, text) waiting for the token
        self.outbox = []  # DATA bodies waiting for the successor
        self.passed_to = None
        self.sent = dict.fromkeys(LAB_TYPES, 0)
        self.received = dict.fromkeys(LAB_TYPES, 0)
        self.dropped = dict.fromkeys(("key", "malformed", "misaddressed", "duplicate_token", "circling"), 0)
        self.delivered, self.undeliverable = [], []

    @staticmethod
    def say(text):
        print(text, flush=True)

    @staticmethod
    def warn(text, level="warning"):
        print(f"{level}: {text}", file=sys.stderr, flush=True)

    # Sending. TOKEN and DATA are the application's sends: TP6's +1, then the stamp.
    # SUCCESSOR and SUCCESSOR_OK are plumbing: the clock as it is, untouched.
    def send_now(self, addr, to, kind, body=None):
        self.sent[kind] += 1
        env = {"v": 1, "from": self.me, "to": to, "lamport": self.lamport, "type": kind}
        if body is not None:
            env["body"] = body
        datagram = json.dumps(env, separators=(",", ":"), ensure_ascii=False).encode()
        if self.fernet is not None:
            datagram = self.fernet.encrypt(datagram)
        try:
            self.sock.sendto(datagram, addr)
        except OSError as e:  # UDP promises nothing: report and carry on
            self.send_errors += 1
            self.warn(f"cannot send {kind} to {addr[0]}:{addr[1]}: {e}")

    def tick_and_send(self, addr, to, kind, body=None):
        self.lamport += 1
        self.send_now(addr, to, kind, body)

    def start(self, now):
        token = "holds the token (jeton)" if self.jeton else "waits for the token"
        mode = f"automatic mode, {self.laps} laps" if self.laps else "manual mode, type help"
        self.say(f"node {self.me} listening on {self.addr}; predecessor {self.pred[1]} at "
                 f"{self.pred[0]}:{self.pred[1]}; {token}; {mode}")
        self.announce(now)
        if self.jeton:
            self.has_token = True
            self.got_token()

    def announce(self, now):
        self.awaiting_pred = True
        self.send_now(self.pred, self.pred[1], "SUCCESSOR")
        self.next_announce = now + self.announce_wait
        self.announce_wait = min(self.announce_wait * 2, ANNOUNCE_MAX)

    def tick(self, now):
        if self.awaiting_pred and now >= self.next_announce:
            self.announce(now)

    # Receiving: a datagram is hostile input, checked field by field before it is used.
    def on_datagram(self, datagram, src):
        """Handles one datagram; returns whether it was understood (refused ones are counted)."""
        where = f"{src[0]}:{src[1]}"
        if self.fernet is not None:
            try:
                datagram = self.fernet.decrypt(datagram, ttl=FERNET_TTL)
            except InvalidToken:
                return self.refused("key", f"dropped a datagram from {where}: {WRONG_KEY}")
        try:
            env = decode_lab(datagram)
        except BadDatagram as e:
            return self.refused("malformed", f"dropped a datagram from {where}: {e}")
        kind, frm = env["type"], env["from"]
        if env["to"] != self.me:
            return self.refused("misaddressed", f"dropped a {kind} from {where}: addressed to port {env['to']}, "
                                f"not to this node ({self.me}): check the ports the nodes were given")
        self.received[kind] += 1
        self.handle(env, src)
        return True

    def handle(self, env, src):
        kind, frm = env["type"], env["from"]
        if kind == "SUCCESSOR":
            self.successor_announced(frm, src)
        elif kind == "SUCCESSOR_OK":
            if frm != self.pred[1]:
                self.warn(f"{frm} answered SUCCESSOR_OK, but our predecessor is {self.pred[1]}: ignored")
            elif self.awaiting_pred:
                self.awaiting_pred = False
                self.say(f"predecessor {frm} answered: this node is its successor")
        else:
            self.lamport = max(self.lamport, env["lamport"]) + 1  # TP6's receive rule
            if kind == "TOKEN":
                self.token_arrived(frm)
            else:
                self.data_arrived(frm, env["body"])

    def refused(self, why, line):
        """Counts a refused datagram; says so at the 1st, 10th, 100th... of its kind."""
        self.dropped[why] += 1
        n = self.dropped[why]
        if str(n).rstrip("0") == "1":
            self.warn(line + (f" ({n} so far)" if n > 1 else ""))
        return False

    def successor_announced(self, port, addr):
        if self.successor is not None and self.successor != (port, addr):
            old = self.successor[0]
            self.warn(f"successor is now {port} ({addr[0]}:{addr[1]}), was {old}: if {old} still runs, "
                      f"two nodes name {self.me} as their predecessor")
        elif self.successor is None:
            self.say(f"successor {port} ({addr[0]}:{addr[1]})")
        self.successor = (port, addr)
        self.told_waiting = False
        self.send_now(addr, port, "SUCCESSOR_OK")  # every time: a repeat means our answer was lost
        self.flush()

    def token_arrived(self, frm):
        if self.has_token:
            self.dropped["duplicate_token"] += 1
            return self.warn(f"a second token arrived from {frm} while this node holds one: the ring had two; kept one")
        if frm != self.pred[1]:
            self.warn(f"the token came from {frm}, not from our predecessor {self.pred[1]}: check the nodes' ports")
        self.has_token = True
        if self.jeton:
            self.laps_done += 1
        hint = ": this node may send; `release` passes it on" if not self.laps else ""
        self.say(f"TOKEN from {frm} (lamport {self.lamport}){hint}")
        self.got_token()

    def got_token(self):
        while self.queued:
            dest, text = self.queued.pop(0)
            self.outbox.append({"origin": self.me, "dest": dest, "hops": 1, "text": text})
        if self.laps:
            if self.jeton and self.laps_done >= self.laps:
                self.say(f"the token rests here after {self.laps} laps")
            else:
                self.release_pending = True
        self.flush()

    def data_arrived(self, frm, d):
        if d["dest"] == self.me:
            self.say(f"message from {d['origin']} via {frm} (hops {d['hops']}, lamport {self.lamport}): {d['text']}")
            self.delivered.append({"origin": d["origin"], "from": frm, "hops": d["hops"],
                                   "lamport": self.lamport, "text": d["text"]})
        elif d["origin"] == self.me:
            self.warn(f"no node of the ring listens on port {d['dest']}: {json.dumps(d['text'], ensure_ascii=False)} "
                      f"came back after {d['hops']} hops")
            self.undeliverable.append({"dest": d["dest"], "hops": d["hops"], "text": d["text"]})
        elif d["hops"] >= LAB_HOP_LIMIT:
            self.dropped["circling"] += 1
            self.warn(f"dropped a message from {d['origin']} for {d['dest']} after {d['hops']} hops: "
                      "its origin is no longer in the ring")
        else:  # relaying needs no token: the token is the right to originate, not to forward
            self.outbox.append({"origin": d["origin"], "dest": d["dest"], "hops": d["hops"] + 1, "text": d["text"]})
            self.flush()

    def flush(self):
        """Sends what waits for the successor (texts first, then the token), if it is known."""
        if self.successor is None:
            if (self.outbox or self.release_pending) and not self.told_waiting:
                self.told_waiting = True
                self.say(f"waiting for our successor to announce itself (the node started with {self.me} as its "
                         "predecessor): what we send leaves then")
            return
        succ, addr = self.successor
        while self.outbox:
            d = self.outbox.pop(0)
            self.tick_and_send(addr, succ, "DATA", d)
            if d["origin"] == self.me:
                self.originated += 1
                self.say(f"sent to {d['dest']} via {succ} (lamport {self.lamport}): {d['text']}")
            else:
                self.relayed += 1
                self.say(f"relayed a message from {d['origin']} for {d['dest']}, on to {succ} (hops {d['hops']})")
        if self.release_pending and self.has_token:
            self.release_pending = self.has_token = False
            self.passed_to = succ
            self.tick_and_send(addr, succ, "TOKEN")
            self.say(f"token passed to {succ} (lamport {self.lamport})")

    # The console: the sheet's menu_send.
    def request_send(self, dest, text):
        if dest == self.me:
            return self.warn(f"port {dest} is this node: send to another port", "error")
        self.lamport += 1  # a send request is a local event
        if self.has_token:
            self.outbox.append({"origin": self.me, "dest": dest, "hops": 1, "text": text})
            self.flush()
        else:
            self.say(f"queued until the token arrives: to {dest}: {text}")
            self.queued.append((dest, text))

    def command(self, line):
        word, _, rest = line.strip().partition(" ")
        word, rest = word.lower(), rest.strip()
        if not word:
            return
        if word == "send":
            port, _, text = rest.partition(" ")
            text = text.strip()
            if not port.isdigit() or not 1 <= int(port) <= 65535:
                return self.warn("`send` takes a port and a text, e.g. `send 5003 bonjour`", "error")
            if not text or len(text.encode()) > MAX_TEXT:
                return self.warn(f"`send` takes a text of 1 to {MAX_TEXT} bytes, e.g. `send 5003 bonjour`", "error")
            return self.request_send(int(port), text)
        if word not in ("release", "state", "help", "?", "quit", "exit", "fin"):
            return self.warn(f"unknown command `{word}`: a lab ring node takes send PORT TEXT, release, state, "
                             "help and quit (type `help`)", "error")
        if rest:
            return self.warn(f"`{word}` takes nothing after it: type `{word}` alone", "error")
        if word == "release":
            if not self.has_token:
                self.warn("this node does not hold the token: nothing to release", "error")
            elif self.release_pending:
                self.say("the token is already on its way out: it leaves once the successor is known")
            else:
                self.release_pending = True
                self.flush()
        elif word == "state":
            self.say(self.render("now"))
        elif word in ("help", "?"):
            self.say(LAB_HELP)
        else:
            self.quit = True

    def run(self, sends, console, idle_s):
        """Runs until `quit`, or `idle_s` with nothing received once the console (if any) has closed."""
        start = time.monotonic()
        self.start(0.0)
        for dest, text in sends:
            self.request_send(dest, text)
        last_heard = time.monotonic()
        while not self.quit:
            while console is not None and not self.quit:
                try:
                    line = console.get_nowait()
                except queue.Empty:
                    break
                if line is None:  # end of input: idleness counts from now
                    console, last_heard = None, time.monotonic()
                else:
                    self.command(line)
            now = time.monotonic()
            self.tick(now - start)
            if self.quit or (console is None and idle_s is not None and now - last_heard >= idle_s):
                break
            self.sock.settimeout(0.05)  # short, to look at the console and the clock often
            try:
                datagram, src = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:  # an ICMP "port unreachable" for an earlier send: not our socket's fault
                continue
            if self.on_datagram(datagram, src):  # only what is understood keeps the node up
                last_heard = time.monotonic()

    def problems(self):
        """What is wrong for the ring if we stop now (the same lines as reparti's)."""
        out, me, pred = [], self.me, self.pred[1]
        if self.awaiting_pred:
            out.append(f"our predecessor {pred} never answered SUCCESSOR: is a lab node running at "
                       f"{self.pred[0]}:{pred} (with the same key file)?")
        if self.jeton and not self.has_token:
            to = self.passed_to if self.passed_to is not None else "its successor"
            out.append(f"the token left this node (the jeton node) for {to} and never came back: the ring lost it "
                       "(a node stopped, or a datagram was lost)")
        elif not self.jeton and self.has_token:
            out.append("this node stops with the token and no successor ever announced itself: the ring loses it "
                       f"(does a node name {me} as its predecessor?)" if self.successor is None else
                       "this node stops with the token: the ring loses it (type `release` before `quit`)")
        if self.laps and self.jeton and self.has_token and self.laps_done < self.laps:
            out.append(f"the token made {self.laps_done} of its {self.laps} laps: it never left, no successor "
                       f"announced itself (does a node name {me} as its predecessor?)")
        elif self.laps and not self.jeton and self.received["TOKEN"] == 0:
            out.append("this node never received the token (automatic mode): is the jeton node running, and does "
                       "every node name its real predecessor?")
        if self.queued:
            listed = ", ".join(f"to {d}: {json.dumps(t, ensure_ascii=False)}" for d, t in self.queued)
            out.append(f"{len(self.queued)} message(s) queued for the token were never sent, the token never came "
                       f"({listed})")
        if self.outbox:
            out.append(f"{len(self.outbox)} message(s) for our successor were never sent: no node announced itself "
                       f"(does a node name {me} as its predecessor?)")
        return out

    def render(self, verb):
        """The node in a few lines, as reparti's `state` and summary write it."""
        token = ("holds" if self.has_token else "does not hold") + " the token" + \
            (" (the jeton node)" if self.jeton else "")
        mode = (f"automatic mode, {self.laps_done} of {self.laps} laps" if self.jeton else "automatic mode") \
            if self.laps else "manual mode"
        succ = self.successor[0] if self.successor else "not announced yet"
        answered = "" if not self.awaiting_pred else " (has not answered yet)"
        out = (f"node {self.me} {verb}: {token}, {mode}; predecessor {self.pred[1]}{answered}, successor {succ}; "
               f"lamport {self.lamport}\n  tokens: {self.received['TOKEN']} received, {self.sent['TOKEN']} passed; "
               f"texts: {self.originated} originated, {len(self.delivered)} delivered here, {self.relayed} relayed, "
               f"{len(self.undeliverable)} came back")
        waiting = len(self.outbox) + int(self.release_pending)
        if self.queued or waiting:
            out += f"\n  waiting: {len(self.queued)} for the token, {waiting} for the successor"
        dropped = sum(self.dropped.values())
        return out + ("\n  dropped: none" if not dropped else
                      f"\n  dropped: {dropped} ({self.dropped['key']} not opening with our key, "
                      f"{self.dropped['malformed']} malformed, {self.dropped['misaddressed']} addressed to another "
                      f"port, {self.dropped['duplicate_token']} duplicate tokens, {self.dropped['circling']} circling)")

    def summary(self):
        """The same fields as `reparti node token-ring LOCAL PREV --json`."""
        return {"port": self.me, "addr": self.addr, "predecessor": self.pred[1], "jeton": self.jeton,
                "laps": self.laps or None,
                "state": {"has_token": self.has_token,
                          "successor": self.successor[0] if self.successor else None,
                          "predecessor_answered": not self.awaiting_pred, "laps_done": self.laps_done,
                          "lamport": self.lamport,
                          "queued": [{"dest": d, "text": t} for d, t in self.queued],
                          "waiting_for_successor": len(self.outbox) + int(self.release_pending)},
                "sent": self.sent, "received": self.received, "originated": self.originated,
                "relayed": self.relayed, "delivered": self.delivered, "undeliverable": self.undeliverable,
                "dropped": self.dropped, "send_errors": self.send_errors, "problems": self.problems()}


def read_console(lines):
    """The console thread: send and receive run at the same time (TP3). None marks the end of input."""
    for line in sys.stdin:
        lines.put(line)
    lines.put(None)


def lab_addr(text, what, ap):
    host, _, port = text.strip().rpartition(":")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        ap.error(f"{what} {text!r} is not a port (1..65535) or HOST:PORT")
    return (host.strip("[]") or "127.0.0.1", int(port))


def run_lab(args, ap):
    local = lab_addr(args.lab[0], "PORT_LOCAL", ap)
    pred = lab_addr(args.lab[1], "PORT_PREV", ap)
    jeton = len(args.lab) == 3
    sends = []
    for spec in args.send:
        dest, _, text = spec.partition(":")
        if not dest.strip().isdigit() or not 1 <= int(dest) <= 65535 or int(dest) == local[1] or not text:
            ap.error(f"--send {spec!r}: write PORT:TEXT with another node's port, e.g. 5003:bonjour")
        sends.append((int(dest), text))
    fernet = load_fernet(args.key_file) if args.key_file else None
    family = socket.AF_INET6 if ":" in local[0] else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.bind(local)
    except OSError as e:  # the sheet: bind wrapped in error handling, a clear message, exit
        print(f"error: cannot bind UDP {local[0]}:{local[1]}: {e}: pick another port, or stop what holds it",
              file=sys.stderr)
        sys.exit(2)
    node = LabNode(sock, local[1], pred, jeton=jeton, laps=args.laps or None, fernet=fernet)
    console = None
    if args.interactive or sys.stdin.isatty():
        console = queue.Queue()
        threading.Thread(target=read_console, args=(console,), daemon=True).start()
    node.run(sends, console, args.idle_ms / 1000)
    summary = node.summary()
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    for problem in summary["problems"]:
        print(f"error: {problem}", file=sys.stderr, flush=True)
    sys.exit(1 if summary["problems"] else 0)



def load_fernet(path):
    if Fernet is None:
        sys.exit("--key-file needs the cryptography package: pip install cryptography")
    try:
        with open(path, "rb") as f:
            return Fernet(f.read().strip())
    except (OSError, ValueError) as e:
        sys.exit(f"cannot use key file {path}: {e} (make one with `reparti keygen -o {path}`)")


def parse_addr(text):
    host, _, port = text.strip().rpartition(":")
    return (host or "127.0.0.1", int(port))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("lab", nargs="*", help="lab shape: PORT_LOCAL PORT_PREV [jeton]")
    ap.add_argument("--me", type=int, help="this node's position in --peers")
    ap.add_argument("--peers", help="every node's HOST:PORT in position order, ours included")
    ap.add_argument("--key-file", help="Fernet key file (reparti keygen -o K): encrypt every datagram")
    ap.add_argument("--holder", type=int, default=0, help="the node that starts with the token")
    ap.add_argument("--laps", type=int, help="laps before the token rests at the holder [default: 2; "
                    "lab shape: none, the console's `release` moves the token]")
    ap.add_argument("--send", nargs="+", action="extend", default=[], metavar="DEST:TEXT")
    ap.add_argument("--idle-ms", type=int, default=1500, help="stop after this long with nothing received "
                    "(lab shape: once the console, if any, has closed)")
    ap.add_argument("--start-delay-ms", type=int, default=500, help="wait for the others to bind, as reparti does")
    ap.add_argument("--interactive", action="store_true", help="lab shape: read console commands from stdin "
                    "even when it is not a terminal")
    args = ap.parse_intermixed_args(argv)
    if min(args.laps or 0, args.idle_ms, args.start_delay_ms) < 0:
        ap.error("--laps, --idle-ms and --start-delay-ms cannot be negative")
    if args.lab and args.me is None and args.peers is None:
        if len(args.lab) in (2, 3) and [w.lower() for w in args.lab[2:]] in ([], ["jeton"], ["token"]):
            return run_lab(args, ap)
        ap.error("the lab shape is PORT_LOCAL PORT_PREV [jeton], e.g. 5001 5003 jeton")
    if args.laps is None:
        args.laps = 2
    try:
        if args.peers is not None and args.me is not None and not args.lab:
            peers = [parse_addr(p) for p in args.peers.split(",")]
            n, me, holder = len(peers), args.me, args.holder
            if not 0 <= me < n:
                ap.error(f"--me {me} is out of range: --peers lists {n} nodes")
            local, next_id, next_addr = peers[me], (me + 1) % n, peers[(me + 1) % n]
        else:
            ap.error("give --me and --peers, or PORT_LOCAL PORT_PREV [jeton]")
        sends = [(int(dest), text) for dest, _, text in (s.partition(":") for s in args.send)]
    except ValueError as e:
        ap.error(f"a port, position or destination is not a number: {e}")
    fernet = load_fernet(args.key_file) if args.key_file else None
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(local)
    except OSError as e:
        sys.exit(f"cannot bind UDP {local[0]}:{local[1]}: {e}")
    node = RingNode(me, sock, next_id, next_addr, n=n, holder=holder, laps=args.laps, fernet=fernet)
    print(f"node {me} on {local[0]}:{local[1]}, successor {next_id} at {next_addr[0]}:{next_addr[1]}", flush=True)
    time.sleep(args.start_delay_ms / 1000)
    node.start()
    for dest, text in sends:
        node.request_send(dest, text)
    node.run(args.idle_ms / 1000)
    print(json.dumps(node.summary()), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
