/* cr_test_pool: the fixtures every cmocka unit test shares -- APR
 * initialised once per group, a fresh pool per test (destroyed after it,
 * so valgrind sees every pool cleanup run). */
#ifndef CR_TEST_POOL_H
#define CR_TEST_POOL_H

#include <apr_general.h>
#include <apr_pools.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static inline int setup_pool(void **state)
{
    apr_pool_t *pool = NULL;

    if (apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        return -1;
    }
    *state = pool;
    return 0;
}

static inline int teardown_pool(void **state)
{
    apr_pool_destroy((apr_pool_t *)*state);
    return 0;
}

static inline int group_setup(void **state)
{
    (void)state;
    return apr_initialize() == APR_SUCCESS ? 0 : -1;
}

static inline int group_teardown(void **state)
{
    (void)state;
    apr_terminate();
    return 0;
}

#endif /* CR_TEST_POOL_H */
