#!/bin/sh
# bench/pg.sh: the PostgreSQL scale-out path, measured in one run against
# its SQLite reference (docs/postgresql.md).  On the same generated data:
#
#   load    cr-admin load and rekey, SQLite and PostgreSQL (goal: PostgreSQL
#           within 2x of SQLite's rate)
#   (a)     one httpd node on SQLite
#   (b)     one httpd node on PostgreSQL
#   (c)     two httpd nodes (two ports) on the same PostgreSQL database,
#           the connections split across them
#
# each serving GET Patient/{id}, $match and $RevisePatient at 32
# connections (wrk).  Prints every rate and the ratios (goals: (b) reads
# >= 0.7 x (a); (c) writes >= 1.5 x (b)); checks that no request failed,
# that every PHN is distinct and that the audit chain verifies after the
# run.  Not a test: it never fails on a timing, only on errors.
#
# PostgreSQL is a private cluster in a temporary directory (initdb, pg_ctl,
# its own port), started, stopped and removed by this script; the
# machine's own cluster is not touched.
#
# Environment (defaults in brackets):
#   BENCH_PORT [18090] (nodes on BENCH_PORT and BENCH_PORT + 1)
#   BENCH_PG_PORT [15490]  BENCH_PATIENTS [5000]  BENCH_REVISE_CLIENTS [2000]
#   BENCH_THREADS [2]  BENCH_CONNECTIONS [32]  BENCH_DURATION [8s]
#   BENCH_WARMUP [4s]  BENCH_NO_BUILD [unset: run ./quickstart build first]
# Everything it writes is under bench/out/pg/ (git-ignored).
set -eu
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
OUT=$BENCH/out/pg
PORT=${BENCH_PORT:-18090}
PORT2=$((PORT + 1))
PGPORT=${BENCH_PG_PORT:-15490}
PATIENTS=${BENCH_PATIENTS:-5000}
REVISE_CLIENTS=${BENCH_REVISE_CLIENTS:-2000}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-32}
DURATION=${BENCH_DURATION:-8s}
WARMUP=${BENCH_WARMUP:-4s}
PGPARAMS="host=127.0.0.1 port=$PGPORT user=cr_bench dbname=cr_bench"

say() { printf 'bench: %s\n' "$*" >&2; }

if [ -z "${BENCH_NO_BUILD:-}" ]; then
    "$ROOT/quickstart" build
