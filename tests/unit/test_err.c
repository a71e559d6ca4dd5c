/* The error contract (core/err.h, core/alloc.h): uf_wrap joins its parts with one ": ",
 * and a failed or overflowing allocation is an error naming the size and the line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/alloc.h"

static void expect_wrap(const char *inner, const char *prefix, const char *want)
{
    uf_err e;
    snprintf(e.msg, sizeof e.msg, "%s", inner);
    CHECK(uf_wrap(&e, "%s", prefix) == -1);
    if (strcmp(e.msg, want) != 0) {
        fprintf(stderr, "  uf_wrap('%s', '%s') = '%s', want '%s'\n", inner, prefix, e.msg, want);
        check_failures++;
    }
}

static void test_wrap(void)
{
    expect_wrap("x.mat: bad", "cars test split", "cars test split: x.mat: bad");
    expect_wrap("x.mat: bad", "in class_names{1}: ", "in class_names{1}: x.mat: bad");
    expect_wrap("x.mat: bad", "", "x.mat: bad");
    expect_wrap("", "cars", "cars");
}

static void test_alloc(void)
{
    uf_err e = {{0}};
    char *p = uf_alloc(0, &e); /* zero bytes still give a pointer: NULL only means failure */
    CHECK(p != NULL);
    free(p);
    int *z = uf_calloc(4, sizeof *z, &e);
    CHECK(z && z[0] == 0 && z[3] == 0);
    int *r = uf_realloc(z, 1000, sizeof *r, &e);
    CHECK(r && r[3] == 0);
    free(r ? r : z);
    CHECK(uf_calloc(SIZE_MAX / 2, 4, &e) == NULL);
    CHECK(strstr(e.msg, "overflows at tests/unit/test_err.c:"));
    CHECK(uf_alloc(SIZE_MAX - 4096, &e) == NULL);
    CHECK(strstr(e.msg, "out of memory (") && strstr(e.msg, " bytes) at tests/unit/test_err.c:"));
    char *s = uf_strndup("class_names", 5, &e);
    CHECK(s && strcmp(s, "class") == 0);
    free(s);
    s = uf_strdup("cars", &e);
    CHECK(s && strcmp(s, "cars") == 0);
    free(s);
    float *f = uf_alloc_floats(3, &e); /* 12 bytes: rounded up to one aligned line */
    CHECK(f && (uintptr_t)f % 64 == 0);
    free(f);
    CHECK(uf_alloc_floats(SIZE_MAX / 2, &e) == NULL);
    CHECK(strstr(e.msg, "overflows at tests/unit/test_err.c:"));
    CHECK(uf_alloc_floats(SIZE_MAX / 4 - 64, &e) == NULL);
    CHECK(strstr(e.msg, "at tests/unit/test_err.c:"));
}

int main(void)
{
    test_wrap();
    test_alloc();
    CHECK_DONE();
}
