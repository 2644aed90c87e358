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
. benches/common.sh
callgrind_setup instructions.sh

count() { # server workload sessions port -> total instructions of the server
    local file="$out/callgrind.out" total
    rm -f "$file"
    under_callgrind "$file" "$2" "$3" "$4" "$bench" "serve-$1" 127.0.0.1:"$4"
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
