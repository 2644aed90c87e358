#!/usr/bin/env bash
# Seeds the fuzz corpora from the captures in ../shared (the real Asterisk's
# bytes) and the reply shapes in seeds/ that the captures lack (SPEECH
# RECOGNIZE results, data over several lines, 503) or that answer the
# `server` target's handler (seeds/server-*.txt), each with the three zero
# bytes that mean "default limits, no cuts". Needs python3.
# Usage: fuzz/seed.sh   (from anywhere; writes fuzz/corpus/<target>/)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
captures="$here/../../shared/fixtures/transcripts"
[ -d "$captures" ] || { echo "no captures at $captures" >&2; exit 1; }
mkdir -p "$here"/corpus/{env,reply,session,server}
seed() { # target name file [skip the environment block]
    { printf '\0\0\0'; if [ "${4:-}" = skip ]; then python3 -c '
import sys; d = open(sys.argv[1], "rb").read(); i = d.find(b"\n\n")
sys.stdout.buffer.write(d[i + 2:] if i >= 0 else d)' "$3"; else cat "$3"; fi; } > "$here/corpus/$1/$2"
}
for f in "$captures"/*-env.txt; do seed env "$(basename "$f")" "$f"; done
for f in "$captures"/raw/*.in.raw; do
    name=$(basename "$f")
    seed env "$name" "$f"
    seed session "$name" "$f"
    seed server "$name" "$f"
    seed reply "$name" "$f" skip
done
for f in "$here"/seeds/reply-*.txt; do
    seed reply "$(basename "$f")" "$f"
    seed session "$(basename "$f")" <(cat "$captures/fastagi-env.txt" "$f")
done
for f in "$here"/seeds/server-*.txt; do
    seed server "$(basename "$f")" <(cat "$captures/fastagi-env.txt" "$f")
done
echo "seeded: $(ls "$here"/corpus/env | wc -l) env, $(ls "$here"/corpus/reply | wc -l) reply, $(ls "$here"/corpus/session | wc -l) session, $(ls "$here"/corpus/server | wc -l) server"
