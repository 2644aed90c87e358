#!/usr/bin/env bash
# The load benchmark: agi-bench plays Asterisk against
#   - FastAGI: the library server (agi-bench serve-lib), the voicemail-router
#     example in service mode, and the hand-written ceiling (serve-raw);
#   - standard AGI: the voicemail-router example and the hand-written ceiling
#     (agi-bench raw-agi), spawned as Asterisk does.
# Servers run pinned to core 1, the load generator to core 0, in the same run,
# so read the figures as ratios against the ceiling.
#
# Usage: benches/load.sh [SECONDS_PER_RUN]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cargo build --quiet --release -p agi-bench
cargo build --quiet --release -p agi-workspace --example voicemail-router
bench=target/release/agi-bench
router=target/release/examples/voicemail-router
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

start() { # label port command...
    local label=$1 port=$2; shift 2
    VOICEMAIL_ROUTER_LOG=error taskset -c 1 "$@" >/dev/null 2>&1 &
    pids+=($!)
    eval "pid_$label=$!"
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return; sleep 0.05; done
    echo "$label did not start" >&2; exit 1
}

start raw 4602 "$bench" serve-raw 127.0.0.1:4602
start lib 4601 "$bench" serve-lib 127.0.0.1:4601
start example 4603 "$router" --listen 127.0.0.1:4603

rounds=${ROUNDS:-3}
echo "## FastAGI (${secs}s per run, $rounds alternating rounds; medians below)"
runs=$(mktemp)
for workload in router chatty; do
    for conns in 16 256 1024; do
        for _ in $(seq "$rounds"); do
            taskset -c 0 "$bench" fastagi 127.0.0.1:4602 --workload $workload --conns $conns --seconds "$secs" --pid "$pid_raw" --label raw
            taskset -c 0 "$bench" fastagi 127.0.0.1:4601 --workload $workload --conns $conns --seconds "$secs" --pid "$pid_lib" --label agi-client
            if [ $workload = router ]; then
                taskset -c 0 "$bench" fastagi 127.0.0.1:4603 --workload $workload --conns $conns --seconds "$secs" --pid "$pid_example" --label example
            fi
        done | tee -a "$runs"
    done
done

echo
echo "| server | workload | conns | sessions/s | vs ceiling | server CPU/session | vs ceiling | p50 | p999 | errors | peak RSS |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
awk '
function val(f,   i) { for (i = 1; i <= NF; i++) if (index($i, f "=") == 1) { v = substr($i, length(f) + 2); gsub(/[a-zA-Z%]+$/, "", v); return v + 0 } }
function median(list,   n, a, i, j, t) { n = split(list, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } return a[int((n + 1) / 2)] }
/sessions\/s=/ {
    k = $1 SUBSEP $2 SUBSEP val("conns"); if (!(k in seen)) { order[++n] = k; seen[k] = 1 }
    sub(/sessions\/s= +/, "sessions/s=")
    rate[k] = rate[k] " " val("sessions/s"); cpu[k] = cpu[k] " " val("server_cpu/session")
    p50[k] = p50[k] " " val("p50"); p999[k] = p999[k] " " val("p999"); err[k] += val("errors"); peak[k] = peak[k] " " val("peak")
}
END {
    for (i = 1; i <= n; i++) {
        split(order[i], f, SUBSEP); base = "raw" SUBSEP f[2] SUBSEP f[3]
        printf "| %s | %s | %s | %.0f | %.2fx | %.1f us | %.2fx | %.1f ms | %.1f ms | %d | %.1f MiB |\n", f[1], f[2], f[3], median(rate[order[i]]), median(rate[order[i]]) / median(rate[base]), median(cpu[order[i]]), median(cpu[order[i]]) / median(cpu[base]), median(p50[order[i]]), median(p999[order[i]]), err[order[i]], median(peak[order[i]]) / 1024
    }
}' "$runs"
rm -f "$runs"

echo "## 10,000 concurrent connections"
taskset -c 0 "$bench" fastagi 127.0.0.1:4601 --workload router --conns 10000 --seconds "$secs" --pid "$pid_lib" --label agi-client

echo "## Idle sessions (memory)"
# Fresh servers, so that the earlier runs' peaks do not count.
kill "$pid_raw" "$pid_lib"; sleep 0.2
start raw2 4612 "$bench" serve-raw 127.0.0.1:4612
start lib2 4611 "$bench" serve-lib 127.0.0.1:4611
taskset -c 0 "$bench" idle 127.0.0.1:4612 --conns 1000 --pid "$pid_raw2" --label raw
taskset -c 0 "$bench" idle 127.0.0.1:4611 --conns 1000 --pid "$pid_lib2" --label agi-client

echo "## Standard AGI (spawn to exit, router's four round trips)"
for _ in $(seq "$rounds"); do
    taskset -c 0 "$bench" stdio --parallel 1 --sessions 400 --label raw-agi "$bench" raw-agi
    taskset -c 0 "$bench" stdio --parallel 1 --sessions 400 --label voicemail-router "$router" 101
done
