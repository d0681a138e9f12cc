#!/usr/bin/env python3
"""The Python lab node's speed, process per node, to compare with bench/c_ring.c.

    python3 bench/python_ring.py ring N SECONDS [--key-file K]   N processes pass the token
    python3 bench/python_ring.py oneway SECONDS [--key-file K]   one sends as fast as it can, one counts

Every hop runs examples/python/token_ring_node.py's own code (imported, not copied):
decrypt when keyed, decode and check the JSON envelope, merge the clocks, pass the token
on (tick, encode, encrypt, sendto). The output is one JSON line in c_ring's format, with
"impl":"python" and "encrypted". The parent binds every socket before forking; the
children start at an agreed instant, stop on a SIGALRM at the deadline, and die with
the parent (PR_SET_PDEATHSIG on Linux).
"""
import argparse
import ctypes
import json
import multiprocessing
import os
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True  # leave no __pycache__ in examples/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "python"))
from token_ring_node import RingNode, load_fernet  # noqa: E402  (needs the path above)

START_DELAY_S = 0.5  # time to fork every child before the run starts
DRAIN_S = 0.2  # oneway: the receiver reads what is still queued at the deadline
NEVER = 2**62  # laps: the holder never keeps the token, it circulates until the deadline
PR_SET_PDEATHSIG = 1


class TimeUp(Exception):
    """Raised by the SIGALRM handler: it interrupts a blocked recvfrom too."""


def die_with_parent(parent_pid):
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (AttributeError, OSError):
        pass  # not Linux: the deadline alone ends the child
    if os.getppid() != parent_pid:
        os._exit(1)  # the parent died before prctl took effect


def wait_start_arm_deadline(start, deadline):
    time.sleep(max(0.0, start - time.monotonic()))

    def time_up(signum, frame):
        raise TimeUp()

    signal.signal(signal.SIGALRM, time_up)
    signal.setitimer(signal.ITIMER_REAL, max(1e-6, deadline - time.monotonic()))


def ring_child(me, socks, addrs, key_file, start, deadline, parent_pid, results):
    die_with_parent(parent_pid)
    n = len(socks)
    fernet = load_fernet(key_file) if key_file else None
    node = RingNode(me, socks[me], (me + 1) % n, addrs[(me + 1) % n], n=n, holder=0, laps=NEVER, fernet=fernet)
    wait_start_arm_deadline(start, deadline)
    try:
        node.start()  # the holder sends the first token
        while True:
            datagram, _ = node.sock.recvfrom(65536)
            node.on_datagram(datagram)
    except TimeUp:
        pass
    results.put((me, node.tokens_received))


def oneway_child(me, socks, addrs, key_file, start, deadline, parent_pid, results):
    die_with_parent(parent_pid)
    fernet = load_fernet(key_file) if key_file else None
    # Node 1 sends tokens to node 0, which only receives: decode, check, merge the clocks.
    node = RingNode(me, socks[me], 1 - me, addrs[1 - me], n=2, holder=None, laps=NEVER, fernet=fernet)
    count = 0
    try:
        if me == 0:
            wait_start_arm_deadline(start, deadline + DRAIN_S)
            while True:
                datagram, _ = node.sock.recvfrom(65536)
                if node.receive(datagram) is not None:
                    count += 1
        else:
            wait_start_arm_deadline(start, deadline)
            while True:
                node.pass_token()
                count += 1
    except TimeUp:
        pass
    results.put((me, count))


def run_children(n, seconds, child, key_file):
    """Runs `child` in n processes; their counts, by position."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    addrs = [s.getsockname() for s in socks]
    ctx = multiprocessing.get_context("fork")  # the children inherit the bound sockets
    results = ctx.SimpleQueue()
    start = time.monotonic() + START_DELAY_S
    deadline = start + seconds
    args = (socks, addrs, key_file, start, deadline, os.getpid(), results)
    procs = [ctx.Process(target=child, args=(i,) + args) for i in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=START_DELAY_S + seconds + DRAIN_S + 10)
        if p.is_alive():
            p.kill()
            p.join()
    counts = [0] * n
    while not results.empty():
        who, count = results.get()
        counts[who] = count
    failed = [(i, p.exitcode) for i, p in enumerate(procs) if p.exitcode != 0]
    if failed:
        sys.exit(f"python_ring: children failed (position, exit code; negative: killed by that signal): {failed}")
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["ring", "oneway"])
    ap.add_argument("numbers", nargs="+", type=float, help="ring: N SECONDS; oneway: SECONDS")
    ap.add_argument("--key-file", help="encrypt every datagram with this Fernet key")
    args = ap.parse_args()
    encrypted = args.key_file is not None
    if args.key_file:
        load_fernet(args.key_file)  # fail here, with a clear message, rather than in every child
    if args.mode == "ring":
        if len(args.numbers) != 2 or args.numbers[0] < 2 or args.numbers[1] <= 0:
            ap.error("ring needs N >= 2 and SECONDS > 0")
        n, seconds = int(args.numbers[0]), args.numbers[1]
        hops = sum(run_children(n, seconds, ring_child, args.key_file))
        out = {"impl": "python", "mode": "ring", "n": n, "encrypted": encrypted, "hops": hops, "seconds": seconds,
               "hops_per_s": round(hops / seconds), "us_per_hop": round(seconds * 1e6 / hops, 2) if hops else 0}
    else:
        if len(args.numbers) != 1 or args.numbers[0] <= 0:
            ap.error("oneway needs SECONDS > 0")
        seconds = args.numbers[0]
        received, sent = run_children(2, seconds, oneway_child, args.key_file)
        out = {"impl": "python", "mode": "oneway", "encrypted": encrypted, "seconds": seconds, "sent": sent,
               "received": received, "sent_per_s": round(sent / seconds), "received_per_s": round(received / seconds),
               "loss": round(1 - received / sent, 4) if sent else 0}
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