fi
command -v wrk >/dev/null 2>&1 || { say "wrk is missing"; exit 1; }
[ -f "$ROOT/.libs/mod_clientregistry.so" ] || { say "module not built"; exit 1; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$PGBIN/initdb" ] || { say "PostgreSQL server binaries are missing"; exit 1; }
LIBEXEC=$(apxs -q LIBEXECDIR)
if [ "$(id -u)" -eq 0 ]; then
    AS_PG="runuser -u postgres --"
    UG="User nobody
Group nogroup"
else
    AS_PG=""
    UG=""
fi

# --- stopping what this script started (its own pid files only) -----------
stop_node() {   # stop_node DIR
    if [ -f "$1/run/httpd.pid" ]; then
        kill -TERM "$(cat "$1/run/httpd.pid")" 2>/dev/null \
            || rm -f "$1/run/httpd.pid"
        i=0
        while [ -f "$1/run/httpd.pid" ] && [ $i -lt 100 ]; do
            sleep 0.2; i=$((i + 1))
        done
    fi
}
CLUSTER=""
stop_pg() {
    if [ -n "$CLUSTER" ] && [ -f "$CLUSTER/postmaster.pid" ]; then
        $AS_PG "$PGBIN/pg_ctl" -D "$CLUSTER" -m fast -w stop >/dev/null \
            2>&1 || true
    fi
    [ -z "$CLUSTER" ] || rm -rf "$CLUSTER"
}
cleanup() { stop_node "$OUT/node1"; stop_node "$OUT/node2"; stop_pg; }
trap cleanup EXIT
trap 'exit 130' INT TERM
cleanup

# --- the private PostgreSQL cluster ----------------------------------------
rm -rf "$OUT"
mkdir -p "$OUT/db"
# This run's own copies of cr-admin and the module: a rebuild of the tree
# meanwhile does not change what is measured or checked.
cp "$ROOT/cr-admin" "$OUT/cr-admin"
cp "$ROOT/.libs/mod_clientregistry.so" "$OUT/mod_clientregistry.so"
CRADMIN=$OUT/cr-admin
CLUSTER=$(mktemp -d /tmp/cr-bench-pg.XXXXXX)
[ -z "$AS_PG" ] || chown postgres "$CLUSTER"
chmod 700 "$CLUSTER"
# C collation: the schema's text ranges compare byte by byte (cr-admin
# refuses other collations).
$AS_PG "$PGBIN/initdb" -D "$CLUSTER" -U cr_bench -A trust -E UTF8 \
    --locale=C >/dev/null
$AS_PG "$PGBIN/pg_ctl" -D "$CLUSTER" -l "$CLUSTER/log" -w \
    -o "-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=128MB" \
    start >/dev/null
$AS_PG "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U cr_bench cr_bench
"$CRADMIN" --driver pgsql --schema-dir "$ROOT/schema" migrate \
    "$PGPARAMS" >/dev/null
"$CRADMIN" --schema-dir "$ROOT/schema" migrate \
    "$OUT/db/registry.db" >/dev/null
say "PostgreSQL $("$PGBIN/postgres" -V | awk '{print $3}') on port $PGPORT," \
    "SQLite $(sqlite3 --version | awk '{print $1}'), $(nproc) cores"

# --- load and rekey, both databases -----------------------------------------
python3 "$BENCH/gen-patients.py" "$PATIENTS" > "$OUT/patients.ndjson"
# "loaded N patients (M lines skipped) in S s: R patients/s"
rate() { awk '$NF == "patients/s" { v = $(NF - 1) } END { print v + 0 }' "$1"; }
secs_of() { awk '{ for (k = 1; k <= NF; k++) if ($k == "in") v = $(k + 1) }
                 END { print v + 0 }' "$1"; }
"$CRADMIN" load "$OUT/db/registry.db" "$OUT/patients.ndjson" \
    > "$OUT/load-sqlite.txt"
"$CRADMIN" --driver pgsql load "$PGPARAMS" "$OUT/patients.ndjson" \
    > "$OUT/load-pg.txt"
"$CRADMIN" rekey "$OUT/db/registry.db" > "$OUT/rekey-sqlite.txt"
"$CRADMIN" --driver pgsql rekey "$PGPARAMS" > "$OUT/rekey-pg.txt"
ls_=$(rate "$OUT/load-sqlite.txt"); lp=$(rate "$OUT/load-pg.txt")
rs_=$(awk -v n="$PATIENTS" -v s="$(secs_of "$OUT/rekey-sqlite.txt")" \
          'BEGIN { printf "%.0f", (s > 0) ? n / s : 0 }')
rp=$(awk -v n="$PATIENTS" -v s="$(secs_of "$OUT/rekey-pg.txt")" \
         'BEGIN { printf "%.0f", (s > 0) ? n / s : 0 }')
"$CRADMIN" --sample 20000 estimate "$OUT/db/registry.db" >/dev/null
"$CRADMIN" --driver pgsql --sample 20000 estimate "$PGPARAMS" >/dev/null
[ -z "$AS_PG" ] || chown -R nobody:nogroup "$OUT/db"

# --- nodes ------------------------------------------------------------------
# node DIR PORT DRIVER PARAMS: the quickstart template on another database.
start_node() {
    mkdir -p "$1/logs" "$1/run"
    # A fixed set of processes and connections, all opened before the
    # measurement: a PostgreSQL connection prepares the whole statement
    # catalogue when it opens, which would otherwise land in the
    # measurement as processes are spawned.  One connection per thread
    # (DBDMin = DBDKeep = DBDMax = ThreadsPerChild): with DBDMin 16 a
    # child that got more than 16 of the 32 connections opened the rest
    # during the read run, each preparing the catalogue, and some
    # requests waited more than wrk's 2 s for it.
    EXTRA="LogLevel warn
StartServers 2
ServerLimit 2
MinSpareThreads 64
MaxSpareThreads 64
ThreadsPerChild 32
MaxRequestWorkers 64
DBDMin 32
DBDKeep 32
DBDMax 32" \
    DRIVER=$3 PARAMS=$4 ROOT_SUB=$1 LISTEN="127.0.0.1:$2" \
    LIBEXECDIR_SUB=$LIBEXEC MODULE="$OUT/mod_clientregistry.so" UG="$UG" \
    awk '{
            if ($1 == "CustomLog") next
            if ($1 == "DBDriver") { print "DBDriver " ENVIRON["DRIVER"]; next }
            if ($1 == "DBDParams") { print "DBDParams \"" ENVIRON["PARAMS"] "\""; next }
            if ($1 == "DBDInitSQL" && ENVIRON["DRIVER"] == "pgsql") {
                if (!done) print "DBDInitSQL \"SET lock_timeout TO '"'"'10s'"'"'\""
                done = 1; next }
            gsub(/@ROOT@\/var/, ENVIRON["ROOT_SUB"]); gsub(/@LISTEN@/, ENVIRON["LISTEN"])
            gsub(/@LIBEXECDIR@/, ENVIRON["LIBEXECDIR_SUB"])
            gsub(/@MODULE@/, ENVIRON["MODULE"]); gsub(/@USERGROUP@/, ENVIRON["UG"])
            gsub(/@EXTRA_LOADS@/, ""); gsub(/@EXTRA_CONF@/, ENVIRON["EXTRA"]); print
        }' "$ROOT/conf/quickstart.conf.in" > "$1/httpd.conf"
    apache2 -f "$1/httpd.conf" -k start
    i=0
    until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
              "http://127.0.0.1:$2/fhir/metadata")" = 200 ]; do
        i=$((i + 1))
        [ $i -ge 50 ] && { say "node on $2 does not answer: $1/logs"; exit 1; }
        sleep 0.2
    done
}

