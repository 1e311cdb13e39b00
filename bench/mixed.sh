#!/bin/sh
# bench/mixed.sh: a mixed workload against a large registry, with the
# latency of each kind of request, so that a change that speeds one path
# at another's cost shows.
#
#   bench/mixed.sh          build if needed, load if needed, measure, stop
#
# The registry is bench/match.sh's (BENCH_PATIENTS synthetic patients
# loaded with 'cr-admin load' and fitted with 'cr-admin estimate', kept in
# bench/out/match/): match.sh is run first, once, to load it when it is
# not there (BENCH_MATCH_OUT points at another one).  The writes change it:
# each revise ends a phone and adds one on a loaded patient.
#
# Requests (bench/mixed-bodies.py and bench/match-bodies.py, from
# BENCH_BODIES patients picked at random), by default in these shares
# (BENCH_MIX):
#   read  70 %  GET [base]/Patient/{id}
#   fc     5 %  $FindCandidates by family, given, gender and birth date
#   gd     5 %  $GetDemographics by PHN
#   match 10 %  $match (half exact copies, half misspelt)
#   write 10 %  $RevisePatient of a loaded patient with a new phone
# The server is match.sh's (prefork, BENCH_PROCS processes, no
# keep-alive; bench/lib.sh).  wrk runs with one connection per thread
# (BENCH_CONNECTIONS of each) so that bench/mixed.lua can time every
# request and keep the times per kind; it prints per kind the count, the
# rate, p50 and p99, then the total rate.
#
# The same-run reference: after the mixed run, each kind alone
# (BENCH_MIX=<kind>=1) for BENCH_ALONE_DURATION at the same connections:
# its rate and p50/p99 with the whole machine.  A figure of the mixed run
# is to be read against these.  A benchmark, not a test: it fails only on
# errors.
#
# Environment (defaults in brackets):
#   BENCH_PORT [18182]      BENCH_PATIENTS [1000000]  BENCH_BODIES [2000]
#   BENCH_CONNECTIONS [32]  BENCH_DURATION [30s]      BENCH_WARMUP [5s]
#   BENCH_ALONE_DURATION [10s, 0 to skip]             BENCH_PROCS [4]
#   BENCH_MIX [read=70,fc=5,gd=5,match=10,write=10]   BENCH_ACCESS_LOG [on]
#   BENCH_MATCH_OUT [bench/out/match]  BENCH_NO_BUILD [unset: build first]
#
# Output in bench/out/mixed/ (git-ignored): summary.txt has the figures.
set -eu
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
MOUT=${BENCH_MATCH_OUT:-$BENCH/out/match}
OUT=$MOUT                       # the server lives in the loaded tree
DIR=$BENCH/out/mixed
PORT=${BENCH_PORT:-18182}
PATIENTS=${BENCH_PATIENTS:-1000000}
BODIES=${BENCH_BODIES:-2000}
CONNS=${BENCH_CONNECTIONS:-32}
DURATION=${BENCH_DURATION:-30s}
WARMUP=${BENCH_WARMUP:-5s}
ALONE=${BENCH_ALONE_DURATION:-10s}
PROCS=${BENCH_PROCS:-4}
ACCESS_LOG=${BENCH_ACCESS_LOG:-on}
MIX=${BENCH_MIX:-read=70,fc=5,gd=5,match=10,write=10}
URL=http://127.0.0.1:$PORT
DB=$MOUT/var/db/registry.db

say() { printf 'bench: %s\n' "$*" >&2; }
. "$BENCH/lib.sh"

if [ -z "${BENCH_NO_BUILD:-}" ]; then
    "$ROOT/quickstart" build
fi
command -v wrk >/dev/null 2>&1 || { say "wrk is missing (apt-get install wrk)"; exit 1; }

# --- the registry: match.sh's, loaded once ------------------------------
if [ ! -s "$MOUT/load.txt" ] || [ ! -f "$DB" ] \
   || [ "$(wc -l < "$MOUT/patients.ndjson")" -ne "$PATIENTS" ]; then
    say "no registry of $PATIENTS patients in $MOUT: loading it with match.sh"
    BENCH_NO_BUILD=1 BENCH_REUSE=1 BENCH_OUT=$MOUT BENCH_PATIENTS=$PATIENTS \
        BENCH_DURATION=1s BENCH_WARMUP=1s BENCH_PORT=$PORT "$BENCH/match.sh"
