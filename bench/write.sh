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
CONF=$OUT/var/httpd.conf

say() { printf 'bench: %s\n' "$*" >&2; }

if [ -z "${BENCH_NO_BUILD:-}" ]; then
    "$ROOT/quickstart" build
fi
command -v wrk >/dev/null 2>&1 || { say "wrk is missing"; exit 1; }
[ -f "$ROOT/.libs/mod_clientregistry.so" ] || { say "module not built"; exit 1; }
LIBEXEC=$(apxs -q LIBEXECDIR)
mkdir -p "$OUT"
cc -O2 -o "$OUT/write-raw" "$BENCH/write-raw.c" -lsqlite3

stop_httpd() {
    if [ -f "$OUT/var/run/httpd.pid" ]; then
        pid=$(cat "$OUT/var/run/httpd.pid")
        kill -TERM "$pid" 2>/dev/null || rm -f "$OUT/var/run/httpd.pid"
        i=0
        while [ -f "$OUT/var/run/httpd.pid" ] && [ $i -lt 100 ]; do
            sleep 0.2; i=$((i + 1))
        done
    fi
}
trap stop_httpd EXIT
trap 'exit 130' INT TERM
stop_httpd

start_httpd() {
    rm -rf "$OUT/var/logs" "$OUT/var/run"
    mkdir -p "$OUT/var/logs" "$OUT/var/run"
    cp "$ROOT/.libs/mod_clientregistry.so" "$OUT/var/mod_clientregistry.so"
    if [ "$(id -u)" -eq 0 ]; then
        chown -R nobody:nogroup "$OUT/var/db"
        UG="User nobody
Group nogroup"
    else
        UG=""
    fi
    ROOT_SUB=$OUT LISTEN="127.0.0.1:$PORT" LIBEXECDIR_SUB=$LIBEXEC \
    MODULE="$OUT/var/mod_clientregistry.so" UG="$UG" \
    EXTRA_LOADS="" EXTRA_CONF="LogLevel warn" \
    awk '{
            if ($1 == "CustomLog") next
            gsub(/@ROOT@/, ENVIRON["ROOT_SUB"]); gsub(/@LISTEN@/, ENVIRON["LISTEN"])
            gsub(/@LIBEXECDIR@/, ENVIRON["LIBEXECDIR_SUB"])
            gsub(/@MODULE@/, ENVIRON["MODULE"]); gsub(/@USERGROUP@/, ENVIRON["UG"])
            gsub(/@EXTRA_LOADS@/, ENVIRON["EXTRA_LOADS"])
            gsub(/@EXTRA_CONF@/, ENVIRON["EXTRA_CONF"]); print
        }' "$ROOT/conf/quickstart.conf.in" > "$CONF"
    apache2 -f "$CONF" -k start
    i=0
    until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
              "$URL/fhir/metadata")" = 200 ]; do
        i=$((i + 1))
        [ $i -ge 50 ] && { say "httpd does not answer"; exit 1; }
        sleep 0.2
    done
}

rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }
non2xx() {
    awk -F: '/Non-2xx or 3xx responses/ { gsub(/ /, "", $2); n = $2 }
             END { printf "%d", n }' "$1"
}

for SIZE in $SIZES; do
    say "== $SIZE clients =="
    rm -rf "$OUT/var"
    mkdir -p "$OUT/var/db"
    "$ROOT/cr-admin" --schema-dir "$ROOT/schema" migrate \
        "$OUT/base.db" >/dev/null 2>&1 || true
    if [ ! -f "$OUT/base-$SIZE.db" ]; then
        rm -f "$OUT/base.db"*
        "$ROOT/cr-admin" --schema-dir "$ROOT/schema" migrate \
            "$OUT/base.db" >/dev/null
        "$OUT/write-raw" "$OUT/base.db" preload "$SIZE" >&2
        mv "$OUT/base.db" "$OUT/base-$SIZE.db"
        rm -f "$OUT/base.db"*
    fi
    for op in add revise; do
        # the module, on a fresh copy of the preloaded database
        stop_httpd
        rm -rf "$OUT/var/db"; mkdir -p "$OUT/var/db"
        cp "$OUT/base-$SIZE.db" "$OUT/var/db/registry.db"
        start_httpd
        BENCH_OP=$op BENCH_CLIENTS=$SIZE wrk -t"$THREADS" -c"$CONNS" \
            -d"$DURATION" -s "$BENCH/write.lua" "$URL" \
            > "$OUT/wrk-$op-$SIZE.txt" 2>&1
        stop_httpd
        m=$(rps "$OUT/wrk-$op-$SIZE.txt")
        bad=$(non2xx "$OUT/wrk-$op-$SIZE.txt")
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
