#!/usr/bin/env python3
"""One node of a token ring (TP3) that speaks reparti's wire format (docs/PROTOCOL.md).

It behaves like a `reparti node token-ring` node, so it can take any position in a
ring of reparti nodes (crates/reparti-algos/src/communication/token_ring.rs):

    python3 token_ring_node.py --me 2 --peers 127.0.0.1:5000,127.0.0.1:5001,127.0.0.1:5002 \
        [--key-file K] [--holder 0] [--laps 2] [--send 0:hello ...] [--idle-ms 1500]

The lab's own shape (TP3: `node.py port_local port_next [jeton]`) runs a ring of these
Python nodes only; a node is then named by its port, and so are destinations:

    python3 token_ring_node.py 5000 5001 jeton --send 5002:hello

Each node sends only to its successor. The token starts at `holder`; whoever gets it
originates its queued messages, then passes it on. `holder` counts the laps and keeps
the token after `laps` of them (0: never passes it on). Data not addressed to us is
relayed with one hop more. Clocks follow TP6, as reparti applies them
(crates/reparti-core/src/clock.rs). After --idle-ms with nothing received the node
prints a summary as one JSON line, always the last line of its output.

Standard library only; `cryptography` (TP8's Fernet) only with --key-file.
"""
import argparse
import json
import socket
import sys
import time

try:
    from cryptography.fernet import Fernet, InvalidToken
except ImportError:  # only --key-file needs it
    Fernet = InvalidToken = None

MAX_DATAGRAM = 64 * 1024
VECTOR_LIMIT = 64  # reparti keeps vector clocks only up to 64 nodes
LAB_MAX_HOPS = 256  # lab shape: the ring's size is unknown, so cap how far a message travels
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
        self.n = n  # None in the lab shape, where nobody knows the ring's size
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
        return origin == self.me or hops >= LAB_MAX_HOPS  # lab shape: back home, nobody took it

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

    def summary(self):
        return {"me": self.me, "tokens_received": self.tokens_received, "tokens_sent": self.tokens_sent,
                "delivered": self.delivered, "data_sent": self.data_sent, "data_received": self.data_received,
                "dropped": self.dropped, "has_token": self.has_token, "lamport": self.clocks.lamport,
                "vc": self.clocks.vc}


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
    ap.add_argument("lab", nargs="*", help="lab shape: PORT_LOCAL PORT_NEXT [jeton]")
    ap.add_argument("--me", type=int, help="this node's position in --peers")
    ap.add_argument("--peers", help="every node's HOST:PORT in position order, ours included")
    ap.add_argument("--key-file", help="Fernet key file (reparti keygen -o K): encrypt every datagram")
    ap.add_argument("--holder", type=int, default=0, help="the node that starts with the token")
    ap.add_argument("--laps", type=int, default=2, help="laps before the token rests at the holder")
    ap.add_argument("--send", nargs="+", action="extend", default=[], metavar="DEST:TEXT")
    ap.add_argument("--idle-ms", type=int, default=1500, help="stop after this long with nothing received")
    ap.add_argument("--start-delay-ms", type=int, default=500, help="wait for the others to bind, as reparti does")
    args = ap.parse_intermixed_args(argv)
    if min(args.laps, args.idle_ms, args.start_delay_ms) < 0:
        ap.error("--laps, --idle-ms and --start-delay-ms cannot be negative")
    try:
        if args.peers is not None and args.me is not None and not args.lab:
            peers = [parse_addr(p) for p in args.peers.split(",")]
            n, me, holder = len(peers), args.me, args.holder
            if not 0 <= me < n:
                ap.error(f"--me {me} is out of range: --peers lists {n} nodes")
            local, next_id, next_addr = peers[me], (me + 1) % n, peers[(me + 1) % n]
        elif len(args.lab) in (2, 3) and args.lab[2:] in ([], ["jeton"]):
            n, me, next_id = None, int(args.lab[0]), int(args.lab[1])
            holder = me if args.lab[2:] else None
            local, next_addr = ("127.0.0.1", me), ("127.0.0.1", next_id)
        else:
            ap.error("give --me and --peers, or PORT_LOCAL PORT_NEXT [jeton]")
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
