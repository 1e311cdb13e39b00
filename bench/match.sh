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
#
# Everything it writes is under bench/out/match/ (git-ignored).  Disk: about
# 8 GB for a million patients.  Loopback only; every wrk run is bounded.
set -eu
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
OUT=$BENCH/out/match
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
CONF=$OUT/var/httpd.conf
DB=$OUT/var/db/registry.db

. "$BENCH/lib.sh"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

bench_build "$ROOT"
bench_need_wrk

stop_httpd() { bench_stop_httpd "$OUT/var/run/httpd.pid"; }
stop_httpd
if curl -s -o /dev/null --max-time 2 "$URL/"; then
    bench_say "something already listens on 127.0.0.1:$PORT (set BENCH_PORT)"
    exit 1
fi
mkdir -p "$OUT"

# --- data ------------------------------------------------------------------
if [ ! -f "$OUT/patients.ndjson" ] \
   || [ "$(wc -l < "$OUT/patients.ndjson")" -ne "$PATIENTS" ]; then
    bench_say "generating $PATIENTS patients"
    t=$(now)
    python3 "$BENCH/gen-patients.py" "$PATIENTS" > "$OUT/patients.ndjson.tmp"
    mv "$OUT/patients.ndjson.tmp" "$OUT/patients.ndjson"
    bench_say "generated in $(secs "$t" "$(now)") s"
fi

# --- load ------------------------------------------------------------------
# load.txt is written only when the load and the estimate completed: a
# database left by a failed or interrupted load is not reused.
if [ -z "${BENCH_REUSE:-}" ] || [ ! -f "$DB" ] || [ ! -s "$OUT/load.txt" ]; then
    rm -rf "$OUT/var"
    mkdir -p "$OUT/var/db" "$OUT/var/logs" "$OUT/var/run"
    "$ROOT/cr-admin" --schema-dir "$ROOT/schema" migrate "$DB" >/dev/null
    bench_say "loading $PATIENTS patients with cr-admin load"
    # Not '| tee': sh has no pipefail, and a failed load would go on to be
    # measured as if it were complete.
    rm -f "$OUT/load.txt"
    "$ROOT/cr-admin" load "$DB" "$OUT/patients.ndjson" > "$OUT/load.txt.tmp"
    cat "$OUT/load.txt.tmp"
    t=$(now)
    "$ROOT/cr-admin" --sample 20000 estimate "$DB" > "$OUT/estimate.txt"
    bench_say "estimated in $(secs "$t" "$(now)") s: $(head -n 1 "$OUT/estimate.txt")"
    mv "$OUT/load.txt.tmp" "$OUT/load.txt"
fi
mkdir -p "$OUT/var/logs" "$OUT/var/run"
rm -f "$OUT/var/logs/error_log" "$OUT/var/logs/access_log"
bench_say "database $(du -sh "$OUT/var/db" | cut -f1)"
UG=$(bench_usergroup "$OUT/var/db")
AS_HTTPD=""
[ -n "$UG" ] && AS_HTTPD="runuser -u nobody --"

# --- server ----------------------------------------------------------------
# The quickstart configuration with these changes for a big database:
#  - a page cache of 64 MB per SQLite connection (the default is 2 MB):
#    the upper levels of the indexes a $match descends stay in memory.
#    mod_dbd runs the DBDInitSQL statements in order and stops at the
#    first that returns a row (apr_dbd reports SQLITE_ROW as a failure),
#    as PRAGMA busy_timeout does, so this one (which returns nothing) is
#    put first.  (Memory-mapped reads were tried and are worse: every
#    audit batch that grows the file makes each connection remap it.)
#  - The prefork MPM with four processes (two per core; BENCH_PROCS) and
#    no keep-alive, so that requests wait in the kernel's accept queue,
#    first come first served, rather than inside httpd.  apr_dbd's sqlite3 driver runs every
#    statement under one process-wide mutex, so the threads of an event
#    MPM child take turns in SQLite; with the event MPM (8 children of 8
#    threads) the same server did as many requests per second with a p99
#    three to six times longer, and fewer workers than connections made it
#    close keep-alive connections under load.
EXTRA="LogLevel warn
StartServers $PROCS
ServerLimit $PROCS
MinSpareServers $PROCS
MaxSpareServers $PROCS
MaxRequestWorkers $PROCS
KeepAlive Off
ListenBacklog 512"
CACHE='DBDInitSQL "PRAGMA cache_size=-65536"'
bench_write_conf "$ROOT" "$CONF.quickstart" "$OUT" "127.0.0.1:$PORT" \
    "$ROOT/.libs/mod_clientregistry.so" "$UG" "$EXTRA" "$ACCESS_LOG"
