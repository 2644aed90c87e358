#!/usr/bin/env bash
# What a profile-guided build (PGO) changes: the library server and the
# hand-written ceiling, each built plainly and with a profile of the load
# below, measured in the same run.
#
# The server's CPU per session follows the number of distinct 64-byte lines
# of code a session runs more than its instruction count (see
# benches/README.md, "Code footprint"); a profile lets the compiler lay the
# hot paths out together and move the cold ones away, which is the part of
# the library's cost a source change cannot reach.
#
# Steps: build agi-bench instrumented (`-Cprofile-generate`), run both
# servers under every measured case for 2 s each, merge the profiles with
# the toolchain's llvm-profdata (`rustup component add llvm-tools` if it is
# missing), build again with `-Cprofile-use`, then measure the four servers
# one at a time as benches/load.sh does (fresh, warmed-up processes each
# round; servers on core 1, the load generator on core 0). The profile is
# trained on the very load it is measured with: the best case for PGO.
#
# Usage: benches/pgo.sh [SECONDS_PER_RUN]    (ROUNDS: rounds, default 5;
# ROUNDS=0 for the code footprint alone)
# About 20 minutes with the defaults (7 rounds of 3 s runs took 30).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3}
rounds=${ROUNDS:-5}
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
. benches/common.sh
cargo build --quiet --release -p agi-bench

host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
    rustup component add llvm-tools
fi
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

# The builds, in their own target directories (RUSTFLAGS apply to every
# crate, so the usual build is left as it is) and for an explicit target,
# so that build scripts and proc macros, which run on the host during the
# build, are not instrumented too and do not add their runs to the profile.
# The instrumented build writes to a fixed directory and is reused between
# runs; the optimized one reads this run's profile and is built afresh.
profiles=$PWD/target/pgo-gen/profiles
rm -rf "$profiles"
mkdir -p "$profiles"
RUSTFLAGS="-Cprofile-generate=$profiles" CARGO_TARGET_DIR=target/pgo-gen \
    cargo build --quiet --release -p agi-bench --target "$host"
