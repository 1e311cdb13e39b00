#!/bin/sh
# bench/match.sh: $match latency and throughput with a large registry.
#
#   bench/match.sh          build if needed, generate, load, measure, stop
#
# 1. bench/gen-patients.py writes BENCH_PATIENTS synthetic BC patients
#    (bench/out/match/patients.ndjson; reused when it has the right size).
# 2. 'cr-admin load' bulk-loads them through the store code: the rows are
#    exactly those a create writes (patient, version, identifiers with an
#    assigned PHN, search keys, the match record and blocking keys), in
#    transactions of 5000 patients.  The load rate is printed.
# 3. 'cr-admin estimate' fits the m/u parameters (EM over a sample).
# 4. httpd serves the database (the quickstart template) and wrk POSTs
#    [base]/Patient/$match with bodies made from stored patients (half
#    exact copies, half misspelt ones) at BENCH_CONNECTIONS connections.
#    Prints requests per second and the p50/p99 latency; fails only on
#    errors, never on a timing.
#
# Environment (defaults in brackets):
#   BENCH_PORT [18180]      BENCH_PATIENTS [1000000]  BENCH_BODIES [5000]
#   BENCH_THREADS [2]       BENCH_CONNECTIONS [32]    BENCH_DURATION [30s]
#   BENCH_WARMUP [5s]       BENCH_ACCESS_LOG [on|off]
#   BENCH_PROCS [4]         (httpd prefork processes)
#   BENCH_REUSE [unset: load afresh; 1: keep a database already loaded]
#   BENCH_NO_BUILD [unset: run ./quickstart build first]
#   BENCH_OUT [bench/out/match] (where the data, database and results go)
#
# Everything it writes is under bench/out/match/ (git-ignored).  Disk: about
# 8 GB for a million patients.  Loopback only; every wrk run is bounded.
set -eu
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
OUT=${BENCH_OUT:-$BENCH/out/match}
PORT=${BENCH_PORT:-18180}
PATIENTS=${BENCH_PATIENTS:-1000000}
BODIES=${BENCH_BODIES:-5000}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-32}
DURATION=${BENCH_DURATION:-30s}
WARMUP=${BENCH_WARMUP:-5s}
ACCESS_LOG=${BENCH_ACCESS_LOG:-on}
PROCS=${BENCH_PROCS:-4}
URL=http://127.0.0.1:$PORT
DB=$OUT/var/db/registry.db

say() { printf 'bench: %s\n' "$*" >&2; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

if [ -z "${BENCH_NO_BUILD:-}" ]; then
    "$ROOT/quickstart" build
fi
command -v wrk >/dev/null 2>&1 || { say "wrk is missing (apt-get install wrk)"; exit 1; }
[ -f "$ROOT/.libs/mod_clientregistry.so" ] || { say "module not built"; exit 1; }
. "$BENCH/lib.sh"
stop_httpd
if curl -s -o /dev/null --max-time 2 "$URL/"; then
    say "something already listens on 127.0.0.1:$PORT (set BENCH_PORT)"
    exit 1
fi
mkdir -p "$OUT"

# --- data ------------------------------------------------------------------
if [ ! -f "$OUT/patients.ndjson" ] \
   || [ "$(wc -l < "$OUT/patients.ndjson")" -ne "$PATIENTS" ]; then
    say "generating $PATIENTS patients"
    t=$(now)
    python3 "$BENCH/gen-patients.py" "$PATIENTS" > "$OUT/patients.ndjson.tmp"
    mv "$OUT/patients.ndjson.tmp" "$OUT/patients.ndjson"
    say "generated in $(secs "$t" "$(now)") s"
fi

# --- load ------------------------------------------------------------------
# load.txt is written only when the load and the estimate completed: a
# database left by a failed or interrupted load is not reused.
if [ -z "${BENCH_REUSE:-}" ] || [ ! -f "$DB" ] || [ ! -s "$OUT/load.txt" ]; then
    rm -rf "$OUT/var"
    mkdir -p "$OUT/var/db" "$OUT/var/logs" "$OUT/var/run"
    "$ROOT/cr-admin" --schema-dir "$ROOT/schema" migrate "$DB" >/dev/null
    say "loading $PATIENTS patients with cr-admin load"
    # Not '| tee': sh has no pipefail, and a failed load would go on to be
    # measured as if it were complete.
    rm -f "$OUT/load.txt"
    "$ROOT/cr-admin" load "$DB" "$OUT/patients.ndjson" > "$OUT/load.txt.tmp"
    cat "$OUT/load.txt.tmp"
    t=$(now)
    "$ROOT/cr-admin" --sample 20000 estimate "$DB" > "$OUT/estimate.txt"
    say "estimated in $(secs "$t" "$(now)") s: $(head -n 1 "$OUT/estimate.txt")"
    mv "$OUT/load.txt.tmp" "$OUT/load.txt"
fi
say "database $(du -sh "$OUT/var/db" | cut -f1)"

# --- server ----------------------------------------------------------------
# The quickstart configuration on the prefork MPM for a big database
# (bench/lib.sh says why).
trap stop_httpd EXIT
trap 'exit 130' INT TERM
start_httpd

# --- measure ---------------------------------------------------------------
python3 "$BENCH/match-bodies.py" "$OUT/patients.ndjson" "$BODIES" \
    > "$OUT/bodies.ndjson"
# One request by hand: the answer must be a Bundle with a certain match.
head -n 1 "$OUT/bodies.ndjson" > "$OUT/one.json"
code=$(curl -s -o "$OUT/one-answer.json" -w '%{http_code}' \
       -H 'Content-Type: application/fhir+json' --data-binary @"$OUT/one.json" \
       "$URL/fhir/Patient/\$match")
[ "$code" = 200 ] && grep -q '"valueCode":"certain"' "$OUT/one-answer.json" || {
    say "\$match did not answer 200 with a certain match: see $OUT/one-answer.json"
    exit 1; }

run_wrk() {
    BENCH_BODIES="$OUT/bodies.ndjson" wrk -t"$THREADS" -c"$CONNS" -d"$2" \
        --latency -s "$BENCH/match.lua" "$URL" > "$1" 2>&1
}
say "warm-up $WARMUP, then $DURATION of \$match, wrk -t$THREADS -c$CONNS"
run_wrk "$OUT/wrk-warmup.txt" "$WARMUP"
run_wrk "$OUT/wrk-match.txt" "$DURATION"
f=$OUT/wrk-match.txt
{
    echo "registry: $PATIENTS patients, database $(du -sh "$OUT/var/db" | cut -f1)"
    [ -f "$OUT/load.txt" ] && echo "load: $(cat "$OUT/load.txt")"
    echo "\$match: $(rps "$f") req/s  p50 $(lat "$f" 50) ms  p90 $(lat "$f" 90) ms" \
         " p99 $(lat "$f" 99) ms  (wrk -t$THREADS -c$CONNS, $DURATION," \
         "$(nproc) cores shared by wrk and $PROCS httpd processes)," \
         "errors $(non2xx "$f")"
} | tee "$OUT/summary.txt"
[ "$(non2xx "$f")" -eq 0 ] || { say "errors: see $f"; exit 1; }
