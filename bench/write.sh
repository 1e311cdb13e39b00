#!/bin/sh
# bench/write.sh: AddPatient and RevisePatient throughput (wrk, 32
# connections) against databases of 100,000 and 1,000,000 clients, next
# to the rate of a plain C program (bench/write-raw.c) doing the same rows
# into the same SQLite schema with the same durability settings, in the
# same run.  Prints each rate and the ratio (goal: 0.5).  Not a test: it
# never fails on a timing, only on errors.
#
# Environment (defaults in brackets):
#   BENCH_PORT [18081]  BENCH_SIZES ["100000 1000000"]
#   BENCH_THREADS [2]   BENCH_CONNECTIONS [32]  BENCH_DURATION [10s]
#   BENCH_NO_BUILD [unset: run ./quickstart build first]
# Everything it writes is under bench/out/write/ (git-ignored).
set -eu
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
OUT=$BENCH/out/write
PORT=${BENCH_PORT:-18081}
SIZES=${BENCH_SIZES:-"100000 1000000"}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-32}
DURATION=${BENCH_DURATION:-10s}
SECS=${DURATION%s}
GOAL=0.5
URL=http://127.0.0.1:$PORT

. "$BENCH/lib.sh"

bench_build "$ROOT"
bench_need_wrk
mkdir -p "$OUT"

stop_httpd() { bench_stop_httpd "$OUT/var/run/httpd.pid"; }
trap stop_httpd EXIT
trap 'exit 130' INT TERM
stop_httpd

for SIZE in $SIZES; do
    bench_say "== $SIZE clients =="
    rm -rf "$OUT/var"
    mkdir -p "$OUT/var/db"
    bench_preload_raw "$OUT" "$SIZE" "$ROOT"
    for op in add revise; do
        # the module, on a fresh copy of the preloaded database
        stop_httpd
        rm -rf "$OUT/var/db"; mkdir -p "$OUT/var/db"
        cp "$OUT/base-$SIZE.db" "$OUT/var/db/registry.db"
        bench_serve "$ROOT" "$OUT" "$PORT" "LogLevel warn"
        BENCH_OP=$op BENCH_CLIENTS=$SIZE wrk -t"$THREADS" -c"$CONNS" \
            -d"$DURATION" -s "$BENCH/write.lua" "$URL" \
            > "$OUT/wrk-$op-$SIZE.txt" 2>&1
        stop_httpd
        m=$(bench_rps "$OUT/wrk-$op-$SIZE.txt")
        bad=$(bench_non2xx "$OUT/wrk-$op-$SIZE.txt")
        # the raw program, on another fresh copy
        cp "$OUT/base-$SIZE.db" "$OUT/raw.db"
        rm -f "$OUT/raw.db-wal" "$OUT/raw.db-shm"
        r=$("$OUT/write-raw" "$OUT/raw.db" "$op" "$SECS" "$SIZE" \
            | awk '{ sub(/\/s/, "", $2); print $2 }')
        rm -f "$OUT/raw.db"*
        ratio=$(awk -v m="$m" -v r="$r" 'BEGIN { printf "%.2f", (r > 0 ? m / r : 0) }')
        printf '%-7s %8s clients: module %6s/s (non-2xx %s), raw %6s/s, ratio %s (goal %s)\n' \
            "$op" "$SIZE" "$m" "$bad" "$r" "$ratio" "$GOAL"
    done
done
