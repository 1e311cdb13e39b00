#!/bin/sh
# bench/read.sh: read throughput of GET [base]/Patient/{id} against httpd
# serving a static file of the same bytes, from the same server in the
# same run.  Prints the ratio; never fails on a timing (only on errors).
#
#   bench/read.sh            build if needed, load, measure, stop
#
# Environment (defaults in brackets):
#   BENCH_PORT [18080]  BENCH_PATIENTS [10000]  BENCH_LOAD_WORKERS [1]
#   BENCH_LOAD_TIMEOUT [900] (seconds for the whole load)
#   BENCH_THREADS [2]   BENCH_CONNECTIONS [32]  BENCH_DURATION [10s]
#   BENCH_WARMUP [3s]   BENCH_ROUNDS [2]        BENCH_ACCESS_LOG [on|off]
#   BENCH_DRAIN [300] (seconds to wait, after each module run, until the
#     audit trail holds a record of every request the run completed; the
#     wait is added to the run's time, so the audit work is in the rate)
#   BENCH_PERF [unset]: when 1, perf-record the httpd children during the
#     first module run (bench/out/read/perf.data, top symbols in perf.txt)
#   BENCH_EXTRA_CONF [empty]: more httpd lines, appended (experiments such
#     as 'DBDInitSQL "PRAGMA synchronous=NORMAL"')
#   BENCH_NO_BUILD [unset: run ./quickstart build first]
#   BENCH_REUSE [unset]: 1 reuses the database of the last load of as
#     many patients (bench/out/read/cache-N/) instead of loading again
#   BENCH_TREE [this tree]: a built source tree whose module, cr-admin and
#     schema to measure instead (for A/B runs; it is not built)
#
# Everything it writes is under bench/out/read/ (git-ignored): the server
# root var/ (config, database, logs), the static file, the ids and
# wrk's raw output.  Loopback only; every wrk run is bounded by its -d.
set -eu
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
OUT=$BENCH/out/read
PORT=${BENCH_PORT:-18080}
PATIENTS=${BENCH_PATIENTS:-10000}
# One loading connection: two concurrent creates in one httpd child can stall
# for minutes (see bench/README.md, "Concurrent creates stall").
LOAD_WORKERS=${BENCH_LOAD_WORKERS:-1}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-32}
DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-3s}
ROUNDS=${BENCH_ROUNDS:-2}
ACCESS_LOG=${BENCH_ACCESS_LOG:-on}
GOAL=0.80
DRAIN=${BENCH_DRAIN:-300}
URL=http://127.0.0.1:$PORT
CONF=$OUT/var/httpd.conf

say() { printf 'bench: %s\n' "$*" >&2; }

# --- build and tools -------------------------------------------------------
TREE=$(cd "${BENCH_TREE:-$ROOT}" && pwd)
if [ -z "${BENCH_NO_BUILD:-}" ] && [ "$TREE" = "$ROOT" ]; then
    "$ROOT/quickstart" build
fi
if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        say "installing wrk"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    else
        say "wrk is missing (apt-get install wrk)"; exit 1
    fi
fi
[ -f "$TREE/.libs/mod_clientregistry.so" ] || { say "module not built"; exit 1; }
LIBEXEC=$(apxs -q LIBEXECDIR)

# Signal the parent named in our own pid file (what -k stop does, without
# parsing the config: a module being rebuilt next door would make that fail).
stop_httpd() {
    if [ -f "$OUT/var/run/httpd.pid" ]; then
        pid=$(cat "$OUT/var/run/httpd.pid")
        say "stopping httpd (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || rm -f "$OUT/var/run/httpd.pid"
        i=0
        while [ -f "$OUT/var/run/httpd.pid" ] && [ $i -lt 100 ]; do
            sleep 0.2; i=$((i + 1))
        done
    fi
}

# A server left over from an interrupted run of this script (same pid file).
stop_httpd
if curl -s -o /dev/null --max-time 2 "$URL/"; then
    say "something already listens on 127.0.0.1:$PORT (set BENCH_PORT)"
    exit 1
fi

