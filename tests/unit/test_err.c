/* The error contract (core/err.h): uf_wrap joins its parts with one ": ". */
#include <string.h>

#include "check.h"
#include "core/err.h"

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

int main(void)
{
    test_wrap();
    CHECK_DONE();
}
