#!/usr/bin/env python3
"""A plain heap-based discrete-event simulation of Chang-Roberts, for scale.

The baseline `docs/PERFORMANCE.md` compares reparti's simulator with: the same
election (all nodes initiate, random identities, unidirectional ring) written the way
a lab would write it, with heapq and tuples. Delays are constant (`const:D`) or drawn
uniformly (`uniform:A,B`); channels are FIFO (a message never overtakes an earlier one
on its channel: it arrives no earlier than it) unless `--no-fifo`.

    python3 bench/python_chang_roberts.py 1000000
    python3 bench/python_chang_roberts.py 1000000 --delay uniform:1,10 --no-fifo --json

`reparti bench --compare-python` runs it beside reparti's own measurement.
"""
import argparse
import heapq
import json
import random
import resource
import sys
import time


def parse_delay(text):
    """const:D or uniform:A,B, as reparti spells them: a function drawing one delay."""
    kind, _, args = text.partition(":")
    try:
        values = [float(x) for x in args.split(",")]
    except ValueError:
        values = []
    if kind == "const" and len(values) == 1:
        d = values[0]
        return lambda rng: d
    if kind == "uniform" and len(values) == 2 and values[0] <= values[1]:
        a, b = values
        return lambda rng: rng.uniform(a, b)
    sys.exit(f"python_chang_roberts: bad delay {text!r}: expected const:D or uniform:A,B")


def run(n, seed=1, delay=lambda rng: 1.0, fifo=True):
    rng = random.Random(seed)
    ids = list(range(1, n + 1))
    rng.shuffle(ids)
    participant = [True] * n
    leader = [0] * n
    queue = []  # (time, seq, to, kind, value)
    seq = 0
    # On a ring each node has one outgoing channel: the last arrival time on it.
    last = [0.0] * n
    for i in range(n):
        at = delay(rng)
        if fifo:
            at = max(at, last[i])
            last[i] = at
        heapq.heappush(queue, (at, seq, (i + 1) % n, 0, ids[i]))
        seq += 1
    deliveries = 0
    while queue:
        t, _, node, kind, value = heapq.heappop(queue)
        deliveries += 1
        out = None
        if kind == 0:  # ELECT
            if value > ids[node]:
                out = (0, value)
            elif value == ids[node]:
                out = (1, value)
        elif value != ids[node]:  # ELECTED, not back at the leader
            leader[node] = value
            out = (1, value)
        if out is not None:
            at = t + delay(rng)
            if fifo:
                at = max(at, last[node])
                last[node] = at
            heapq.heappush(queue, (at, seq, (node + 1) % n, out[0], out[1]))
            seq += 1
    return deliveries


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Chang-Roberts on a ring, heapq simulation")
    parser.add_argument("nodes", type=int, nargs="?", default=1000000)
    parser.add_argument("--delay", default="const:1", help="const:D or uniform:A,B")
    parser.add_argument("--no-fifo", action="store_true", help="let messages overtake on a channel")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    draw = parse_delay(args.delay)
    n = args.nodes
    start = time.perf_counter()
    d = run(n, args.seed, draw, not args.no_fifo)
    secs = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if args.json:
        print(json.dumps({"nodes": n, "delay": args.delay, "fifo": not args.no_fifo, "deliveries": d,
                          "seconds": secs, "deliveries_per_sec": d / secs, "peak_rss_bytes": peak}))
    else:
        print(f"python heapq chang-roberts n={n} delay {args.delay}: {d} deliveries in {secs:.2f} s = "
              f"{d / secs / 1e6:.2f} M deliveries/s; peak RSS {peak / 1e6:.0f} MB")
