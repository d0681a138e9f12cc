#!/usr/bin/env bash
# Regenerates every picture of docs/COURSE.md with reparti itself.
#   bash docs/img/make.sh        (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q
R=target/release/reparti
T=$(mktemp -d)
out=docs/img

$R topo token-ring --nodes 6 -o $out/topology-ring.svg >/dev/null
$R topo franklin --nodes 6 -o $out/topology-bidir-ring.svg >/dev/null
$R topo ricart-agrawala --nodes 5 -o $out/topology-complete.svg >/dev/null

$R sim scenarios/tp3-token-ring.toml --trace $T/tp3.jsonl >/dev/null
$R viz $T/tp3.jsonl -o $out/tp3-token-ring.svg >/dev/null
$R sim scenarios/producer-consumer-full.toml --trace $T/tp5.jsonl >/dev/null
$R viz $T/tp5.jsonl -o $out/tp5-producer-consumer.svg >/dev/null
$R sim scenarios/time-clocks.toml --trace $T/clocks.jsonl >/dev/null
$R viz $T/clocks.jsonl -o $out/time-clocks.svg >/dev/null
$R sim scenarios/mutex-ricart-agrawala.toml --trace $T/ra.jsonl >/dev/null
$R viz $T/ra.jsonl -o $out/mutex-ricart-agrawala.svg >/dev/null
$R sim scenarios/mutex-lamport.toml --trace $T/lm.jsonl >/dev/null
$R viz $T/lm.jsonl -o $out/mutex-lamport.svg >/dev/null
$R check lamport-mutex --nodes 2 --network unordered -p requests=1 --trace $T/lmcx.jsonl >/dev/null 2>&1 || true
$R viz $T/lmcx.jsonl -o $out/check-lamport-mutex-unordered.svg >/dev/null
$R sim scenarios/election-chang-roberts-worst.toml --trace $T/crw.jsonl >/dev/null
$R viz $T/crw.jsonl -o $out/election-chang-roberts-worst.svg >/dev/null
$R sim scenarios/tp7-chang-roberts-lab.toml --trace $T/tp7.jsonl >/dev/null
$R viz $T/tp7.jsonl -o $out/tp7-chang-roberts-lab.svg >/dev/null
$R sim scenarios/communication-token-loss.toml --trace $T/loss.jsonl >/dev/null || true
$R viz $T/loss.jsonl -o $out/communication-token-loss.svg >/dev/null
$R check scenarios/check-franklin-broken.toml --trace $T/cx.jsonl >/dev/null || true
$R viz $T/cx.jsonl -o $out/check-franklin-counterexample.svg >/dev/null

