/* bench/count-sql.c: an LD_PRELOAD library for bench/notify.sh
 * (BENCH_COUNT=1) that counts what the server asks of SQLite -- every
 * statement run (sqlite3_step on a statement's first row), the
 * transactions among them (BEGIN, COMMIT), the statements on the
 * distribution tables, and the fsync/fdatasync calls -- into a small
 * file of counters shared by every httpd process (mmap, atomic adds), so
 * nothing depends on how a child ends.  Counts do not depend on the
 * machine's load the way rates do: divided by the events of a run they
 * are the per-event cost of notifications.  The file holds C_N longs in
 * the order of the enum (notify.sh reads them).  Not part of the
 * module. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sqlite3.h>

enum {
    C_STMT, C_BEGIN, C_COMMIT, C_DELIVERY, C_OUTBOX, C_SUBSCRIPTION,
    C_VERSION_READ, C_FSYNC, C_N
};
static long *counters;

static long *map(void)
{
    const char *path;
    int fd;
    void *p;

    if (counters) {
        return counters;
    }
    path = getenv("COUNT_SQL_FILE");
    if (path == NULL || (fd = open(path, O_RDWR)) < 0) {
        return NULL;
    }
    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p != MAP_FAILED) {
        counters = p;
    }
    return counters;
}

static void add(int k)
{
    long *c = map();

    if (c) {
        __atomic_add_fetch(&c[k], 1, __ATOMIC_RELAXED);
    }
}

int sqlite3_step(sqlite3_stmt *st)
{
    static int (*next)(sqlite3_stmt *);
    const char *sql;

    if (next == NULL) {
        next = (int (*)(sqlite3_stmt *))dlsym(RTLD_NEXT, "sqlite3_step");
    }
    /* A statement is counted once, on its first step. */
    if (st && !sqlite3_stmt_busy(st) && (sql = sqlite3_sql(st)) != NULL) {
        while (*sql == ' ') {
            sql++;
        }
        add(C_STMT);
        if (strncasecmp(sql, "BEGIN", 5) == 0) {
            add(C_BEGIN);
        }
        else if (strncasecmp(sql, "COMMIT", 6) == 0) {
            add(C_COMMIT);
        }
        if (strstr(sql, "cr_delivery")) {
            add(C_DELIVERY);
        }
        if (strstr(sql, "cr_outbox")) {
            add(C_OUTBOX);
        }
        if (strstr(sql, "cr_subscription")) {
            add(C_SUBSCRIPTION);
        }
        if (strstr(sql, "FROM cr_patient_version")) {
            add(C_VERSION_READ);
        }
    }
    return next(st);
}

/* The libc function name, counted. */
static int synced(const char *name, int (**next)(int), int fd)
{
    if (*next == NULL) {
        *next = (int (*)(int))dlsym(RTLD_NEXT, name);
    }
    add(C_FSYNC);
    return (*next)(fd);
}

int fsync(int fd)
{
    static int (*next)(int);

    return synced("fsync", &next, fd);
}

int fdatasync(int fd)
{
    static int (*next)(int);

    return synced("fdatasync", &next, fd);
}