# Request material: ids of each database, $match bodies.
sqlite3 "$OUT/db/registry.db" "SELECT id FROM cr_patient LIMIT 2000" \
    | sed 's|^|/fhir/Patient/|' > "$OUT/paths-sqlite.txt"
$AS_PG "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$PGPORT" -U cr_bench cr_bench \
    -c "SELECT id FROM cr_patient LIMIT 2000" \
    | sed 's|^|/fhir/Patient/|' > "$OUT/paths-pg.txt"
python3 "$BENCH/match-bodies.py" "$OUT/patients.ndjson" 2000 \
    > "$OUT/bodies.ndjson"

rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }
bad() {
    awk -F: '/Non-2xx or 3xx responses/ { gsub(/ /, "", $2); n = $2 }
             /^  Socket errors/ { gsub(/[^0-9 ]/, "", $0); split($0, a, " ")
                                   for (k in a) e += a[k] }
             END { printf "%d", n + e }' "$1"
}
# load KIND PORT CONNS OUTFILE DURATION [RUN]: RUN tells apart the two
# wrk processes of (c) (bench/write.lua, BENCH_RUN)
load() {
    case $1 in
        read-sqlite|read-pg)
            BENCH_PATHS=$OUT/paths-${1#read-}.txt wrk -t"$THREADS" -c"$3" \
                -d"$5" -s "$BENCH/read-ids.lua" "http://127.0.0.1:$2" ;;
        match)
            BENCH_BODIES=$OUT/bodies.ndjson wrk -t"$THREADS" -c"$3" -d"$5" \
                -s "$BENCH/match.lua" "http://127.0.0.1:$2" ;;
        revise)
            BENCH_OP=revise BENCH_CLIENTS=$REVISE_CLIENTS BENCH_RUN=${6:-0} \
            BENCH_CLIENT_BASE=$CLIENT_BASE wrk -t"$THREADS" \
                -c"$3" -d"$5" -s "$BENCH/write.lua" "http://127.0.0.1:$2" ;;
    esac > "$4" 2>&1
}
errors=0
# measure SETUP KIND: one node (a, b) or two (c, half the connections each).
measure() {
    kind=$2
    # Each setup revises its own SRIs, none of which exists when it
    # starts: (c) does not find (b)'s persons already created, so the
    # three see the same mix of first revises (creates) and revises.
    case $1 in a|b) CLIENT_BASE=0 ;; c) CLIENT_BASE=$REVISE_CLIENTS ;; esac
    [ "$kind" = read ] && { [ "$1" = a ] && kind=read-sqlite || kind=read-pg; }
    if [ "$1" = c ]; then
        half=$((CONNS / 2))
        load "$kind" "$PORT" "$half" "$OUT/warm-$1-$2-1.txt" "$WARMUP" 1 &
        load "$kind" "$PORT2" "$half" "$OUT/warm-$1-$2-2.txt" "$WARMUP" 2
        wait
        load "$kind" "$PORT" "$half" "$OUT/wrk-$1-$2-1.txt" "$DURATION" 1 &
        load "$kind" "$PORT2" "$half" "$OUT/wrk-$1-$2-2.txt" "$DURATION" 2
        wait
        n=$(( $(rps "$OUT/wrk-$1-$2-1.txt") + $(rps "$OUT/wrk-$1-$2-2.txt") ))
        e=$(( $(bad "$OUT/wrk-$1-$2-1.txt") + $(bad "$OUT/wrk-$1-$2-2.txt") ))
    else
        load "$kind" "$PORT" "$CONNS" "$OUT/warm-$1-$2.txt" "$WARMUP"
        load "$kind" "$PORT" "$CONNS" "$OUT/wrk-$1-$2.txt" "$DURATION"
        n=$(rps "$OUT/wrk-$1-$2.txt"); e=$(bad "$OUT/wrk-$1-$2.txt")
    fi
    [ "$e" -eq 0 ] || { errors=$((errors + e)); say "$1 $2: $e errors"; }
    eval "R_$1_$2=$n"
    say "($1) $2: $n req/s, errors $e"
}

