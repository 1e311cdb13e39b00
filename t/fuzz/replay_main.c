/* replay_main: run a fuzz harness without libFuzzer.
 *
 * Linked with one harness (its LLVMFuzzerTestOneInput), this main()
 * feeds it every file of a corpus, in name order, and prints TAP: one
 * "ok" per file.  A crash, a sanitizer report or a failed invariant ends
 * the program, so automake's TAP driver reports the run as an error and
 * the log names the last file started.  With no arguments it replays the
 * corpus directory compiled in as CR_FUZZ_CORPUS; otherwise each
 * argument is a file or a directory.  `make check` builds every harness
 * with it, so the harnesses compile and pass their corpus with gcc too.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static int count;

static int read_file(const char *path, unsigned char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 4096, n = 0, r;
    unsigned char *b;

    if (f == NULL) {
        return -1;
    }
    b = malloc(cap);
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            unsigned char *nb = realloc(b, cap * 2);
            if (nb == NULL) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (b == NULL) {
        return -1;
    }
    /* An exact-size copy, so that reading one byte too far is caught by
     * AddressSanitizer as it is under libFuzzer. */
    *buf = malloc(n ? n : 1);
    if (*buf == NULL) {
        free(b);
        return -1;
    }
    memcpy(*buf, b, n);
    free(b);
    *len = n;
    return 0;
}

static int replay_file(const char *path)
{
    unsigned char *buf = NULL;
    size_t len = 0;

    if (read_file(path, &buf, &len) != 0) {
        printf("not ok %d - %s: cannot read\n", ++count, path);
        return 1;
    }
    fprintf(stderr, "# replaying %s (%lu bytes)\n", path,
            (unsigned long)len);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    printf("ok %d - %s\n", ++count, path);
    fflush(stdout);
    return 0;
}

static int visible(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static int replay(const char *path)
{
    struct stat st;
    struct dirent **names;
    int n, i, failed = 0;

    if (stat(path, &st) != 0) {
        printf("not ok %d - %s: no such file or directory\n", ++count, path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        return replay_file(path);
    }
    n = scandir(path, &names, visible, alphasort);
    if (n < 0) {
        printf("not ok %d - %s: cannot list\n", ++count, path);
        return 1;
    }
    for (i = 0; i < n; i++) {
        size_t sz = strlen(path) + strlen(names[i]->d_name) + 2;
        char *full = malloc(sz);
        if (full != NULL) {
            snprintf(full, sz, "%s/%s", path, names[i]->d_name);
            if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
                failed += replay_file(full);
            }
            free(full);
        }
        free(names[i]);
    }
    free(names);
    return failed;
}

int main(int argc, char **argv)
{
    int i, failed = 0;

    if (argc < 2) {
#ifdef CR_FUZZ_CORPUS
        failed = replay(CR_FUZZ_CORPUS);
#else
        fprintf(stderr, "usage: %s CORPUS-DIR-OR-FILE...\n", argv[0]);
        return 2;
#endif
    }
    for (i = 1; i < argc; i++) {
        failed += replay(argv[i]);
    }
    if (count == 0) {
        printf("not ok 1 - no input found\n");
        count = 1;
        failed = 1;
    }
    printf("1..%d\n", count);
    return failed ? 1 : 0;
}
