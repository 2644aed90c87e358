#!/usr/bin/env bash
# User-space instructions per FastAGI session, library server against the
# hand-written ceiling, counted by valgrind's callgrind. Counts repeat for the
# same binaries and inputs whatever else the machine does, so they show
# changes of a percent that the CPU-time figures of load.sh cannot. They
# leave out the kernel (about 85 % of a session's CPU time here, the same
# system calls for both servers) and cache misses.
#
# Each server runs under callgrind for N and for 2N sessions; the difference
# over N is the cost of one session, start-up excluded.
#
# Usage: benches/instructions.sh [N]    (needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
command -v valgrind >/dev/null || { echo "instructions.sh needs valgrind" >&2; exit 1; }
cargo build --quiet --release -p agi-bench
bench=target/release/agi-bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

count() { # server workload sessions port -> total instructions of the server
    local port=$4 file="$out/callgrind.out"
    rm -f "$file"
    valgrind --tool=callgrind --callgrind-out-file="$file" "$bench" "serve-$1" 127.0.0.1:"$port" >/dev/null 2>&1 &
    local pid=$!
    # The probe is one empty connection: the same in both runs, so it cancels.
    for _ in $(seq 400); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null || { echo "serve-$1 did not start on port $port" >&2; exit 1; }
    local line
    line=$("$bench" fastagi 127.0.0.1:"$port" --workload "$2" --conns 16 --seconds 3600 --sessions "$3" --label "$1")
    case $line in *" errors=0 "*) ;; *) echo "load errors: $line" >&2; kill "$pid"; exit 1 ;; esac
    kill "$pid"; wait "$pid" 2>/dev/null || true
    local total
    total=$(awk '/^summary:/ { print $2; exit }' "$file" 2>/dev/null)
    [ -n "$total" ] || { echo "no callgrind summary for serve-$1" >&2; exit 1; }
    echo "$total"
}

echo "| workload | ceiling instructions/session | agi-client instructions/session | ratio |"
echo "| --- | --- | --- | --- |"
for workload in router chatty; do
    declare -A per
    for server in raw lib; do
        # Fixed ports, distinct per run, so that a probe never reaches the
        # server of another run.
        case $server in raw) port=4781 ;; lib) port=4782 ;; esac
        a=$(count $server $workload "$n" "$port")
        b=$(count $server $workload $((2 * n)) $((port + 10)))
        per[$server]=$(( (b - a) / n ))
    done
    awk -v w=$workload -v r="${per[raw]}" -v l="${per[lib]}" 'BEGIN { printf "| %s | %d | %d | %.3fx |\n", w, r, l, l / r }'
done
