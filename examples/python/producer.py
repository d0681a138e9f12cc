#!/usr/bin/env python3
"""A TP5 producer in Python, written the sheet's way, that joins a reparti consumer.

    python3 producer.py PORT CONSUMER_PORT --nodes N [--items 1,2,3] [--registry BDD.txt]
        [--key-file K] [--quota Q] [--interactive] [--wait-ms 60000]

It is one producer of `producer-consumer` (crates/reparti-algos/src/communication/
producer_consumer.rs) among the nodes that `reparti node producer-consumer PORT consumer
--nodes N` (the consumer) and `reparti node producer-consumer PORT CONSUMER_PORT --nodes N`
(producers) start. Like them it registers its port in TP4's registry file (BDD.txt, one
`HOST:PORT` a line, changed under an exclusive flock), waits until the file lists N
members, the consumer among them, and takes its position the way they do: the consumer
is 0, the producers follow by port. It then speaks reparti's JSON wire format
(docs/PROTOCOL.md), Fernet-sealed with --key-file (TP8).

TP5 exercise 2, the sheet's way: three threads share a `threading.Event`.
* the reader thread takes items from the console (`produce 42`, or just `42`; the
  --items are queued before anything else starts) and queues them; an item queued
  without the token prints "waiting for the token";
* the sender thread is blocked on the Event until the token arrives; then it writes the
  queued items one at a time into the consumer's memory (DATA, answered ACK, or FULL:
  "memory full", then it waits for RESUME), at most --quota per visit, and passes the
  token on, clearing the Event;
* the network thread receives: TOKEN sets the Event ("token: sending 3 waiting items";
  with nothing queued it passes the token straight on), ACK/FULL/RESUME release the
  sender, and every numbered message is acknowledged, so that reparti's reliable layer
  (on by default) stops retransmitting it.

Clocks: a Lamport clock by TP6's rules (a send adds 1 and stamps, a receive takes the
maximum plus 1); no vector clock is sent, which reparti accepts. `quit` (or the end of
the console's input) stops the node once it no longer holds the token; it removes its
line from the file and prints one JSON summary, always the last line of its output.

Standard library only; `cryptography` only with --key-file.
"""
import argparse
import collections
import fcntl
import ipaddress
import json
import socket
import sys
import threading
import time

try:
    from cryptography.fernet import Fernet, InvalidToken
except ImportError:  # only --key-file needs it
    Fernet = InvalidToken = None
CRYPTO_ERRORS = (InvalidToken,) if InvalidToken else ()

MAX_DATAGRAM = 64 * 1024
FERNET_TTL = 60  # seconds, as reparti checks it
CONSUMER = 0  # the consumer's position


def say(text):
    print(text, flush=True)


# --- the registry (TP4's BDD.txt), as reparti reads and writes it --------------------

def parse_line(line):
    """`HOST:PORT`, or a bare port on 127.0.0.1; None for blanks, comments and junk."""
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    host, _, port = line.rpartition(":")
    try:
        port = int(port)
        ip = ipaddress.ip_address(host.strip("[]") or "127.0.0.1")
    except ValueError:
        return None
    return (str(ip), port) if 0 < port < 65536 else None