# --- fresh server root -----------------------------------------------------
rm -rf "$OUT/var" "$OUT/static" "$OUT"/wrk-*.txt "$OUT"/*paths.txt \
       "$OUT/ids.txt" "$OUT/load.txt"
mkdir -p "$OUT/var/db" "$OUT/var/logs" "$OUT/var/run" "$OUT/static"
# A private copy of the module: others rebuild the tree while we run.
cp "$TREE/.libs/mod_clientregistry.so" "$OUT/var/mod_clientregistry.so"
"$TREE/cr-admin" --schema-dir "$TREE/schema" migrate \
    "$OUT/var/db/registry.db" >/dev/null
if [ "$(id -u)" -eq 0 ]; then
    # Children run as nobody: WAL needs the directory writable too.
    chown -R nobody:nogroup "$OUT/var/db"
    UG="User nobody
Group nogroup"
else
    UG=""
fi

# The quickstart template, unchanged (so the bench serves what quickstart
# serves), with ROOT pointing at bench/out/read and the static reference added.
EXTRA_LOADS="LoadModule alias_module $LIBEXEC/mod_alias.so
LoadModule mime_module $LIBEXEC/mod_mime.so"
EXTRA_CONF="LogLevel warn
TypesConfig /dev/null
AddType \"application/fhir+json; charset=utf-8\" .json
Alias /static \"$OUT/static\"
<Directory \"$OUT/static\">
    Require all granted
</Directory>
${BENCH_EXTRA_CONF:-}"
ROOT_SUB=$OUT LISTEN="127.0.0.1:$PORT" LIBEXECDIR_SUB=$LIBEXEC \
MODULE="$OUT/var/mod_clientregistry.so" UG="$UG" \
EXTRA_LOADS="$EXTRA_LOADS" EXTRA_CONF="$EXTRA_CONF" ACCESS_LOG="$ACCESS_LOG" \
awk '{
        if (ENVIRON["ACCESS_LOG"] == "off" && $1 == "CustomLog") next
        gsub(/@ROOT@/, ENVIRON["ROOT_SUB"]); gsub(/@LISTEN@/, ENVIRON["LISTEN"])
        gsub(/@LIBEXECDIR@/, ENVIRON["LIBEXECDIR_SUB"])
        gsub(/@MODULE@/, ENVIRON["MODULE"]); gsub(/@USERGROUP@/, ENVIRON["UG"])
        gsub(/@EXTRA_LOADS@/, ENVIRON["EXTRA_LOADS"])
        gsub(/@EXTRA_CONF@/, ENVIRON["EXTRA_CONF"]); print
    }' "$TREE/conf/quickstart.conf.in" > "$CONF"
apache2 -t -f "$CONF" >/dev/null 2>&1 || { apache2 -t -f "$CONF"; exit 1; }

# BENCH_REUSE=1: the database and ids of the last load of as many patients
# (bench/out/read/cache-N/), instead of loading again; for A/B rounds of
# trees with the same schema.
CACHE=$OUT/cache-$PATIENTS
REUSED=""
if [ "${BENCH_REUSE:-}" = 1 ] && [ -f "$CACHE/registry.db" ]; then
    rm -f "$OUT/var/db/registry.db"*
    cp "$CACHE/registry.db" "$OUT/var/db/registry.db"
    # VACUUM INTO writes a rollback-journal database: WAL as cr-admin sets.
    sqlite3 "$OUT/var/db/registry.db" "PRAGMA journal_mode=WAL" >/dev/null
    cp "$CACHE/ids.txt" "$CACHE/load.txt" "$OUT/"
    [ "$(id -u)" -ne 0 ] || chown -R nobody:nogroup "$OUT/var/db"
    REUSED=1
fi

# --- start -----------------------------------------------------------------
trap stop_httpd EXIT
trap 'exit 130' INT TERM
apache2 -f "$CONF" -k start
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
          "$URL/fhir/metadata")" = 200 ]; do
    i=$((i + 1))
    if [ $i -ge 50 ]; then
        say "no answer from $URL/fhir/metadata; see $OUT/var/logs/error_log"
        exit 1
    fi
    sleep 0.2
done
say "httpd $(apache2 -v | sed -n 's/^Server version: //p'), event MPM," \
    "$URL, $(nproc) cores, access log $ACCESS_LOG, module from $TREE"

# --- load ------------------------------------------------------------------
if [ -n "$REUSED" ]; then
    say "reusing the database of $CACHE"
else
    perl "$BENCH/load-patients.pl" "$URL/fhir" "$PATIENTS" "$OUT/ids.txt" \
        "$LOAD_WORKERS" > "$OUT/load.txt"
    # A copy for BENCH_REUSE (the WAL checkpointed into it first).
    rm -rf "$CACHE"; mkdir -p "$CACHE"
    sqlite3 -cmd ".timeout 10000" "$OUT/var/db/registry.db" \
        "VACUUM INTO '$CACHE/registry.db'" \
        && cp "$OUT/ids.txt" "$OUT/load.txt" "$CACHE/" || rm -rf "$CACHE"
fi
cat "$OUT/load.txt"

# The static reference: the exact bytes the module sends for one patient.
ID=$(head -n 1 "$OUT/ids.txt")
curl -sf -H 'Accept: application/fhir+json' -o "$OUT/static/patient.json" \
    "$URL/fhir/Patient/$ID"
chmod 644 "$OUT/static/patient.json"
curl -sf -o "$OUT/static-check.json" "$URL/static/patient.json"
cmp -s "$OUT/static/patient.json" "$OUT/static-check.json" || {
    say "the static file does not come back byte for byte"; exit 1; }
rm -f "$OUT/static-check.json"
say "static file: $(wc -c < "$OUT/static/patient.json") bytes" \
    "(Patient/$ID)"
sed 's|^|/fhir/Patient/|' "$OUT/ids.txt" > "$OUT/module-paths.txt"
echo /static/patient.json > "$OUT/static-paths.txt"

# --- measure ---------------------------------------------------------------
# run_wrk PATHS OUTFILE DURATION
run_wrk() {
    BENCH_PATHS=$1 wrk -t"$THREADS" -c"$CONNS" -d"$3" --latency \
        -s "$BENCH/read-ids.lua" "$URL" > "$2" 2>&1
}
rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }
# lat FILE PERCENT: a latency percentile in ms.
lat() {
    awk -v p="$2%" '$1 == p {
        v = $2
        if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v) }
        else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }
        printf "%.2f", v }' "$1"
}
non2xx() {
    awk -F: '/Non-2xx or 3xx responses/ { gsub(/ /, "", $2); n = $2 }
             END { printf "%d", n }' "$1"
}
# requests FILE: how many requests wrk completed; secs FILE: in how long.
requests() { awk '/ requests in / { print $1; exit }' "$1"; }
secs() {
    awk '/ requests in / { v = $4; sub(/,$/, "", v)
        if (v ~ /ms$/) { sub(/ms$/, "", v); v /= 1000 }
        else if (v ~ /m$/) { sub(/m$/, "", v); v *= 60 }
        else { sub(/s$/, "", v) }
        print v; exit }' "$1"
}
# The audit trail's last sequence number (every request below /fhir gets
# one record; reads are written in batches after the response).
DB=$OUT/var/db/registry.db
audit_seq() {
    sqlite3 -cmd ".timeout 5000" "$DB" \
        "SELECT COALESCE(MAX(seq), 0) FROM cr_audit" 2>/dev/null || echo 0
}
now() { date +%s.%N; }
# httpd's CPU time so far (parent and children, clock ticks): a figure per
# request that depends less on what else the machine runs than req/s.
cpu_ticks() {
    ppid=$(cat "$OUT/var/run/httpd.pid")
    for p in $ppid $(pgrep -P "$ppid"); do
        cat "/proc/$p/stat" 2>/dev/null
    done | awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}
# drain BASE N: waits until the trail holds BASE + N records, or DRAIN
# seconds; prints the seconds waited and the records found beyond BASE.
drain() {
    t0=$(now); got=0
    while :; do
        got=$(( $(audit_seq) - $1 ))
        [ "$got" -ge "$2" ] && break
        awk -v a="$t0" -v b="$(now)" -v d="$DRAIN" \
            'BEGIN { exit !(b - a >= d) }' && break
        sleep 0.05
    done
    awk -v a="$t0" -v b="$(now)" -v g="$got" \
        'BEGIN { printf "%.2f %d", b - a, g }'
}
sockerr() {
    awk '/^  Socket errors/ { gsub(/[^0-9 ]/, ""); for (k = 1; k <= NF; k++)
                                                       e += $k }
         END { printf "%d", e }' "$1"
}

say "warm-up $WARMUP each, then $ROUNDS x (static, module) for $DURATION," \
    "wrk -t$THREADS -c$CONNS"
run_wrk "$OUT/static-paths.txt" "$OUT/wrk-warmup-static.txt" "$WARMUP"
base=$(audit_seq)
run_wrk "$OUT/module-paths.txt" "$OUT/wrk-warmup-module.txt" "$WARMUP"
# The warm-up's records are in before the first measured run starts.
drain "$base" "$(requests "$OUT/wrk-warmup-module.txt")" >/dev/null

best_s=0; best_m=0; s_line=""; m_line=""; bad=0
r=1
while [ $r -le "$ROUNDS" ]; do
    for kind in static module; do
        f=$OUT/wrk-$kind-$r.txt
        base=$(audit_seq)
        c0=$(cpu_ticks)
        if [ "${BENCH_PERF:-}" = 1 ] && [ $kind = module ] && [ $r = 1 ]; then
            run_wrk "$OUT/$kind-paths.txt" "$f" "$DURATION" &
            wpid=$!
            sleep 1
            perf record -q -F 999 -g -o "$OUT/perf.data" \
                -p "$(pgrep -d, -P "$(cat "$OUT/var/run/httpd.pid")")" \
                -- sleep 5 >/dev/null 2>&1 || say "perf record failed"
            wait $wpid
            perf report -i "$OUT/perf.data" --no-children --stdio -g none \
                --sort dso,sym 2>/dev/null | grep -v '^#' \
                | head -60 > "$OUT/perf.txt" || true
        else
            run_wrk "$OUT/$kind-paths.txt" "$f" "$DURATION"
        fi
        n=$(requests "$f"); t=$(secs "$f"); e=$(non2xx "$f"); se=$(sockerr "$f")
        # The static file is not audited; a module run lasts until the
        # trail holds a record of each of its requests.
        dr="0.00 0"; audit=""
        if [ $kind = module ]; then
            dr=$(drain "$base" "${n:-0}")
            audit="  drain ${dr% *} s  audited ${dr#* }/$n"
            [ "${dr#* }" -ge "${n:-0}" ] || { bad=1; audit="$audit MISSING"; }
        fi
        rate=$(awk -v n="${n:-0}" -v t="${t:-0}" -v d="${dr% *}" \
                   'BEGIN { printf "%.0f", (t + d > 0) ? n / (t + d) : 0 }')
        # httpd's CPU per request (children that exited meanwhile are not
        # counted: exact with the quickstart's fixed processes).
        cpu=$(awk -v a="$c0" -v b="$(cpu_ticks)" -v n="${n:-0}" \
                  -v hz="$(getconf CLK_TCK)" \
                  'BEGIN { printf "%.0f", (n > 0) ? (b - a) * 1e6 / hz / n : 0 }')
        line="$rate req/s  p50 $(lat "$f" 50) ms  p99 $(lat "$f" 99) ms  httpd CPU $cpu us/req"
        printf '  %-6s #%d: %s  non-2xx %d  socket errors %d%s\n' \
            "$kind" "$r" "$line" "$e" "$se" "$audit"
        [ "$e" -eq 0 ] || bad=1
        if [ "$kind" = static ] && [ "${rate:-0}" -gt "$best_s" ]; then
            best_s=$rate; s_line=$line
        elif [ "$kind" = module ] && [ "${rate:-0}" -gt "$best_m" ]; then
            best_m=$rate; m_line="$line$audit"
        fi
    done
    r=$((r + 1))
done

ratio=$(awk -v m="$best_m" -v s="$best_s" \
            'BEGIN { printf "%.2f", (s > 0) ? m / s : 0 }')
verdict=$(awk -v x="$ratio" -v g="$GOAL" \
              'BEGIN { print ((x >= g) ? "met" : "NOT met") }')
{
    cat "$OUT/load.txt"
    echo "best of $ROUNDS: module $m_line; static $s_line"
    echo "read: $best_m req/s  static: $best_s req/s  ratio $ratio" \
         "(goal >= $GOAL, $verdict; module rate = requests / (run + audit drain))"
} | tee "$OUT/summary.txt"
if [ $bad -ne 0 ]; then
    say "some responses were not 2xx or not audited: see $OUT/wrk-*.txt" \
        "and the error_log"
    exit 1
fi
