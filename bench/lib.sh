# bench/lib.sh: the set-up the benchmark scripts share, sourced by them
# (". "$BENCH/lib.sh""): building the tree, the tools a run needs, a
# preloaded SQLite database, an httpd configuration made from
# conf/quickstart.conf.in (what ./quickstart serves), starting and stopping
# that httpd by its pid file, and reading wrk's output.  What a script
# measures stays in the script.  Every function is small and takes what it
# works on as arguments; none changes the caller's directory or options.

# bench_say MESSAGE...: a line on stderr, tagged.
bench_say() { printf 'bench: %s\n' "$*" >&2; }

# bench_build TREE: ./quickstart build unless BENCH_NO_BUILD is set; fails
# when the module is not built.
bench_build() {
    if [ -z "${BENCH_NO_BUILD:-}" ]; then
        "$1/quickstart" build
    fi
    [ -f "$1/.libs/mod_clientregistry.so" ] || {
        bench_say "module not built"; exit 1; }
}

# bench_need_wrk: wrk, installed when missing and running as root.
bench_need_wrk() {
    command -v wrk >/dev/null 2>&1 && return 0
    if [ "$(id -u)" -eq 0 ]; then
        bench_say "installing wrk"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    else
        bench_say "wrk is missing (apt-get install wrk)"; exit 1
    fi
}

# bench_preload_raw OUT SIZE TREE: OUT/base-SIZE.db, a migrated database
# holding SIZE clients written by bench/write-raw.c (compiled into
# OUT/write-raw), made once and kept for the next run (migrated then).
bench_preload_raw() {
    cc -O2 -o "$1/write-raw" "$3/bench/write-raw.c" -lsqlite3
    if [ -f "$1/base-$2.db" ]; then
        # Kept from an earlier run: brought to this tree's schema first.
        "$3/cr-admin" --schema-dir "$3/schema" migrate "$1/base-$2.db" >/dev/null
        return 0
    fi
    rm -f "$1/base.db"*
    "$3/cr-admin" --schema-dir "$3/schema" migrate "$1/base.db" >/dev/null
    "$1/write-raw" "$1/base.db" preload "$2" >&2
    mv "$1/base.db" "$1/base-$2.db"
    rm -f "$1/base.db"*
}

# bench_usergroup DBDIR: as root, gives DBDIR to nobody (httpd's children
# write the database and its WAL there) and prints the User/Group lines
# for the configuration; otherwise prints nothing.
bench_usergroup() {
    if [ "$(id -u)" -eq 0 ]; then
        chown -R nobody:nogroup "$1"
        printf 'User nobody\nGroup nogroup\n'
    fi
}

# bench_write_conf TREE CONF SERVERROOT LISTEN MODULE USERGROUP EXTRA_CONF
#                  [ACCESS_LOG]: CONF from conf/quickstart.conf.in with
# ./quickstart's substitutions; the access log is left out unless
# ACCESS_LOG is "on".
bench_write_conf() {
    ROOT_SUB=$3 LISTEN=$4 LIBEXECDIR_SUB=$(apxs -q LIBEXECDIR) MODULE=$5 \
    UG=$6 EXTRA_CONF=$7 ACCESS_LOG=${8:-off} \
    awk '{
            if (ENVIRON["ACCESS_LOG"] != "on" && $1 == "CustomLog") next
            gsub(/@ROOT@/, ENVIRON["ROOT_SUB"]); gsub(/@LISTEN@/, ENVIRON["LISTEN"])
            gsub(/@LIBEXECDIR@/, ENVIRON["LIBEXECDIR_SUB"])
            gsub(/@MODULE@/, ENVIRON["MODULE"]); gsub(/@USERGROUP@/, ENVIRON["UG"])
            gsub(/@EXTRA_LOADS@/, ""); gsub(/@EXTRA_CONF@/, ENVIRON["EXTRA_CONF"])
            print
        }' "$1/conf/quickstart.conf.in" > "$2"
}