class Registry:
    """The file, read and changed only under an exclusive lock (the same flock as reparti)."""

    def __init__(self, path):
        self.path = path

    def _locked(self, change):
        with open(self.path, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes
            f.seek(0)
            lines = f.read().splitlines()
            new = change(lines)
            if new is not None:
                f.seek(0)
                f.truncate()
                f.write("".join(line + "\n" for line in new))
            return [a for a in dict.fromkeys(parse_line(line) for line in (new or lines)) if a]

    def join(self, me):
        """Adds our line, dropping the lines whose port nobody holds (a killed node's)."""
        def change(lines):
            kept = []
            for line in lines:
                addr = parse_line(line)
                if addr and addr != me and addr[0] == me[0] and port_is_free(addr):
                    say(f"dropped a stale line of an earlier run: {addr[0]}:{addr[1]}")
                    continue
                kept.append(line)
            if me not in (parse_line(line) for line in kept):
                kept.append(f"{me[0]}:{me[1]}")
            return kept
        return self._locked(change)

    def members(self):
        return self._locked(lambda lines: None)

    def leave(self, me):
        return self._locked(lambda lines: [line for line in lines if parse_line(line) != me])


def port_is_free(addr):
    probe = socket.socket(socket.AF_INET6 if ":" in addr[0] else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.bind(addr)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def positions(members, consumer):
    """The consumer first, then the producers by port, then IP: what every node computes."""
    def key(a):
        ip = ipaddress.ip_address(a[0])
        return (a[1], ip.version, int(ip))
    return [consumer] + sorted((a for a in members if a != consumer), key=key)


def wait_for(registry, me, n, consumer, wait_s):
    deadline, last = time.monotonic() + wait_s, 0
    while True:
        members = registry.members()
        if me not in members:
            sys.exit(f"error: our line {me[0]}:{me[1]} was removed from {registry.path} while we waited")
        if len(members) > n:
            sys.exit(f"error: {registry.path} lists {len(members)} members for --nodes {n}: give this lab its own --registry")
        if len(members) == n:
            if consumer not in members:
                sys.exit(f"error: {registry.path} lists {n} members but not the consumer {consumer[0]}:{consumer[1]}")
            return members
        if len(members) != last:
            say(f"{len(members)} of {n} nodes registered")
            last = len(members)
        if time.monotonic() > deadline:
            sys.exit(f"error: only {len(members)} of {n} nodes registered in {registry.path} within {wait_s:.0f} s")
        time.sleep(0.05)


# --- the producer ----------------------------------------------------------------------

class Producer:
    def __init__(self, sock, me, addrs, quota, fernet=None):
        self.sock, self.me, self.addrs, self.quota, self.fernet = sock, me, addrs, quota, fernet
        self.successor = (me + 1) % len(addrs)
        self.lock = threading.Lock()
        self.token_here = threading.Event()  # the sheet's Event: set while we hold the token
        self.answered = threading.Event()  # ACK or FULL came back
        self.resumed = threading.Event()  # RESUME came back after a FULL
        self.stopping = threading.Event()  # the node stops: every thread returns
        self.quit_asked = threading.Event()  # `quit`, or the console's input ended
        self.queue = collections.deque()  # items typed, not yet stored
        self.lamport = 0
        self.holding = self.awaiting_answer = self.full = self.early_resume = False
        self.produced = self.stored = self.sent_this_visit = 0
        self.tokens_received = self.tokens_sent = self.fulls = self.dropped = 0
        self.seen = {}  # per sender: (highest seq received without a gap, seqs received beyond it)

    # sending (any thread): stamp, encode, seal
    def send(self, to, kind, body):
        with self.lock:
            self.lamport += 1
            env = {"v": 1, "from": self.me, "to": to, "lamport": self.lamport, "type": kind, "body": body}
        self.transmit(to, env)

    def transmit(self, to, env):
        data = json.dumps(env, separators=(",", ":")).encode()
        if self.fernet:
            data = self.fernet.encrypt(data)
        self.sock.sendto(data, self.addrs[to])

    def pass_token(self):
        """Ends our visit: clear the Event (the sender blocks again), send TOKEN on."""
        with self.lock:
            self.holding = False
            self.token_here.clear()
            self.tokens_sent += 1
        self.send(self.successor, "TOKEN", "Token")

    # the reader thread
    def produce(self, value):
        with self.lock:
            self.queue.append(value)
            self.produced += 1
            queued, waiting = len(self.queue), not self.token_here.is_set()
        if waiting:
            say(f"produced {value}: waiting for the token ({queued} item{'s' if queued != 1 else ''} queued)")
        else:
            say(f"produced {value} (we hold the token)")

    # the sender thread: blocked on the Event until the token arrives
    def sender(self):
        while not self.stopping.is_set():
            if not self.token_here.wait(timeout=0.2):
                continue
            with self.lock:
                if not self.holding:
                    continue
                ready = self.queue and self.sent_this_visit < self.quota
                value, seq = (self.queue[0], self.stored) if ready else (None, None)
                self.awaiting_answer = bool(ready)
                self.answered.clear()
            if not ready:
                self.pass_token()
                continue
            self.send(CONSUMER, "DATA", {"Data": {"seq": seq, "value": value}})
            while not self.answered.wait(timeout=0.2):
                if self.stopping.is_set():
                    return
            with self.lock:
                self.queue.popleft()
                self.stored += 1
                self.sent_this_visit += 1
                full = self.full
            say(f"stored {value} (item #{seq})")
            if full:
                say("memory full: waiting until the consumer has emptied it")
                while not self.resumed.wait(timeout=0.2):
                    if self.stopping.is_set():
                        return
                self.resumed.clear()
                say("memory emptied (RESUME): going on")

    # the network thread
    def network(self):
        while not self.stopping.is_set():
            try:
                datagram, src = self.sock.recvfrom(MAX_DATAGRAM + 1024)
            except socket.timeout:
                continue
            except OSError:
                return
            env = self.open(datagram)
            if env is None or "ack" in env:  # acknowledgements of our sends: we number none
                continue
            frm = env.get("from")
            if not isinstance(frm, int) or not 0 <= frm < len(self.addrs) or env.get("to") != self.me:
                self.refuse(f"a datagram from {src[0]}:{src[1]} not for node {self.me} of this lab")
                continue
            if "seq" in env and not self.acknowledge(frm, env["seq"]):
                continue  # a retransmission of what we already have
            with self.lock:
                self.lamport = max(self.lamport, int(env.get("lamport", 0))) + 1
            self.deliver(frm, env.get("type"))

    def acknowledge(self, frm, seq):
        """reparti's reliable layer: a cumulative ack per channel; False for a duplicate."""
        upto, beyond = self.seen.setdefault(frm, (0, set()))
        fresh = isinstance(seq, int) and seq > upto and seq not in beyond
        if fresh:
            beyond.add(seq)
            while upto + 1 in beyond:
                upto += 1
                beyond.discard(upto)
            self.seen[frm] = (upto, beyond)
        self.transmit(frm, {"v": 1, "from": self.me, "to": frm, "ack": upto})
        return fresh

    def deliver(self, frm, kind):
        if kind == "TOKEN":
            with self.lock:
                self.tokens_received += 1
                self.holding = True
                self.sent_this_visit = 0
                waiting = len(self.queue)
                if waiting:
                    self.token_here.set()  # releases the sender thread
            if not waiting:
                self.pass_token()
                return
            sending = min(waiting, self.quota)
            say(f"token: sending {sending} waiting item{'s' if sending != 1 else ''}"
                + (f" of {waiting} (the quota)" if sending < waiting else ""))
        elif kind in ("ACK", "FULL"):
            with self.lock:
                if not self.awaiting_answer:
                    return
                self.awaiting_answer = False
                self.full = kind == "FULL" and not self.early_resume
                self.early_resume = False
                self.fulls += kind == "FULL"
            self.answered.set()
        elif kind == "RESUME":
            with self.lock:
                if self.awaiting_answer:  # it overtook its FULL: remembered, not lost
                    self.early_resume = True
                    return
            self.resumed.set()
        else:
            self.refuse(f"a {kind} from node {frm}, which a producer does not expect")

    def open(self, datagram):
        try:
            if self.fernet:
                datagram = self.fernet.decrypt(datagram, ttl=FERNET_TTL)
            env = json.loads(datagram)
            if not isinstance(env, dict) or env.get("v") != 1:
                raise ValueError("not a version-1 envelope")
            return env
        except CRYPTO_ERRORS:
            self.refuse("a datagram that does not open with our key: check every node uses the same key file")
        except (ValueError, UnicodeDecodeError) as e:
            hint = ": it is a Fernet token, give --key-file" if datagram.startswith(b"gAAAAA") else ""
            self.refuse(f"a datagram that is not reparti's JSON envelope ({e}){hint}")
        return None

    def refuse(self, why):
        with self.lock:
            self.dropped += 1
        print(f"warning: dropped {why}", file=sys.stderr, flush=True)

    def summary(self):
        with self.lock:
            return {"me": self.me, "produced": self.produced, "stored": self.stored, "queued": len(self.queue),
                    "has_token": self.holding, "tokens_received": self.tokens_received,
                    "tokens_sent": self.tokens_sent, "fulls": self.fulls, "dropped": self.dropped,
                    "lamport": self.lamport}


def reader(node):
    """The console: `produce N` (or N), `state`, `help`, `quit`."""
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0].lower() in ("quit", "exit", "fin"):
            break
        if words[0].lower() == "state":
            say(json.dumps(node.summary()))
            continue
        if words[0].lower() == "help":
            say("produce N (or N): queue an item; state; quit")
            continue
        try:
            node.produce(int(words[-1]) if words[0].lower() == "produce" and len(words) == 2 else int(line))
        except ValueError:
            say(f"`{line.strip()}`: type `produce N` with N a whole number, `state` or `quit`")
    node.quit_asked.set()


def load_fernet(path):
    if Fernet is None:
        sys.exit("--key-file needs the cryptography package: pip install cryptography")
    try:
        with open(path, "rb") as f:
            return Fernet(f.read().strip())
    except (OSError, ValueError) as e:
        sys.exit(f"cannot use key file {path}: {e} (make one with `reparti keygen -o {path}`)")


def lab_addr(text, what, ap):
    addr = parse_line(text if ":" in text else f"127.0.0.1:{text}")
    if addr is None:
        ap.error(f"{what} {text!r} is not a port nor HOST:PORT")
    return addr


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("port", help="this producer's UDP port (or HOST:PORT)")
    ap.add_argument("consumer", help="the consumer's port (or HOST:PORT), as the sheet's producer knows it")
    ap.add_argument("--nodes", type=int, required=True, help="how many nodes, the consumer included")
    ap.add_argument("--registry", default="BDD.txt", help="the registry file every node shares [BDD.txt]")
    ap.add_argument("--items", default="", help="items to produce at the start, e.g. 1,2,3")
    ap.add_argument("--quota", type=int, default=1000, help="items written per visit of the token [1000, "
                    "the lab's default: as many as we have]")
    ap.add_argument("--key-file", help="Fernet key file (reparti keygen -o K): encrypt every datagram")
    ap.add_argument("--interactive", action="store_true", help="read items from stdin even when it is not a terminal")
    ap.add_argument("--wait-ms", type=int, default=60000, help="how long to wait for the others in the registry")
    args = ap.parse_args(argv)
    me_addr, consumer = lab_addr(args.port, "PORT", ap), lab_addr(args.consumer, "CONSUMER_PORT", ap)
    if me_addr == consumer:
        ap.error("the second port is the consumer's, not ours")
    if args.nodes < 2 or args.quota < 1:
        ap.error("--nodes must be at least 2 (the consumer and us), --quota at least 1")
    try:
        items = [int(x) for x in args.items.split(",") if x.strip()]
    except ValueError:
        ap.error("--items is a list of whole numbers, e.g. 1,2,3")
    fernet = load_fernet(args.key_file) if args.key_file else None
    sock = socket.socket(socket.AF_INET6 if ":" in me_addr[0] else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(me_addr)
    except OSError as e:
        sys.exit(f"cannot bind UDP {me_addr[0]}:{me_addr[1]}: {e} (pick another port)")
    registry = Registry(args.registry)
    registry.join(me_addr)
    try:
        say(f"producer {me_addr[0]}:{me_addr[1]} for the consumer {consumer[0]}:{consumer[1]}, "
            f"registered in {args.registry} ({args.nodes} nodes expected)")
        order = positions(wait_for(registry, me_addr, args.nodes, consumer, args.wait_ms / 1000), consumer)
        me = order.index(me_addr)
        ports = [str(a[1]) for a in order]
        say(f"consumer {ports[0]}, producers {', '.join(ports[1:])}; the token goes "
            f"{' → '.join(ports)} → {ports[0]} (this node is #{me})")
        node = Producer(sock, me, order, args.quota, fernet)
        # --items are queued before the network thread runs: they certainly wait for the token.
        for value in items:
            node.produce(value)
        sock.settimeout(0.2)
        for job in (node.network, node.sender):
            threading.Thread(target=job, daemon=True).start()
        console = args.interactive or sys.stdin.isatty()
        if console:
            threading.Thread(target=reader, args=(node,), daemon=True).start()
        say("ready: type `produce N` (or N), `state`, `quit`" if console else "ready")
        try:
            while not node.quit_asked.wait(timeout=0.5):
                pass  # (a wait with a timeout lets Ctrl-C through)
            # Quit only once the token has left us: a node that takes it away stops the lab.
            deadline = time.monotonic() + 10
            while node.token_here.is_set() and time.monotonic() < deadline:
                time.sleep(0.05)
        except KeyboardInterrupt:
            pass
        node.stopping.set()
        summary = node.summary()
    finally:
        registry.leave(me_addr)
    print(json.dumps(summary), flush=True)
    problems = []
    if summary["has_token"]:
        problems.append("this producer stopped holding the token: the ring has lost it")
    if summary["queued"]:
        problems.append(f"{summary['queued']} items never reached the consumer")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr, flush=True)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
