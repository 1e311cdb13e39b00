/* fuzz_pool: make every APR pool allocation visible to AddressSanitizer.
 *
 * APR carves pool allocations out of large blocks, so a read or write
 * past the end of a pool string lands in the same block and no
 * sanitizer sees it.  Linked into the fuzz harnesses (and their replay
 * programs), this file interposes apr_palloc: once a harness has called
 * cr_fuzz_pool_enable(), each allocation is a malloc of exactly the size
 * asked for, freed by a cleanup of the pool.  libapr's own callers
 * (apr_pstrdup, apr_array_push, apr_pcalloc ...) reach it through the
 * PLT as well; apr_psprintf writes into the pool's block directly and
 * stays unchecked.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <apr_pools.h>

#include "fuzz_common.h"

typedef void *(*palloc_fn)(apr_pool_t *, apr_size_t);

static palloc_fn real_palloc;
static int enabled;
static __thread int busy;

void cr_fuzz_pool_enable(void)
{
    if (real_palloc == NULL) {
        real_palloc = (palloc_fn)dlsym(RTLD_NEXT, "apr_palloc");
        if (real_palloc == NULL) {
            fprintf(stderr, "fuzz_pool: apr_palloc not found\n");
            abort();
        }
    }
    enabled = 1;
}

static apr_status_t free_block(void *block)
{
    free(block);
    return APR_SUCCESS;
}

void *apr_palloc(apr_pool_t *pool, apr_size_t size)
{
    void *block;

    if (real_palloc == NULL) {
        real_palloc = (palloc_fn)dlsym(RTLD_NEXT, "apr_palloc");
    }
    if (!enabled || busy) {
        return real_palloc(pool, size);
    }
    block = malloc(size ? size : 1);
    if (block == NULL) {
        abort();
    }
    busy = 1;   /* the cleanup record itself comes from the real pool */
    apr_pool_cleanup_register(pool, block, free_block,
                              apr_pool_cleanup_null);
    busy = 0;
    return block;
}
