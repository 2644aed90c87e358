#!/usr/bin/env bash
# What a FastAGI session's code footprint costs: distinct 64-byte lines of
# code run per router session and instructions per session (callgrind), and
# CPU per session (one server at a time, fresh warmed-up processes each
# round, as in load.sh), for
#   - the hand-written ceiling (serve-raw),
#   - the ceiling running 440 extra small functions once per session
#     (serve-raw --extra-code distinct: about 380-390 more lines of code, about
#     5,000 more instructions),
#   - the ceiling running one of them 440 times (serve-raw --extra-code
#     same: about 6,000 more instructions, no more lines),
#   - the async channel alone (serve-chan) and the library server (serve-lib).
# The two calibration servers separate what distinct code costs from what
# instructions cost; the line counts then say how far the library is from
# the ceiling in those terms. Lines and instructions come from two profiles
# of each server, over N and 2N sessions, so that start-up cancels.
#
# Usage: benches/footprint.sh [SECONDS_PER_RUN]   (ROUNDS rounds; needs valgrind)
# About 5 minutes with 4 s per run.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-4}
rounds=${ROUNDS:-7}
sessions=2000
. benches/common.sh
callgrind_setup footprint.sh

servers=(raw distinct same chan lib)
command_of() { # server port -> the server's command line
    case $1 in
        raw) echo "$bench serve-raw 127.0.0.1:$2" ;;
        distinct) echo "$bench serve-raw 127.0.0.1:$2 --extra-code distinct" ;;
        same) echo "$bench serve-raw 127.0.0.1:$2 --extra-code same" ;;
        chan) echo "$bench serve-chan 127.0.0.1:$2" ;;
        lib) echo "$bench serve-lib 127.0.0.1:$2" ;;
    esac
}

index_of() { # server -> its place in $servers, for fixed ports
    local i
    for i in "${!servers[@]}"; do [ "${servers[$i]}" = "$1" ] && echo "$i" && return; done
}

profile() { # server sessions file: the server under callgrind for that many router sessions
    # Fixed ports, distinct per run, so that a probe never reaches the
    # server of another run.
    local port=$((4660 + 2 * $(index_of "$1") + ($2 > sessions)))
    # shellcheck disable=SC2046
    CALLGRIND_OPTIONS=--dump-instr=yes under_callgrind "$3" router "$2" $port $(command_of "$1" $port)
}

declare -A counts
for server in "${servers[@]}"; do
    profile "$server" $sessions "$out/$server.1"
    profile "$server" $((2 * sessions)) "$out/$server.2"
    counts[$server]=$(footprint_of "$out/$server.1" "$out/$server.2" $sessions)
done

# CPU per session, one server at a time on core 1 (load generator on core 0),
# every server started afresh each round and warmed up for 2 s first.
runs="$out/runs"
for round in $(seq "$rounds"); do
    for server in $(rotated "$round" "${servers[@]}"); do
        port=$((4700 + $(index_of "$server")))
        # shellcheck disable=SC2046
        taskset -c 1 $(command_of "$server" $port) >/dev/null 2>&1 &
        running=$!
        wait_started $running $port
        warm_up $port router 16
        echo "$round $server $(taskset -c 0 "$bench" fastagi 127.0.0.1:$port --workload router --conns 16 --seconds "$secs" --pid $running --label "$server")"
        stop $running
    done
done >"$runs"
if grep -v " errors=0 " "$runs" >&2; then echo "runs with errors above" >&2; exit 1; fi

echo "## Code footprint and CPU per router session (16 connections, ${secs}s runs, $rounds rounds; medians)"
echo "| server | code lines/session | instructions/session | CPU/session | vs ceiling |"
echo "| --- | --- | --- | --- | --- |"
for server in "${servers[@]}"; do
    awk -v s="$server" -v counts="${counts[$server]}" "$awk_median$awk_val"'
    { cpu[$1, $2] = val($0, "server_cpu/session"); rounds[$1] = 1 }
    END {
        split(counts, c, /[ =]/)
        for (r in rounds) { mine = mine " " cpu[r, s]; ratio = ratio " " cpu[r, s] / cpu[r, "raw"] }
        printf "| %s | %d | %d | %.1f us | %.3fx |\n", s, c[2], c[4], median(mine), median(ratio)
    }' "$runs"
done