say "(a) one node on SQLite"
start_node "$OUT/node1" "$PORT" sqlite3 "$OUT/db/registry.db"
for k in read match revise; do measure a $k; done
stop_node "$OUT/node1"

say "(b) one node on PostgreSQL"
start_node "$OUT/node1" "$PORT" pgsql "$PGPARAMS"
for k in read match revise; do measure b $k; done

say "(c) two nodes on the same PostgreSQL"
start_node "$OUT/node2" "$PORT2" pgsql "$PGPARAMS"
for k in read match revise; do measure c $k; done
stop_node "$OUT/node1"; stop_node "$OUT/node2"

# --- correctness after the run -----------------------------------------------
dup=$($AS_PG "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$PGPORT" -U cr_bench \
      cr_bench -c "SELECT (SELECT COUNT(*) FROM (SELECT value FROM cr_identifier
                   WHERE system LIKE '%patient-healthcare-id' GROUP BY value
                   HAVING COUNT(DISTINCT patient_id) > 1) d)
                   + (SELECT COUNT(*) FROM (SELECT phn FROM cr_patient
                   WHERE phn IS NOT NULL GROUP BY phn HAVING COUNT(*) > 1) e)")
if "$CRADMIN" --driver pgsql audit-verify "$PGPARAMS" \
    > "$OUT/verify.txt" 2>&1; then
    chain="verifies"
else
    chain="BROKEN"; errors=$((errors + 1))
fi
[ "$dup" = 0 ] || errors=$((errors + 1))

ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", (y > 0) ? x / y : 0 }'; }
verdict() { awk -v x="$1" -v g="$2" 'BEGIN { print ((x >= g) ? "met" : "NOT met") }'; }
rl=$(ratio "$lp" "$ls_"); rk=$(ratio "$rp" "$rs_")
rr=$(ratio "$R_b_read" "$R_a_read"); rw=$(ratio "$R_c_revise" "$R_b_revise")
{
    echo "data: $PATIENTS generated patients; wrk -t$THREADS -c$CONNS, $DURATION each; $(nproc) cores shared with wrk and PostgreSQL"
    echo "load:   SQLite $ls_/s  PostgreSQL $lp/s  ratio $rl (goal >= 0.50, $(verdict "$rl" 0.5))"
    echo "rekey:  SQLite $rs_/s  PostgreSQL $rp/s  ratio $rk (goal >= 0.50, $(verdict "$rk" 0.5))"
    printf '%-8s %10s %10s %10s %8s %8s\n' "" "(a) SQLite" "(b) PG" "(c) 2xPG" "b/a" "c/b"
    for k in read match revise; do
        eval "a=\$R_a_$k b=\$R_b_$k c=\$R_c_$k"
        printf '%-8s %10s %10s %10s %8s %8s\n' "$k" "$a" "$b" "$c" \
            "$(ratio "$b" "$a")" "$(ratio "$c" "$b")"
    done
    echo "goals: (b) reads >= 0.70 x (a): $rr, $(verdict "$rr" 0.7);" \
         "(c) writes >= 1.50 x (b): $rw, $(verdict "$rw" 1.5)"
    echo "errors: $errors; PHNs held twice: $dup; audit chain $chain ($(tail -n 1 "$OUT/verify.txt"))"
} | tee "$OUT/summary.txt"
[ "$errors" -eq 0 ]
