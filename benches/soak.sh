#!/usr/bin/env bash
# Memory over millions of sessions: one long-lived process of the library
# server and one of the ceiling, each loaded with the router workload in
# back-to-back runs; the RSS after each run shows whether a session leaves
# anything behind (a leak of even one byte per session grows by the run's
# session count in bytes; settling allocators grow less each run).
#
# Usage: benches/soak.sh [RUNS] [SECONDS_PER_RUN]    (default 6 runs of 30 s)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-6}
secs=${2:-30}
cargo build --quiet --release -p agi-bench
. benches/common.sh
running=
trap 'kill $running 2>/dev/null || true' EXIT

for server in lib raw; do
    port=4641
    [ $server = raw ] && port=4642
    taskset -c 1 "$bench" serve-$server 127.0.0.1:$port >/dev/null 2>&1 &
    running=$!
    wait_started $running $port
    total=0
    for run in $(seq "$runs"); do
        line=$(taskset -c 0 "$bench" fastagi 127.0.0.1:$port --workload router --conns 256 --seconds "$secs" --pid $running --label "$server")
        read -r total errors rss < <(awk -v total=$total -v secs="$secs" "$awk_val"'
            { printf "%d %d %d\n", total + val($0, "sessions/s") * secs, val($0, "errors"), val($0, "rss") }' <<<"$line")
        echo "$server run $run: about $total sessions so far, errors=$errors rss=${rss}KiB"
    done
    stop $running
done
