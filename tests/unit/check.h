/* A minimal test harness: CHECK records a failure and goes on, so one run
 * reports every broken assertion; main returns the failure count. */
#ifndef UF_CHECK_H
#define UF_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                        \
        }                                                                            \
    } while (0)

/* |a - b| <= rtol |b| + atol */
#define CHECK_CLOSE(a, b, rtol, atol)                                                          \
    do {                                                                                       \
        double ca_ = (a), cb_ = (b);                                                           \
        if (!(fabs(ca_ - cb_) <= (rtol) * fabs(cb_) + (atol))) {                               \
            fprintf(stderr, "%s:%d: CHECK_CLOSE failed: %s = %.17g, %s = %.17g\n", __FILE__,   \
                    __LINE__, #a, ca_, #b, cb_);                                               \
            check_failures++;                                                                  \
        }                                                                                      \
    } while (0)

/* call returns 0 on success and fills the uf_err e on failure */
#define CHECK_OK(call, e)                                                                      \
    do {                                                                                       \
        if ((call) != 0) {                                                                     \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, (e).msg);     \
            check_failures++;                                                                  \
        }                                                                                      \
    } while (0)

#define CHECK_DONE()                                                                           \
    do {                                                                                       \
        if (check_failures)                                                                    \
            fprintf(stderr, "%d check(s) failed\n", check_failures);                           \
        return check_failures != 0;                                                            \
    } while (0)

/* dir/name, in a buffer valid until the next call: a file in a test's scratch folder */
static inline const char *check_path(const char *dir, const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

/* Writes n bytes to path: a fixture a test makes for itself. */
static inline void check_write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

#endif