$R eval chang-roberts --nodes 4..256 --runs 20 -o $out/eval-chang-roberts.svg >/dev/null
$R eval franklin --nodes 4..256 --runs 20 -o $out/eval-franklin.svg >/dev/null
$R eval producer-consumer --nodes 2..64 --runs 5 -o $out/eval-producer-consumer.svg >/dev/null
$R sim scenarios/communication-credit-flow.toml --trace $T/cf.jsonl >/dev/null
$R viz $T/cf.jsonl -o $out/communication-credit-flow.svg >/dev/null
$R check scenarios/check-credit-ring-broken.toml --trace $T/crcx.jsonl >/dev/null 2>&1 || true
$R viz $T/crcx.jsonl -o $out/check-credit-ring-broken.svg >/dev/null
$R eval credit-flow --nodes 2..64 -p buffer=128 -p batch=4 --runs 5 -o $out/eval-credit-flow.svg >/dev/null
$R eval credit-ring --nodes 2..64 -p buffer=128 --runs 5 -o $out/eval-credit-ring.svg >/dev/null
$R sim scenarios/communication-rendezvous.toml --trace $T/rdv.jsonl >/dev/null
$R viz $T/rdv.jsonl -o $out/communication-rendezvous.svg >/dev/null
$R sim scenarios/communication-rendezvous-symmetric.toml --trace $T/rdvs.jsonl >/dev/null
$R viz $T/rdvs.jsonl -o $out/communication-rendezvous-symmetric.svg >/dev/null
$R check scenarios/check-rendezvous-naive.toml --trace $T/rdvcx.jsonl >/dev/null 2>&1 || true
$R viz $T/rdvcx.jsonl -o $out/check-rendezvous-naive.svg >/dev/null
$R eval rendezvous --nodes 2..64 -p choice=3 --runs 5 -o $out/eval-rendezvous.svg >/dev/null
$R eval rendezvous-symmetric --nodes 2..64 -p choice=3 --runs 5 -o $out/eval-rendezvous-symmetric.svg >/dev/null
$R sim scenarios/communication-credit-allocator.toml --trace $T/ca.jsonl >/dev/null
$R viz $T/ca.jsonl -o $out/communication-credit-allocator.svg >/dev/null
$R eval credit-allocator --nodes 2..64 -p buffer=32 -p ask=4 --runs 5 -o $out/eval-credit-allocator.svg >/dev/null
$R eval credit-flow credit-allocator credit-ring producer-consumer --nodes 2,3,4,6,8,12,16 -p buffer=16 -p items=6 --delay uniform:0.5,1.5 --runs 10 --per consumed --since produced -o $out/eval-flow-control.svg >/dev/null
$R sim scenarios/communication-fifo-layer.toml --trace $T/fifo.jsonl >/dev/null
$R viz $T/fifo.jsonl -o $out/communication-fifo-layer.svg >/dev/null
$R check scenarios/check-fifo-stream-unordered.toml --trace $T/fscx.jsonl >/dev/null 2>&1 || true
$R viz $T/fscx.jsonl -o $out/check-fifo-stream-unordered.svg >/dev/null
$R eval lamport-mutex+fifo --nodes 2..32 --runs 5 -p fifo_window=4 -o $out/eval-lamport-mutex-fifo.svg >/dev/null
$R sim scenarios/mutex-carvalho-roucairol.toml --trace $T/cr.jsonl >/dev/null
$R viz $T/cr.jsonl -o $out/mutex-carvalho-roucairol.svg >/dev/null
$R check scenarios/check-carvalho-roucairol-broken.toml --trace $T/crcx.jsonl >/dev/null 2>&1 || true
$R viz $T/crcx.jsonl -o $out/check-carvalho-roucairol-broken.svg >/dev/null
$R eval carvalho-roucairol --nodes 2..32 -o $out/eval-carvalho-roucairol.svg >/dev/null
$R sim scenarios/mutex-suzuki-kasami.toml --trace $T/sk.jsonl >/dev/null
$R viz $T/sk.jsonl -o $out/mutex-suzuki-kasami.svg >/dev/null
$R check scenarios/check-suzuki-kasami-broken.toml --trace $T/skcx.jsonl >/dev/null 2>&1 || true
$R viz $T/skcx.jsonl -o $out/check-suzuki-kasami-broken.svg >/dev/null
$R eval suzuki-kasami --nodes 2..32 -o $out/eval-suzuki-kasami.svg >/dev/null
$R sim scenarios/mutex-raymond.toml --trace $T/ry.jsonl >/dev/null
$R viz $T/ry.jsonl -o $out/mutex-raymond.svg >/dev/null
$R check scenarios/check-raymond-broken.toml --trace $T/rycx.jsonl >/dev/null 2>&1 || true
$R viz $T/rycx.jsonl -o $out/check-raymond-broken.svg >/dev/null
$R eval raymond --nodes 2..32 -o $out/eval-raymond.svg >/dev/null
$R eval raymond suzuki-kasami ricart-agrawala --nodes 2,4,8,16,32 --per enter_cs --runs 5 -o $out/eval-raymond-per-cs.svg >/dev/null
$R eval raymond --nodes 31 --per enter_cs --runs 10 --vary load=0.01,0.03,0.1,0.3,1,3,10 -o $out/eval-raymond-load.svg >/dev/null
$R sim scenarios/mutex-token-ring.toml --trace $T/trm.jsonl >/dev/null
$R viz $T/trm.jsonl -o $out/mutex-token-ring.svg >/dev/null
$R check scenarios/check-token-ring-mutex-broken.toml --trace $T/trmcx.jsonl >/dev/null 2>&1 || true
$R viz $T/trmcx.jsonl -o $out/check-token-ring-mutex-broken.svg >/dev/null
$R eval token-ring-mutex --nodes 2..32 -o $out/eval-token-ring-mutex.svg >/dev/null
$R eval token-ring-mutex suzuki-kasami ricart-agrawala --nodes 8 --per enter_cs --since request --vary load=0.05,0.2,0.5,1,2 -p requests=10 --runs 5 -o $out/eval-token-ring-mutex-load.svg >/dev/null
$R sim scenarios/mutex-maekawa.toml --trace $T/mk.jsonl >/dev/null
$R viz $T/mk.jsonl -o $out/mutex-maekawa.svg >/dev/null
$R check scenarios/check-maekawa-deadlock.toml --trace $T/mkcx.jsonl >/dev/null 2>&1 || true
$R viz $T/mkcx.jsonl -o $out/check-maekawa-deadlock.svg >/dev/null
$R eval maekawa --nodes 2..16 -o $out/eval-maekawa.svg >/dev/null
$R eval ricart-agrawala lamport-mutex carvalho-roucairol suzuki-kasami raymond maekawa token-ring-mutex --per enter_cs --since request --nodes 2..64 --runs 3 -o $out/eval-mutex-compare.svg >/dev/null
$R eval ricart-agrawala lamport-mutex carvalho-roucairol suzuki-kasami raymond maekawa token-ring-mutex --per enter_cs --since request --nodes 8 --vary load=0.05,0.1,0.2,0.5,1,2 -p requests=10 --runs 3 -o $out/eval-mutex-load.svg >/dev/null
# The time chapter: physical clocks and synchronizer α.
$R sim scenarios/time-cristian.toml --plot $out/time-cristian-skew.svg >/dev/null
$R sim scenarios/time-berkeley.toml --plot $out/time-berkeley-skew.svg >/dev/null
$R sim scenarios/time-ntp.toml --plot $out/time-ntp-skew.svg >/dev/null
$R sim scenarios/time-lamport-physical.toml --plot $out/time-lamport-physical-skew.svg >/dev/null
$R eval berkeley --precision drift=10,30,100,300,1000 --runs 5 -o $out/eval-berkeley-precision.svg >/dev/null
$R eval ntp --precision jitter=0.25,0.5,1,2,4,8 --runs 5 -o $out/eval-ntp-precision.svg >/dev/null
$R sim scenarios/time-bfs-alpha.toml --trace $T/bfsa.jsonl >/dev/null
$R viz $T/bfsa.jsonl -o $out/time-bfs-alpha.svg >/dev/null
$R check scenarios/check-alpha-early-safe.toml --trace $T/bfsacx.jsonl >/dev/null 2>&1 || true
$R viz $T/bfsacx.jsonl -o $out/check-alpha-early-safe.svg >/dev/null
$R eval bfs-alpha --nodes 4..64 --runs 3 -o $out/eval-bfs-alpha.svg >/dev/null
# Shared memory: Ivy's faults, local reads over replicated copies, the checker's stale read.
$R sim scenarios/memory-ivy.toml --trace $T/ivy.jsonl >/dev/null
$R viz $T/ivy.jsonl -o $out/memory-ivy.svg >/dev/null
$R sim scenarios/memory-stale-read.toml --trace $T/mlr.jsonl --history $T/mlr-history.jsonl >/dev/null
$R viz $T/mlr.jsonl -o $out/memory-local-reads.svg >/dev/null
$R lin $T/mlr-history.jsonl -o $out/lin-local-reads.svg >/dev/null || true
$R check scenarios/check-memory-local-reads.toml --trace $T/mlrcx.jsonl >/dev/null 2>&1 || true
$R viz $T/mlrcx.jsonl -o $out/check-memory-local-reads.svg >/dev/null
$R eval single-copy ivy li-hudak tob-sequencer tob-lamport --per ret --since call -n 3,4,5,6,8 --runs 10 -o $out/eval-memory.svg >/dev/null
rm -rf "$T"
echo "pictures written to $out"

# Chapter 8: self-stabilization.
$R sim dijkstra-k-state -n 8 --seed 3 --corrupt 3@40 --plot $out/selfstab-k-state.svg >/dev/null
$R sim ss-bfs-tree --topology grid -n 16 --daemon synchronous --partition 10,11,14,15@20..60 --plot $out/selfstab-bfs-partition.svg >/dev/null
$R eval dijkstra-k-state -o $out/eval-dijkstra-k-state.svg >/dev/null