# bench_start_httpd CONF URL: checks CONF, starts httpd and waits (up to
# 10 s) until URL/fhir/metadata answers 200.
bench_start_httpd() {
    apache2 -t -f "$1" >/dev/null 2>&1 || { apache2 -t -f "$1"; exit 1; }
    # BENCH_HTTPD_ENV: NAME=VALUE words put in httpd's environment.
    # shellcheck disable=SC2086
    env ${BENCH_HTTPD_ENV:-} apache2 -f "$1" -k start
    _i=0
    until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
              "$2/fhir/metadata")" = 200 ]; do
        _i=$((_i + 1))
        [ $_i -ge 50 ] && { bench_say "httpd does not answer ($2)"; exit 1; }
        sleep 0.2
    done
}

# bench_serve TREE OUT PORT EXTRA_CONF: the quickstart server with its root
# in OUT (database OUT/var/db/registry.db, made by the caller): fresh
# OUT/var/logs and OUT/var/run, a private copy of the module (others
# rebuild the tree while a run is going on; BENCH_MODULE names another
# build), OUT/var/httpd.conf, started
# on 127.0.0.1:PORT and answering.  Stop it with bench_stop_httpd
# OUT/var/run/httpd.pid.
bench_serve() {
    rm -rf "$2/var/logs" "$2/var/run"
    mkdir -p "$2/var/logs" "$2/var/run"
    cp "${BENCH_MODULE:-$1/.libs/mod_clientregistry.so}" "$2/var/mod_clientregistry.so"
    bench_write_conf "$1" "$2/var/httpd.conf" "$2" "127.0.0.1:$3" \
        "$2/var/mod_clientregistry.so" "$(bench_usergroup "$2/var/db")" "$4"
    bench_start_httpd "$2/var/httpd.conf" "http://127.0.0.1:$3"
}

# bench_stop_httpd PIDFILE: stops the httpd of PIDFILE and waits (up to
# 20 s) for it to remove the file.  By the pid, not 'apache2 -k stop':
# that re-reads the configuration and fails (leaving httpd running) when
# the module file it names is being rebuilt or is broken.
bench_stop_httpd() {
    [ -f "$1" ] || return 0
    kill -TERM "$(cat "$1")" 2>/dev/null || rm -f "$1"
    _i=0
    while [ -f "$1" ] && [ $_i -lt 100 ]; do
        sleep 0.2; _i=$((_i + 1))
    done
}

# bench_rps WRKOUT: wrk's requests per second, rounded.
bench_rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }

# bench_non2xx WRKOUT: wrk's count of non-2xx/3xx answers (0 when none).
bench_non2xx() {
    awk -F: '/Non-2xx or 3xx responses/ { gsub(/ /, "", $2); n = $2 }
             END { printf "%d", n }' "$1"
}

# bench_latency WRKOUT PERCENT: that percentile of wrk --latency, in ms.
bench_latency() {
    awk -v p="$2%" '$1 == p {
        v = $2
        if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v) }
        else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }
        printf "%.2f", v }' "$1"
}

# --- a big registry on the prefork MPM: match.sh and mixed.sh -------------
# These use the caller's ROOT (the tree), OUT (the server lives in
# OUT/var), DB, PORT, URL, PROCS (prefork processes) and ACCESS_LOG
# (on|off), and its say().  BENCH_MODULE names another build of the module
# to serve (an A/B comparison in one session).
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

stop_httpd() { bench_stop_httpd "$OUT/var/run/httpd.pid"; }

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
    bench_start_httpd "$OUT/var/httpd.conf" "$URL"
    wait "$holder" 2>/dev/null || true
    if grep -q AH00636 "$OUT/var/logs/error_log" 2>/dev/null; then
        say "an httpd child failed to open the database; see $OUT/var/logs/error_log"
        return 1
    fi
}

# Figures from a wrk --latency output file.
rps() { bench_rps "$1"; }
lat() { bench_latency "$1" "$2"; }
# non2xx WRKOUT: non-2xx answers and socket errors together.
non2xx() {
    awk -F: '/Non-2xx or 3xx responses/ { gsub(/ /, "", $2); n = $2 }
             /^  Socket errors/ { gsub(/[^0-9 ]/, "", $0); split($0, a, " ")
                                   for (k in a) e += a[k] }
             END { printf "%d", n + e }' "$1"
}
