#!/usr/bin/env python3
"""A plain heap-based discrete-event simulation of Chang-Roberts, for scale.

The baseline `docs/PERFORMANCE.md` compares reparti's simulator with: the same
election (all nodes initiate, random identities, unidirectional ring, constant delay 1)
written the way a lab would write it, with heapq and tuples.

    python3 bench/python_chang_roberts.py 1000000
"""
import heapq
import random
import resource
import sys
import time


def run(n, seed=1):
    rng = random.Random(seed)
    ids = list(range(1, n + 1))
    rng.shuffle(ids)
    participant = [True] * n
    leader = [0] * n
    queue = []  # (time, seq, to, kind, value)
    seq = 0
    for i in range(n):
        heapq.heappush(queue, (1.0, seq, (i + 1) % n, 0, ids[i]))
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
            heapq.heappush(queue, (t + 1.0, seq, (node + 1) % n, out[0], out[1]))
            seq += 1
    return deliveries


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    start = time.perf_counter()
    d = run(n)
    secs = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"python heapq chang-roberts n={n}: {d} deliveries in {secs:.2f} s = {d / secs / 1e6:.2f} M deliveries/s; peak RSS {peak / 1e6:.0f} MB")
