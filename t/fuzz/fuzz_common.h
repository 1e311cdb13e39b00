/* fuzz_common.h: shared by the fuzz harnesses in t/fuzz/. */
#ifndef CR_FUZZ_COMMON_H
#define CR_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The libFuzzer entry point every harness defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_pool.c: from now on, pool allocations are separate mallocs. */
void cr_fuzz_pool_enable(void);

/* Stop with a message when an invariant of the code under test fails
 * (a crash the fuzzer reports, with the input that caused it). */
#define CR_FUZZ_ASSERT(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
                    __LINE__, #cond); \
            abort(); \
        } \
    } while (0)

#endif /* CR_FUZZ_COMMON_H */
