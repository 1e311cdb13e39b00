#!/bin/sh
# bench/notify.sh: the cost of change notifications on writes.
# $RevisePatient (wrk, 32 connections, bench/write.lua, every revise a
# change: a COMPOSITE event) on a preloaded database, first with no
# subscription, then with three local partners (bench/notify-partner.py,
# each answering 200) subscribed to every event code, in one run.  Prints
# both write rates and their ratio (goal >= 0.8), and the commit-to-receipt
# lag of the notifications (cr_outbox.created to the partner's receipt) at
# p50 and p99 (goal p99 < 1 s), once every queued notification has arrived
# (or BENCH_DRAIN seconds have passed: then it says how many had not).
# Not a test: it never fails on a timing, only on errors.
#
# Environment (defaults in brackets):
#   BENCH_PORT [18083] (partners on the next three ports)
#   BENCH_SIZE [20000]  BENCH_THREADS [2]  BENCH_CONNECTIONS [32]
#   BENCH_DURATION [10s]  BENCH_DRAIN [120]
#   BENCH_NO_BUILD [unset: run ./quickstart build first]
#   BENCH_MODULE [.libs/mod_clientregistry.so] (another build to compare)
#   BENCH_COUNT [unset] 1: also count, per event, the SQL statements,
#     transactions and fsyncs of each run (bench/count-sql.c preloaded
#     into httpd; load-independent, unlike the rates)
# Everything it writes is under bench/out/notify/ (git-ignored).
set -eu
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
OUT=$BENCH/out/notify
PORT=${BENCH_PORT:-18083}
SIZE=${BENCH_SIZE:-20000}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-32}
DURATION=${BENCH_DURATION:-10s}
DRAIN=${BENCH_DRAIN:-120}
URL=http://127.0.0.1:$PORT
DB=$OUT/var/db/registry.db

say() { printf 'bench: %s\n' "$*" >&2; }

. "$BENCH/lib.sh"
bench_build "$ROOT"
bench_need_wrk
command -v sqlite3 >/dev/null 2>&1 || { say "sqlite3 is missing"; exit 1; }
MODSO=${BENCH_MODULE:-$ROOT/.libs/mod_clientregistry.so}
[ -f "$MODSO" ] || { say "module not built"; exit 1; }
mkdir -p "$OUT"
PRELOAD=""
if [ -n "${BENCH_COUNT:-}" ]; then
    cc -O2 -shared -fPIC -o "$OUT/count-sql.so" "$BENCH/count-sql.c" -ldl
    PRELOAD=$OUT/count-sql.so
fi

PARTNER_PIDS=""
stop_partners() {
    for p in $PARTNER_PIDS; do kill "$p" 2>/dev/null || true; done
    PARTNER_PIDS=""
}
stop_httpd() { bench_stop_httpd "$OUT/var/run/httpd.pid"; }
trap 'stop_httpd; stop_partners' EXIT
trap 'exit 130' INT TERM
stop_httpd

# The server, with the statement counter preloaded into httpd when
# BENCH_COUNT is set (COUNTS is the file of the run being measured).
start_httpd() {
    BENCH_HTTPD_ENV=""
    if [ -n "$PRELOAD" ]; then
        head -c 4096 /dev/zero > "$COUNTS"; chmod 666 "$COUNTS"
        BENCH_HTTPD_ENV="LD_PRELOAD=$PRELOAD COUNT_SQL_FILE=$COUNTS"
    fi
    BENCH_MODULE=$MODSO BENCH_HTTPD_ENV=$BENCH_HTTPD_ENV \
        bench_serve "$ROOT" "$OUT" "$PORT" "LogLevel warn"
}

rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }
non2xx() {
    awk -F: '/Non-2xx or 3xx responses/ { gsub(/ /, "", $2); n = $2 }
             END { printf "%d", n }' "$1"
}

bench_preload_raw "$OUT" "$SIZE" "$ROOT"

# One revise run on a fresh copy of the preloaded database; $1: the number
# of partners to subscribe first.
run() {
    stop_httpd
    rm -rf "$OUT/var"; mkdir -p "$OUT/var/db"
    cp "$OUT/base-$SIZE.db" "$DB"
    COUNTS=$OUT/counts-$1.bin
    start_httpd
    k=1
    while [ "$k" -le "$1" ]; do
        python3 - "$ROOT/t/data/ig/Subscription-SampleCompositeSubscriptionRequest.json" \
            "http://127.0.0.1:$((PORT + k))/p$k" > "$OUT/sub-$k.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["channel"]["payload"] = "application/fhir+json"
s["channel"]["endpoint"] = sys.argv[2]
s["_criteria"]["extension"][0]["valueString"] = (
    "eventCode=NEW,NEWBORN,NEWBORN_GENDER,COMPOSITE,DEATH,PHN,PHNMERGE,"
    "PHNJOIN,SSRI,EID")
print(json.dumps(s))
PY
        code=$(curl -s -o "$OUT/sub-$k.out" -w '%{http_code}' \
               -H 'Content-Type: application/fhir+json' \
               --data-binary "@$OUT/sub-$k.json" "$URL/fhir/Subscription")
        [ "$code" = 201 ] || { say "subscription $k: HTTP $code"; cat "$OUT/sub-$k.out" >&2; exit 1; }
        k=$((k + 1))
    done
    BENCH_OP=revise BENCH_CLIENTS=$SIZE wrk -t"$THREADS" -c"$CONNS" \
        -d"$DURATION" -s "$BENCH/write.lua" "$URL" > "$OUT/wrk-$1.txt" 2>&1
}