cases="router:16 router:256 router:1024 chatty:16 chatty:256 chatty:1024 router/env-split:16 router/env-split:256 router/env-split:1024"
split_case() { # case -> $workload, $conns and $more (the other options)
    workload=${1%%:*} conns=${1##*:} more=()
    case $workload in */env-split) workload=${workload%/*} more=(--env-split) ;; esac
}
# Each server runs every case for 2 s, then --exit-after ends it normally,
# which writes its profile: 10 s after the cases should be over.
exit_after=$(( $(echo $cases | wc -w) * 2 + 10 ))
for server in serve-raw serve-lib; do
    LLVM_PROFILE_FILE="$profiles/%p.profraw" taskset -c 1 \
        "target/pgo-gen/$host/release/agi-bench" --exit-after $exit_after "$server" 127.0.0.1:4639 >/dev/null 2>&1 &
    trained=$!
    pids+=($trained)
    wait_started $trained 4639
    for case in $cases; do
        split_case "$case"
        line=$(taskset -c 0 "$bench" fastagi 127.0.0.1:4639 --workload "$workload" --conns "$conns" "${more[@]}" --seconds 2 --label training)
        case $line in *" errors=0 "*) ;; *) echo "training $server, $case: $line" >&2; exit 1 ;; esac
    done
    kill -0 $trained 2>/dev/null || { echo "training $server: it ended before its cases did" >&2; exit 1; }
    wait $trained
    pids=()
done
"$profdata" merge -o "$work/merged.profdata" "$profiles"/*.profraw
RUSTFLAGS="-Cprofile-use=$work/merged.profdata" CARGO_TARGET_DIR=target/pgo-use \
    cargo build --quiet --release -p agi-bench --target "$host"
pgo=target/pgo-use/$host/release/agi-bench

echo "## Plain and profile-guided builds (${secs}s per run, $rounds rounds of fresh, warmed-up servers)"
runs=$(mktemp -p "$work")
for round in $(seq "$rounds"); do
    start raw 4632 "$bench" serve-raw 127.0.0.1:4632
    start lib 4633 "$bench" serve-lib 127.0.0.1:4633
    start rawpgo 4634 "$pgo" serve-raw 127.0.0.1:4634
    start libpgo 4635 "$pgo" serve-lib 127.0.0.1:4635
    for case in $cases; do
        split_case "$case"
        # shellcheck disable=SC2046
        set -- $(rotated "$round" raw agi-client raw-pgo agi-client-pgo)
        # Reversed every other round too: four servers rotated alone would
        # always run in the same pairs of neighbours.
        if [ $((round % 2)) = 1 ]; then set -- "$4" "$3" "$2" "$1"; fi
        for server in "$@"; do
            case $server in
                raw) port=4632 pid=$pid_raw ;;
                agi-client) port=4633 pid=$pid_lib ;;
                raw-pgo) port=4634 pid=$pid_rawpgo ;;
                agi-client-pgo) port=4635 pid=$pid_libpgo ;;
            esac
            warm_up $port "$workload" "$conns" "${more[@]}"
            line=$(taskset -c 0 "$bench" fastagi 127.0.0.1:$port --workload "$workload" --conns "$conns" "${more[@]}" --seconds "$secs" --pid "$pid" --label "$server")
            echo "case=$case round=$round $line"
        done
    done | tee -a "$runs"
    stop "$pid_raw" "$pid_lib" "$pid_rawpgo" "$pid_libpgo"
    pids=()
done

echo
# Medians of the per-round ratios, each against a server run in the same
# round.
echo "| workload | conns | plain: agi-client / ceiling | PGO: agi-client / ceiling | agi-client: PGO / plain | ceiling: PGO / plain | errors |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
awk "$awk_median$awk_val"'
{
    c = substr($1, 6); r = substr($2, 7) + 0; s = $3
    if (!(c in seen)) { order[++n] = c; seen[c] = 1 }
    cpu[c, r, s] = val($0, "server_cpu/session"); err[c] += val($0, "errors"); last[c] = r > last[c] ? r : last[c]
}
function ratio(x, y) { return y > 0 ? x / y : 0 }
END {
    for (i = 1; i <= n; i++) {
        c = order[i]; a = b = d = e = ""
        for (r = 1; r <= last[c]; r++) {
            a = a " " ratio(cpu[c, r, "agi-client"], cpu[c, r, "raw"])
            b = b " " ratio(cpu[c, r, "agi-client-pgo"], cpu[c, r, "raw-pgo"])
            d = d " " ratio(cpu[c, r, "agi-client-pgo"], cpu[c, r, "agi-client"])
            e = e " " ratio(cpu[c, r, "raw-pgo"], cpu[c, r, "raw"])
        }
        split(c, f, ":")
        printf "| %s | %s | %.3fx | %.3fx | %.3fx | %.3fx | %d |\n", f[1], f[2], median(a), median(b), median(d), median(e), err[c]
    }
}' "$runs"

# Distinct 64-byte lines of code and instructions per router session of
# each build, from callgrind as benches/footprint.sh counts them (over 2,000
# and 4,000 sessions, so that start-up cancels), when valgrind is at hand.
if command -v valgrind >/dev/null; then
    running=
    trap 'kill "${pids[@]}" $running 2>/dev/null || true; rm -rf "$work"' EXIT
    echo
    echo "| build | server | code lines/session | instructions/session |"
    echo "| --- | --- | --- | --- |"
    port=4650
    for build in plain PGO; do
        binary=$bench
        [ $build = PGO ] && binary=$pgo
        for server in ceiling agi-client; do
            command=serve-raw
            [ $server = agi-client ] && command=serve-lib
            CALLGRIND_OPTIONS=--dump-instr=yes under_callgrind "$work/lines.1" router 2000 $port "$binary" $command 127.0.0.1:$port
            CALLGRIND_OPTIONS=--dump-instr=yes under_callgrind "$work/lines.2" router 4000 $((port + 1)) "$binary" $command 127.0.0.1:$((port + 1))
            port=$((port + 2))
            footprint_of "$work/lines.1" "$work/lines.2" 2000 |
                awk -v b=$build -v s=$server "$awk_val"'{ printf "| %s | %s | %d | %d |\n", b, s, val($0, "code_lines/session"), val($0, "instructions/session") }'
        done
    done
fi
