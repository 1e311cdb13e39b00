#!/bin/sh
# bench/search.sh: latency and throughput of $GetDemographics and
# $FindCandidates against a registry holding BENCH_PATIENTS synthetic
# patients (default 1,000,000).  A benchmark, not a test: it prints the
# figures and the goals (GetDemographics p99 < 5 ms, FindCandidates p99 <
# 25 ms) and fails only on errors (a non-2xx answer, no server).
#
#   bench/search.sh
#
# The patients are written straight through the store
# (bench/gen-search-patients.c, cr_store_patient_insert in transactions of
# 10,000), so the rows and index keys are exactly the module's.  The
# loaded database is kept in bench/out/search/ and reused by the next run
# with the same BENCH_PATIENTS (BENCH_RELOAD=1 forces a new load).
#
# Each operation is measured twice with wrk: with one connection (the
# service time of one request: p50/p99) and with BENCH_CONNECTIONS (32)
# connections (throughput, and p50/p99 including queueing on the 2 cores
# that wrk and httpd share).  Bodies: one request per sampled patient
# (GetDemographics by PHN; FindCandidates by family, given, birth date and
# gender as the IG's example), picked at random.
#
# Environment (defaults in brackets):
#   BENCH_PORT [18081]  BENCH_PATIENTS [1000000]  BENCH_CONNECTIONS [32]
#   BENCH_THREADS [2]   BENCH_DURATION [10s]      BENCH_WARMUP [3s]
#   BENCH_NO_BUILD [unset: run ./quickstart build first]  BENCH_RELOAD
set -eu
BENCH=$(cd "$(dirname "$0")" && pwd)
TREE=$(dirname "$BENCH")
OUT=$BENCH/out/search
PORT=${BENCH_PORT:-18081}
PATIENTS=${BENCH_PATIENTS:-1000000}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-3s}
URL=http://127.0.0.1:$PORT
DB=$OUT/var/db/registry.db

. "$BENCH/lib.sh"
bench_build "$TREE"
bench_need_wrk
mkdir -p "$OUT"

stop_httpd() { bench_stop_httpd "$OUT/var/run/httpd.pid"; }
stop_httpd

# --- the generator, linked with the tree's store and core libraries -------
# shellcheck disable=SC2046
gcc -O2 -Wall -Wextra -I"$TREE/mod_clientregistry" \
    $(pkg-config --cflags apr-1 apr-util-1 json-c) \
    -o "$OUT/gen-search-patients" "$BENCH/gen-search-patients.c" \
    "$TREE/.libs/libcrstore.a" "$TREE/.libs/libcrcore.a" \
    $(pkg-config --libs apr-1 apr-util-1 json-c) -lcrypto -lm

# --- load (once per BENCH_PATIENTS) ---------------------------------------
if [ -n "${BENCH_RELOAD:-}" ] || [ ! -f "$DB" ] || [ ! -f "$OUT/samples.txt" ] \
   || [ "$(cat "$OUT/loaded" 2>/dev/null)" != "$PATIENTS" ]; then
    rm -rf "$OUT/var" "$OUT/loaded" "$OUT/samples.txt"
    mkdir -p "$OUT/var/db"
    "$TREE/cr-admin" --schema-dir "$TREE/schema" migrate "$DB" >/dev/null
    bench_say "loading $PATIENTS patients through cr_store_patient_insert"
    step=$((PATIENTS / 2000)); [ "$step" -lt 1 ] && step=1
    nice -n 5 "$OUT/gen-search-patients" "$DB" "$PATIENTS" \
        "$OUT/samples.txt" "$step"
    echo "$PATIENTS" > "$OUT/loaded"
fi
# A kept database gets the migrations added since it was loaded.
"$TREE/cr-admin" --schema-dir "$TREE/schema" migrate "$DB" >/dev/null
bench_say "database: $(du -sh "$DB" | cut -f1), $(wc -l < "$OUT/samples.txt") sampled patients"