# the reference: no subscription
run 0
ref=$(rps "$OUT/wrk-0.txt"); refbad=$(non2xx "$OUT/wrk-0.txt")
stop_httpd
events0=$(sqlite3 "$DB" "SELECT COUNT(*) FROM cr_outbox")

# three partners
rm -f "$OUT"/partner-*.log
for k in 1 2 3; do
    python3 "$BENCH/notify-partner.py" $((PORT + k)) "$OUT/partner-$k.log" &
    PARTNER_PIDS="$PARTNER_PIDS $!"
done
sleep 1
run 3
sub=$(rps "$OUT/wrk-3.txt"); subbad=$(non2xx "$OUT/wrk-3.txt")
# let the queue drain
i=0
while [ $i -lt "$DRAIN" ]; do
    left=$(sqlite3 "$DB" "SELECT COUNT(*) FROM cr_delivery WHERE state IN ('queued','sending')")
    [ "$left" -eq 0 ] && break
    sleep 1; i=$((i + 1))
done
stop_httpd
stop_partners
events=$(sqlite3 "$DB" "SELECT COUNT(*) FROM cr_outbox")
sqlite3 -separator ' ' "$DB" \
    "SELECT d.id, o.created FROM cr_delivery d JOIN cr_outbox o ON o.seq = d.event_seq" \
    > "$OUT/created.txt"
cat "$OUT"/partner-*.log > "$OUT/received.txt"
lag=$(python3 - "$OUT/created.txt" "$OUT/received.txt" <<'PY'
import sys, datetime
created = {}
for line in open(sys.argv[1]):
    mid, at = line.split()
    created[mid] = datetime.datetime.strptime(
        at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
first = {}
for line in open(sys.argv[2]):
    t, mid = line.split()
    if mid in created and mid not in first:
        first[mid] = float(t)
lags = sorted(first[m] - created[m] for m in first)
def q(v, p):
    return v[min(len(v) - 1, int(p * len(v)))] if v else float("nan")
print("%d of %d notifications received; lag p50 %.3f s, p99 %.3f s, max %.3f s"
      % (len(lags), len(created), q(lags, 0.50), q(lags, 0.99),
         lags[-1] if lags else 0))
# The same without the events of the run's first 2 s (a cold server:
# children starting, caches empty), shown beside the figure above, which
# counts every event.
t0 = min(created.values()) if created else 0
warm = sorted(first[m] - created[m] for m in first if created[m] - t0 >= 2)
print("  after the first 2 s (%d): lag p50 %.3f s, p99 %.3f s"
      % (len(warm), q(warm, 0.50), q(warm, 0.99)))
PY
)
ratio=$(awk -v a="$sub" -v b="$ref" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
printf 'revise %s clients, %s connections, %s:\n' "$SIZE" "$CONNS" "$DURATION"
printf '  no subscription:     %6s/s (non-2xx %s)\n' "$ref" "$refbad"
printf '  3 partners:          %6s/s (non-2xx %s), %s events\n' "$sub" "$subbad" "$events"
printf '  ratio %s (goal >= 0.8)\n' "$ratio"
printf '  %s\n' "$lag" | sed '1s/$/ (goal p99 < 1 s)/'
if [ -n "$PRELOAD" ]; then
    python3 - "$OUT/counts-0.bin" "$events0" "$OUT/counts-3.bin" "$events" <<'PY'
import struct, sys
names = ["statements", "begin", "commit", "on_cr_delivery", "on_cr_outbox",
         "on_cr_subscription", "version_reads", "fsyncs"]
def per(path, n):
    v = struct.unpack("8q", open(path, "rb").read(64))
    return [x / max(int(n), 1) for x in v]
a = per(sys.argv[1], sys.argv[2]); b = per(sys.argv[3], sys.argv[4])
print("  per event (write + notifications), no subscription / 3 partners / difference:")
for k, name in enumerate(names):
    print("    %-20s %6.2f  %6.2f  %+6.2f" % (name, a[k], b[k], b[k] - a[k]))
PY
fi