fi
stop_httpd
if curl -s -o /dev/null --max-time 2 "$URL/"; then
    say "something already listens on 127.0.0.1:$PORT (set BENCH_PORT)"
    exit 1
fi
# A kept database gets the migrations added since it was loaded.
"$ROOT/cr-admin" --schema-dir "$ROOT/schema" migrate "$DB" >/dev/null

# --- requests ---------------------------------------------------------------
mkdir -p "$DIR"
python3 "$BENCH/mixed-bodies.py" "$DB" "$PATIENTS" "$BODIES" "$DIR"
python3 "$BENCH/match-bodies.py" "$MOUT/patients.ndjson" "$BODIES" \
    > "$DIR/match.txt"

# --- server -----------------------------------------------------------------
trap stop_httpd EXIT
trap 'exit 130' INT TERM
start_httpd

# One request of each kind by hand, so that a broken one stops the run.
first() { head -n 1 "$DIR/$1.txt"; }
for k in read fc gd match write; do
    case $k in
    read)  args="$URL$(first read)" ;;
    fc)    args="$URL/fhir/Patient/\$FindCandidates" ;;
    gd)    args="$URL/fhir/Patient/\$GetDemographics" ;;
    match) args="$URL/fhir/Patient/\$match" ;;
    write) args="$URL/fhir/Patient/\$RevisePatient" ;;
    esac
    if [ $k = read ]; then
        code=$(curl -s -o "$DIR/check-$k.json" -w '%{http_code}' "$args")
    else
        first $k | sed "s/@MSG@/mixed-check-$(date +%s)/; s/@PHONE@/6045550100/" \
            > "$DIR/check-$k.body"
        code=$(curl -s -o "$DIR/check-$k.json" -w '%{http_code}' \
               -H 'Content-Type: application/fhir+json' \
               -H 'UserId: bench@idir' \
               --data-binary @"$DIR/check-$k.body" "$args")
    fi
    [ "$code" = 200 ] || { say "$k answered $code: see $DIR/check-$k.json"; exit 1; }
done

# --- measure ----------------------------------------------------------------
run_mix() {
    BENCH_DIR=$DIR BENCH_MIX=$1 wrk -t"$CONNS" -c"$CONNS" -d"$2" \
        -s "$BENCH/mixed.lua" "$URL" > "$3" 2>&1 || { cat "$3"; exit 1; }
}
say "warm-up $WARMUP, then $DURATION of $MIX at $CONNS connections"
run_mix "$MIX" "$WARMUP" "$DIR/wrk-warmup.txt"
run_mix "$MIX" "$DURATION" "$DIR/wrk-mixed.txt"
{
    echo "registry: $PATIENTS patients, database $(du -sh "$MOUT/var/db" | cut -f1);" \
         "$CONNS connections, $PROCS httpd processes, $(nproc) cores shared with wrk"
    echo "mixed ($MIX, $DURATION):"
    grep -E '^(kind|total) ' "$DIR/wrk-mixed.txt"
} > "$DIR/summary.txt"
if [ "$ALONE" != 0 ]; then
    echo "each kind alone ($ALONE each, same connections; the reference):" \
        >> "$DIR/summary.txt"
    for k in $(echo "$MIX" | tr ',' '\n' | sed 's/=.*//'); do
        run_mix "$k=1" "$ALONE" "$DIR/wrk-alone-$k.txt"
        grep -E '^kind ' "$DIR/wrk-alone-$k.txt" >> "$DIR/summary.txt"
    done
fi
cat "$DIR/summary.txt"
if awk '/^kind / && $NF != 0 { bad = 1 } /^total / && $NF != "0)" { bad = 1 }
        END { exit !bad }' "$DIR/summary.txt"; then
    say "errors: see $DIR/wrk-*.txt"
    exit 1
fi
