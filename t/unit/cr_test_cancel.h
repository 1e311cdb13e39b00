/* cr_test_cancel: a cancel callback (cr_match_cancel_t) for the tests of
 * the cancellable fit: it lets a given number of asks pass, then says
 * stop, and counts down, so a test can also learn how often a run asks. */
#ifndef CR_TEST_CANCEL_H
#define CR_TEST_CANCEL_H

/* baton: an int, the asks still to let pass. */
static inline int stop_after(void *baton)
{
    int *left = baton;

    if (*left <= 0) {
        return 1;
    }
    (*left)--;
    return 0;
}

#endif /* CR_TEST_CANCEL_H */