CACHE=$CACHE awk '{
        if ($1 == "DBDInitSQL" && !cache_done) { print ENVIRON["CACHE"]; cache_done = 1 }
        if ($2 == "mpm_event_module") gsub(/mpm_event/, "mpm_prefork")
        print
    }' "$CONF.quickstart" > "$CONF"
trap stop_httpd EXIT
trap 'exit 130' INT TERM
# Processes that open the database at the same moment can fail to prepare
# their statements ("database is locked" while the first one rebuilds the
# WAL index: mod_dbd prepares before any busy timeout applies), and such a
# process exits.  A connection held open while httpd starts keeps the
# index.  It must read the database: 'SELECT 1' touches no table, so it
# opened neither the WAL nor its index, and after an unclean stop (a child
# SIGKILLed by httpd at shutdown) the children raced to recover the WAL.
$AS_HTTPD python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
c.execute("SELECT count(*) FROM sqlite_master").fetchall()
time.sleep(5)' "$DB" &
HOLDER=$!
sleep 0.5
bench_start_httpd "$CONF" "$URL"

wait "$HOLDER" 2>/dev/null || true
if grep -q AH00636 "$OUT/var/logs/error_log" 2>/dev/null; then
    bench_say "an httpd child failed to open the database; see $OUT/var/logs/error_log"
    exit 1
fi

# --- measure ---------------------------------------------------------------
python3 "$BENCH/match-bodies.py" "$OUT/patients.ndjson" "$BODIES" \
    > "$OUT/bodies.ndjson"
# One request by hand: the answer must be a Bundle with a certain match.
head -n 1 "$OUT/bodies.ndjson" > "$OUT/one.json"
code=$(curl -s -o "$OUT/one-answer.json" -w '%{http_code}' \
       -H 'Content-Type: application/fhir+json' --data-binary @"$OUT/one.json" \
       "$URL/fhir/Patient/\$match")
[ "$code" = 200 ] && grep -q '"valueCode":"certain"' "$OUT/one-answer.json" || {
    bench_say "\$match did not answer 200 with a certain match: see $OUT/one-answer.json"
    exit 1; }

run_wrk() {
    BENCH_BODIES="$OUT/bodies.ndjson" wrk -t"$THREADS" -c"$CONNS" -d"$2" \
        --latency -s "$BENCH/match.lua" "$URL" > "$1" 2>&1
}
non2xx() {
    awk -F: '/Non-2xx or 3xx responses/ { gsub(/ /, "", $2); n = $2 }
             /^  Socket errors/ { gsub(/[^0-9 ]/, "", $0); split($0, a, " ")
                                   for (k in a) e += a[k] }
             END { printf "%d", n + e }' "$1"
}
bench_say "warm-up $WARMUP, then $DURATION of \$match, wrk -t$THREADS -c$CONNS"
run_wrk "$OUT/wrk-warmup.txt" "$WARMUP"
run_wrk "$OUT/wrk-match.txt" "$DURATION"
f=$OUT/wrk-match.txt
{
    echo "registry: $PATIENTS patients, database $(du -sh "$OUT/var/db" | cut -f1)"
    [ -f "$OUT/load.txt" ] && echo "load: $(cat "$OUT/load.txt")"
    echo "\$match: $(bench_rps "$f") req/s  p50 $(bench_latency "$f" 50) ms" \
         " p90 $(bench_latency "$f" 90) ms  p99 $(bench_latency "$f" 99) ms  (wrk -t$THREADS -c$CONNS, $DURATION," \
         "$(nproc) cores shared by wrk and $PROCS httpd processes)," \
         "errors $(non2xx "$f")"
} | tee "$OUT/summary.txt"
[ "$(non2xx "$f")" -eq 0 ] || { bench_say "errors: see $f"; exit 1; }
