#!/usr/bin/env bash
# The load benchmark: agi-bench plays Asterisk against
#   - FastAGI: the library server (agi-bench serve-lib), the voicemail-router
#     example in service mode, and the hand-written ceiling (serve-raw);
#   - standard AGI: the voicemail-router example and the hand-written ceiling
#     (agi-bench raw-agi), spawned as Asterisk does.
# Servers run pinned to core 1, the load generator to core 0, in the same run,
# so read the figures as ratios against the ceiling. The first table (one
# server loaded at a time, fresh warmed-up processes each round) is the
# setting of the performance goals; the paired table loads two servers on
# one core at once, a harsher setting in which each evicts the other's
# working set from the caches.
#
# Usage: benches/load.sh [SECONDS_PER_RUN]    (ROUNDS, PAIRED_ROUNDS: rounds)
# About 25 minutes with 4 s per run.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cargo build --quiet --release -p agi-bench
cargo build --quiet --release -p agi-workspace --example voicemail-router
. benches/common.sh
router=target/release/examples/voicemail-router
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

rounds=${ROUNDS:-7}
echo "## FastAGI (${secs}s per run, $rounds rounds of fresh, warmed-up servers; medians below)"
# Each round starts the servers afresh: two processes of the same binary
# differ by up to 3 % in CPU per session for their whole life (where their
# memory lands), so a figure from one process is partly luck, and the
# median over fresh processes is not. Each run follows a warm-up with the
# same load (2 s, not counted), so that no server pays for faulting in its
# heap during the run, as for a server that has been up for a while.
runs=$(mktemp)
for round in $(seq "$rounds"); do
    start raw 4602 "$bench" serve-raw 127.0.0.1:4602
    start lib 4601 "$bench" serve-lib 127.0.0.1:4601
    start example 4603 "$router" --listen 127.0.0.1:4603
    # The third case sends the environment block in two pieces (its first
    # line, then the rest a turn of the generator's loop later), as a real
    # Asterisk's block arrives (`agi-bench env-arrival`): a server finds it
    # incomplete at accept and waits for the rest (the library under its
    # deadline).
    for case in router chatty router/env-split; do
        workload=${case%/*} more=() suffix=
        [ "$case" = router/env-split ] && more=(--env-split) suffix=/env-split
        for conns in 16 256 1024; do
            servers="raw agi-client"
            [ "$case" = router ] && servers="$servers example"
            # Every run leaves TIME_WAIT sockets that slow the next one's
            # kernel work a little: rotate the order between rounds.
            # shellcheck disable=SC2086
            for server in $(rotated "$round" $servers); do
                case $server in
                    raw) port=4602 pid=$pid_raw ;;
                    agi-client) port=4601 pid=$pid_lib ;;
                    example) port=4603 pid=$pid_example ;;
                esac
                warm_up $port $workload $conns "${more[@]}"
                taskset -c 0 "$bench" fastagi 127.0.0.1:$port --workload $workload --conns $conns --seconds "$secs" --pid "$pid" --label "$server$suffix" "${more[@]}"
            done
        done
    done | tee -a "$runs"
    stop "$pid_raw" "$pid_lib" "$pid_example"
done

echo
# Medians over the rounds; the "vs ceiling" columns are medians of the
# per-round ratios (each server against the ceiling run in the same round),
# which cancels most of the machine's drift between rounds.
echo "| server | workload | conns | sessions/s | vs ceiling | server CPU/session | vs ceiling | p50 | p999 | errors | peak RSS |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
awk "$awk_median$awk_val"'
/sessions\/s=/ {
    k = $1 SUBSEP $2 SUBSEP val($0, "conns"); if (!(k in seen)) { order[++n] = k; seen[k] = 1 }
    r = ++rounds[k]; vrate[k, r] = val($0, "sessions/s"); vcpu[k, r] = val($0, "server_cpu/session")
    p50[k] = p50[k] " " val($0, "p50"); p999[k] = p999[k] " " val($0, "p999"); err[k] += val($0, "errors"); peak[k] = peak[k] " " val($0, "peak")
}
END {
    for (i = 1; i <= n; i++) {
        k = order[i]; split(k, f, SUBSEP); slash = index(f[1], "/")
        base = "raw" (slash ? substr(f[1], slash) : "") SUBSEP f[2] SUBSEP f[3]
        rate = cpu = rrate = rcpu = ""
        for (r = 1; r <= rounds[k]; r++) {
            rate = rate " " vrate[k, r]; cpu = cpu " " vcpu[k, r]
            rrate = rrate " " (vrate[base, r] > 0 ? vrate[k, r] / vrate[base, r] : 0)
            rcpu = rcpu " " (vcpu[base, r] > 0 ? vcpu[k, r] / vcpu[base, r] : 0)
        }
        printf "| %s | %s | %s | %.0f | %.2fx | %.1f us | %.3fx | %.1f ms | %.1f ms | %d | %.1f MiB |\n", f[1], f[2], f[3], median(rate), median(rrate), median(cpu), median(rcpu), median(p50[k]), median(p999[k]), err[k], median(peak[k]) / 1024
    }
}' "$runs"
rm -f "$runs"

echo
echo "## Server CPU per session, paired: both servers loaded at the same time"
# Sequential runs drift by several percent between runs on this machine;
# loading the ceiling and the other server at once (servers sharing core 1,
# load generators core 0) exposes both to the same conditions. Fresh,
# warmed-up processes each round, for the reasons given above.
# serve-chan, the async channel alone on a bare accept loop, shows what the
# server around the channel adds.
paired_rounds=${PAIRED_ROUNDS:-5}
paired() { # workload conns label serve-subcommand [load generator options]
    local out1 out2 more=("${@:5}") round
    out1=$(mktemp); out2=$(mktemp)
    for round in $(seq "$paired_rounds"); do
        start praw 4622 "$bench" serve-raw 127.0.0.1:4622
        start pother 4621 "$bench" "$4" 127.0.0.1:4621
        local warm=()
        for port in 4622 4621; do
            warm_up $port "$1" "$2" "${more[@]}" &
            warm+=($!)
        done
        wait "${warm[@]}"
        taskset -c 0 "$bench" fastagi 127.0.0.1:4622 --workload "$1" --conns "$2" --seconds "$secs" --pid "$pid_praw" --label raw "${more[@]}" >>"$out1" &
        local ceiling=$!
        taskset -c 0 "$bench" fastagi 127.0.0.1:4621 --workload "$1" --conns "$2" --seconds "$secs" --pid "$pid_pother" --label "$3" "${more[@]}" >>"$out2"
        wait "$ceiling"
        stop "$pid_praw" "$pid_pother"
    done
    paste -d ' ' "$out1" "$out2" | awk -v w="$1" -v c="$2" -v l="$3" "$awk_median$awk_val"'
    {
        half = index($0, " " l " ")
        raw = substr($0, 1, half); lib = substr($0, half)
        r = val(raw, "server_cpu/session"); x = val(lib, "server_cpu/session")
        rs = rs " " r; xs = xs " " x; q = q " " (r > 0 ? x / r : 0); e += val(raw, "errors") + val(lib, "errors")
        lo = (NR == 1 || x / r < lo) ? x / r : lo; hi = (NR == 1 || x / r > hi) ? x / r : hi
    }
    END { printf "| %s | %s | %s | %.1f us | %.1f us | %.3fx | %.3f-%.3f | %d |\n", l, w, c, median(rs), median(xs), median(q), lo, hi, e }'
    rm -f "$out1" "$out2"
}
echo "| server | workload | conns | ceiling CPU/session | server CPU/session | ratio (median of $paired_rounds) | range | errors |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for workload in router chatty; do
    for conns in 16 256 1024; do
        paired $workload $conns agi-client serve-lib
        if [ $workload = router ]; then paired $workload $conns serve-chan serve-chan; fi
    done
done
# The environment block in two pieces, as a real Asterisk's arrives (its
# first line, then the rest a turn of the generator's loop later): the
# server finds it incomplete at accept and waits for the rest under its
# deadline.
for conns in 16 256 1024; do
    paired router $conns agi-client/env-split serve-lib --env-split
done

echo
echo "## 10,000 concurrent connections"
start lib 4601 "$bench" serve-lib 127.0.0.1:4601
taskset -c 0 "$bench" fastagi 127.0.0.1:4601 --workload router --conns 10000 --seconds "$secs" --pid "$pid_lib" --label agi-client

echo "## Idle sessions (memory)"
# Fresh servers, so that the earlier runs' peaks do not count.
kill "$pid_lib"; sleep 0.2
start raw2 4612 "$bench" serve-raw 127.0.0.1:4612
start lib2 4611 "$bench" serve-lib 127.0.0.1:4611
taskset -c 0 "$bench" idle 127.0.0.1:4612 --conns 1000 --pid "$pid_raw2" --label raw
taskset -c 0 "$bench" idle 127.0.0.1:4611 --conns 1000 --pid "$pid_lib2" --label agi-client

echo "## Standard AGI (spawn to exit, router's four round trips)"
for _ in $(seq "$rounds"); do
    taskset -c 0 "$bench" stdio --parallel 1 --sessions 400 --label raw-agi "$bench" raw-agi
    taskset -c 0 "$bench" stdio --parallel 1 --sessions 400 --label voicemail-router "$router" 101
done
