# Sourced by the benchmark scripts, from the workspace's root.

bench=target/release/agi-bench

# For the scripts that run servers under callgrind: valgrind at hand,
# agi-bench built, a scratch directory $out, and an exit trap that stops
# the server still $running and removes $out. Argument: the script's name.
callgrind_setup() {
    command -v valgrind >/dev/null || { echo "$1 needs valgrind" >&2; exit 1; }
    cargo build --quiet --release -p agi-bench
    out=$(mktemp -d)
    running=
    trap 'kill $running 2>/dev/null || true; rm -rf "$out"' EXIT
}

# Loads a server for 2 s, not counted, so that the measured run does not pay
# for faulting in its heap: port workload conns [load generator options].
warm_up() {
    taskset -c 0 "$bench" fastagi 127.0.0.1:"$1" --workload "$2" --conns "$3" --seconds 2 --label warm-up "${@:4}" >/dev/null
}

# Waits until the server with this pid takes connections on its port (up to
# 20 s): pid port. A server that exited is an error even if some other
# process answers on the port (a leftover of an earlier run).
wait_started() {
    local _
    for _ in $(seq 400); do
        if (exec 3<>/dev/tcp/127.0.0.1/"$2") 2>/dev/null; then
            kill -0 "$1" 2>/dev/null && return
            break
        fi
        sleep 0.05
    done
    echo "the server on port $2 (pid $1) did not start" >&2
    exit 1
}

# Starts a server on core 1 and waits until it takes connections: label
# port command... Its pid goes to $pid_<label> and onto the caller's $pids
# (for its exit trap). The voicemail-router example logs errors only.
start() {
    local label=$1 port=$2
    shift 2
    VOICEMAIL_ROUTER_LOG=error taskset -c 1 "$@" >/dev/null 2>&1 &
    pids+=($!)
    eval "pid_$label=$!"
    wait_started $! "$port"
}

# Runs a server under callgrind for a number of sessions of a workload, then
# stops it: profile-file workload sessions port server-command... Extra
# valgrind options in $CALLGRIND_OPTIONS. Sets $running while the server
# runs, for the caller's exit trap. The probe of wait_started is one empty
# connection, the same in every run, so it cancels between two runs.
under_callgrind() {
    local file=$1 workload=$2 sessions=$3 port=$4 line
    shift 4
    # shellcheck disable=SC2086
    valgrind --tool=callgrind ${CALLGRIND_OPTIONS:-} --callgrind-out-file="$file" "$@" >/dev/null 2>&1 &
    running=$!
    wait_started $running "$port"
    line=$("$bench" fastagi 127.0.0.1:"$port" --workload "$workload" --conns 16 --seconds 3600 --sessions "$sessions" --label callgrind)
    stop $running
    case $line in *" errors=0 "*) ;; *) echo "load errors: $line" >&2; exit 1 ;; esac
}

# Code lines and instructions per session, from two callgrind profiles
# over N and 2N sessions so that start-up cancels: file1 file2 N.
footprint_of() {
    local line
    line=$("$bench" footprint "$1" "$2" --sessions "$3")
    case $line in code_lines/session=0\ *) echo "no lines counted in $1" >&2; exit 1 ;; esac
    echo "$line"
}

# The words rotated left by N places (N taken modulo their count): N
# word... Rounds rotate the order in which servers run, so that none always
# runs right after the same other one.
rotated() {
    local n=$1
    shift
    n=$((n % $#))
    echo "${@:n+1}" "${@:1:n}"
}

# Stops servers and waits for them: pids... (clears $running).
stop() {
    kill "$@"; wait "$@" 2>/dev/null || true; running=
}

# An awk function for the scripts' tables: the median of a space-separated
# list of numbers. Prepend it to an awk program.
awk_median='function median(list,   n, a, i, j, t) { n = split(list, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } return a[int((n + 1) / 2)] }'
# The number in a line's `name=value` field, its unit (us, ms, KiB, %)
# stripped, spaces after the `=` (agi-bench pads some) skipped:
# val(line, "p50"). Starts on a new line, to follow awk_median.
awk_val='
function val(s, f,   i, n, a, v) { gsub(/= +/, "=", s); n = split(s, a, " "); for (i = 1; i <= n; i++) if (index(a[i], f "=") == 1) { v = substr(a[i], length(f) + 2); gsub(/[a-zA-Z%]+$/, "", v); return v + 0 } }'