# --- request bodies --------------------------------------------------------
awk -F'\t' '{
    printf "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{\"fullUrl\":\"urn:uuid:p%d\",\"resource\":{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"messageId\",\"valueString\":\"gd-%d\"},{\"name\":\"history\",\"valueBoolean\":false}]}},{\"fullUrl\":\"urn:uuid:q%d\",\"resource\":{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"https://fhir.infoway-inforoute.ca/NamingSystem/ca-bc-patient-healthcare-id\",\"value\":\"%s\"}]}}]}\n", NR, NR, NR, $1
}' "$OUT/samples.txt" > "$OUT/gd-bodies.txt"
awk -F'\t' '{
    printf "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{\"fullUrl\":\"urn:uuid:p%d\",\"resource\":{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"messageId\",\"valueString\":\"fc-%d\"},{\"name\":\"identifiersOnly\",\"valueBoolean\":false}]}},{\"fullUrl\":\"urn:uuid:q%d\",\"resource\":{\"resourceType\":\"Patient\",\"name\":[{\"use\":\"usual\",\"family\":\"%s\",\"given\":[\"%s\"]}],\"gender\":\"%s\",\"birthDate\":\"%s\"}}]}\n", NR, NR, NR, $2, $3, $5, $4
}' "$OUT/samples.txt" > "$OUT/fc-bodies.txt"

# --- server ----------------------------------------------------------------
trap stop_httpd EXIT
trap 'exit 130' INT TERM
bench_serve "$TREE" "$OUT" "$PORT" "LogLevel warn"

# One request of each kind must succeed before measuring.
for op in GetDemographics FindCandidates; do
    f=$OUT/gd-bodies.txt; [ $op = FindCandidates ] && f=$OUT/fc-bodies.txt
    code=$(head -n 1 "$f" | curl -s -o "$OUT/check-$op.json" -w '%{http_code}' \
        -H 'Content-Type: application/fhir+json' --data-binary @- \
        "$URL/fhir/Patient/\$$op")
    [ "$code" = 200 ] || { bench_say "$op answered $code"; exit 1; }
    total=$(sed -n 's/.*"total":\([0-9]*\).*/\1/p' "$OUT/check-$op.json")
    [ "${total:-0}" -ge 1 ] || { bench_say "$op found nobody"; exit 1; }
done

# --- measure ---------------------------------------------------------------
# run OP BODIES THREADS CONNS DURATION OUTFILE
run() {
    BENCH_BODIES=$2 BENCH_OP_PATH="/fhir/Patient/\$$1" wrk -t"$3" -c"$4" \
        -d"$5" --latency -s "$BENCH/search-bodies.lua" "$URL" > "$6" 2>&1
    n=$(bench_non2xx "$6")
    if [ "$n" -ne 0 ]; then
        bench_say "$1: $n non-2xx answers (see $6)"; exit 1
    fi
}

bad=0
for op in GetDemographics FindCandidates; do
    f=$OUT/gd-bodies.txt; goal=5; [ $op = FindCandidates ] && {
        f=$OUT/fc-bodies.txt; goal=25; }
    run $op "$f" 1 1 "$WARMUP" "$OUT/wrk-$op-warmup.txt"
    run $op "$f" 1 1 "$DURATION" "$OUT/wrk-$op-c1.txt"
    run $op "$f" "$THREADS" "$CONNS" "$DURATION" "$OUT/wrk-$op-c$CONNS.txt"
    p50=$(bench_latency "$OUT/wrk-$op-c1.txt" 50)
    p99=$(bench_latency "$OUT/wrk-$op-c1.txt" 99)
    q50=$(bench_latency "$OUT/wrk-$op-c$CONNS.txt" 50)
    q99=$(bench_latency "$OUT/wrk-$op-c$CONNS.txt" 99)
    qps=$(bench_rps "$OUT/wrk-$op-c$CONNS.txt")
    met=$(awk -v a="$p99" -v g="$goal" 'BEGIN { print (a < g) ? "met" : "MISSED" }')
    printf '%-16s 1 conn: p50 %6s ms  p99 %6s ms (goal p99 < %s ms: %s) | %s conns: p50 %6s ms  p99 %6s ms  %s req/s\n' \
        "$op" "$p50" "$p99" "$goal" "$met" "$CONNS" "$q50" "$q99" "$qps"
done
bench_say "$PATIENTS patients, $(nproc) cores shared by wrk and httpd;" \
    "raw wrk output in $OUT"
