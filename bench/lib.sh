# bench/lib.sh: the server part shared by bench/match.sh and
# bench/mixed.sh (sourced, not run): the httpd configuration for a big
# SQLite registry, its start (with a holder connection) and its stop.
#
# The caller sets ROOT (the tree), OUT (its output directory; the server
# lives in OUT/var), DB, PORT, URL, PROCS (prefork processes) and
# ACCESS_LOG (on|off), and defines say().  BENCH_MODULE names another
# build of the module to serve (an A/B comparison in one session).
#
# The configuration is the quickstart one with these changes for a big
# database:
#  - a page cache of 64 MB per SQLite connection (the default is 2 MB):
#    the upper levels of the indexes a $match descends stay in memory.
#    mod_dbd runs the DBDInitSQL statements in order and stops at the
#    first that returns a row (apr_dbd reports SQLITE_ROW as a failure),
#    as PRAGMA busy_timeout does, so this one (which returns nothing) is
#    put first.  (Memory-mapped reads were tried and are worse: every
#    audit batch that grows the file makes each connection remap it.)
#  - The prefork MPM with PROCS processes (two per core) and no
#    keep-alive, so that requests wait in the kernel's accept queue,
#    first come first served, rather than inside httpd.  apr_dbd's
#    sqlite3 driver runs every statement under one process-wide mutex, so
#    the threads of an event MPM child take turns in SQLite; with the
#    event MPM (8 children of 8 threads) the same server did as many
#    $match requests per second with a p99 three to six times longer, and
#    fewer workers than connections made it close keep-alive connections
#    under load.

# By the pid in the pid file, not 'apache2 -k stop': that re-reads the
# configuration and fails (leaving httpd running) when the module file it
# names is being rebuilt or is broken (bench/README.md, read.sh step 7).
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

# Writes OUT/var/httpd.conf and starts httpd on it; returns when it
# answers /fhir/metadata.  The caller traps stop_httpd.
start_httpd() {
    mkdir -p "$OUT/var/logs" "$OUT/var/run"
    rm -f "$OUT/var/logs/error_log" "$OUT/var/logs/access_log"
    if [ "$(id -u)" -eq 0 ]; then
        chown -R nobody:nogroup "$OUT/var/db"
        UG="User nobody
Group nogroup"
        AS_HTTPD="runuser -u nobody --"
    else
        UG=""
        AS_HTTPD=""
    fi
    EXTRA="LogLevel warn
StartServers $PROCS
ServerLimit $PROCS
MinSpareServers $PROCS
MaxSpareServers $PROCS
MaxRequestWorkers $PROCS
KeepAlive Off
ListenBacklog 512"
    CACHE=${BENCH_CACHE_SQL:-'DBDInitSQL "PRAGMA cache_size=-65536"'}
    export EXTRA CACHE
    ROOT_SUB=$OUT LISTEN="127.0.0.1:$PORT" \
    LIBEXECDIR_SUB=$(apxs -q LIBEXECDIR) \
    MODULE="${BENCH_MODULE:-$ROOT/.libs/mod_clientregistry.so}" UG="$UG" \
    ACCESS_LOG="$ACCESS_LOG" \
    awk '{
        if (ENVIRON["ACCESS_LOG"] == "off" && $1 == "CustomLog") next
        if ($1 == "DBDInitSQL" && !cache_done) { print ENVIRON["CACHE"]; cache_done = 1 }
        if ($2 == "mpm_event_module") gsub(/mpm_event/, "mpm_prefork")
        gsub(/@ROOT@/, ENVIRON["ROOT_SUB"]); gsub(/@LISTEN@/, ENVIRON["LISTEN"])
        gsub(/@LIBEXECDIR@/, ENVIRON["LIBEXECDIR_SUB"])
        gsub(/@MODULE@/, ENVIRON["MODULE"]); gsub(/@USERGROUP@/, ENVIRON["UG"])
        gsub(/@EXTRA_LOADS@/, ""); gsub(/@EXTRA_CONF@/, ENVIRON["EXTRA"]); print
    }' "$ROOT/conf/quickstart.conf.in" > "$OUT/var/httpd.conf"
    apache2 -t -f "$OUT/var/httpd.conf" >/dev/null 2>&1 \
        || { apache2 -t -f "$OUT/var/httpd.conf"; return 1; }
    # Processes that open the database at the same moment can fail to
    # prepare their statements ("database is locked" while the first one
    # rebuilds the WAL index: mod_dbd prepares before any busy timeout
    # applies), and such a process exits.  A connection held open while
    # httpd starts keeps the index.  It must read the database: 'SELECT 1'
    # touches no table, so it opened neither the WAL nor its index, and
    # after an unclean stop (a child SIGKILLed by httpd at shutdown) the
    # children raced to recover the WAL.
    $AS_HTTPD python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
c.execute("SELECT count(*) FROM sqlite_master").fetchall()
time.sleep(5)' "$DB" &
    holder=$!
    sleep 0.5
    apache2 -f "$OUT/var/httpd.conf" -k start
    i=0
    until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
              "$URL/fhir/metadata")" = 200 ]; do
        i=$((i + 1))
        if [ $i -ge 50 ]; then
            say "no answer from $URL/fhir/metadata; see $OUT/var/logs/error_log"
            return 1
        fi
        sleep 0.2
    done
    wait "$holder" 2>/dev/null || true
    if grep -q AH00636 "$OUT/var/logs/error_log" 2>/dev/null; then
        say "an httpd child failed to open the database; see $OUT/var/logs/error_log"
        return 1
    fi
}

# Figures from a wrk --latency output file.
rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }
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
             /^  Socket errors/ { gsub(/[^0-9 ]/, "", $0); split($0, a, " ")
                                   for (k in a) e += a[k] }
             END { printf "%d", n + e }' "$1"
}
