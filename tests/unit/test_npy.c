/* .npy: round trips, numpy's exact bytes, and rejection of malformed files. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/fileio.h"
#include "io/npy.h"

static char dir[] = "/tmp/uotft-test-npy-XXXXXX";

static const char *tmp(const char *name) { return check_path(dir, name); }

static void test_round_trip(void)
{
    uf_dtype types[] = {UF_F64, UF_F32, UF_I64, UF_I32};
    for (int t = 0; t < 4; t++) {
        int64_t shape[3] = {3, 1, 5};
        uf_array a, b;
        uf_err e;
        CHECK_OK(uf_array_alloc(&a, types[t], 3, shape, &e), e);
        for (size_t i = 0; i < uf_array_count(&a); i++) {
            switch (types[t]) {
            case UF_F64: ((double *)a.data)[i] = 0.1 * (double)i - 1e300 * (i == 7); break;
            case UF_F32: ((float *)a.data)[i] = 0.25f * (float)i; break;
            case UF_I64: ((int64_t *)a.data)[i] = (int64_t)i * 1000000000000LL - 3; break;
            case UF_I32: ((int32_t *)a.data)[i] = -(int32_t)i; break;
            }
        }
        CHECK_OK(uf_npy_write(tmp("rt.npy"), &a, &e), e);
        CHECK_OK(uf_npy_read(tmp("rt.npy"), &b, &e), e);
        CHECK(b.dtype == a.dtype && b.ndim == 3 && b.shape[0] == 3 && b.shape[1] == 1 && b.shape[2] == 5);
        CHECK(memcmp(a.data, b.data, uf_array_count(&a) * uf_dtype_size(a.dtype)) == 0);
        uf_array_free(&a);
        uf_array_free(&b);
    }
}

/* Reading a file numpy wrote and writing it back gives the same bytes. */
static void test_numpy_bytes(const char *ref)
{
    const char *files[] = {"supervised-resnet18/cub.means.npy", "moco-v2-resnet50/imagenet.counts.npy"};
    for (int i = 0; i < 2; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/released-class-means/%s", ref, files[i]);
        uf_array a;
        uf_err e;
        char *want, *got;
        size_t nw, ng;
        CHECK_OK(uf_npy_read(path, &a, &e), e);
        CHECK_OK(uf_npy_write(tmp("copy.npy"), &a, &e), e);
        CHECK_OK(uf_read_file(path, &want, &nw, &e), e);
        CHECK_OK(uf_read_file(tmp("copy.npy"), &got, &ng, &e), e);
        CHECK(nw == ng && memcmp(want, got, nw) == 0);
        free(want);
        free(got);
        uf_array_free(&a);
    }
}

/* A hand-written header: version 2.0, 4-byte length. */
static void test_version2(void)
{
    const char *dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }";
    size_t hl = 128 - 12;
    unsigned char buf[160] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, (unsigned char)hl, 0, 0, 0};
    memset(buf + 12, ' ', hl);
    memcpy(buf + 12, dict, strlen(dict));
    buf[12 + hl - 1] = '\n';
    int32_t v[2] = {7, -9};
    memcpy(buf + 128, v, sizeof v);
    check_write_bytes(tmp("v2.npy"), buf, 128 + sizeof v);
    uf_array a;
    uf_err e;
    CHECK_OK(uf_npy_read(tmp("v2.npy"), &a, &e), e);
    CHECK(a.dtype == UF_I32 && a.ndim == 1 && a.shape[0] == 2 && ((int32_t *)a.data)[1] == -9);
    uf_array_free(&a);
}

/* Each malformed file is rejected with a message naming it and the reason. */
static void expect_reject(const char *name, const void *bytes, size_t n, const char *reason)
{
    check_write_bytes(tmp(name), bytes, n);
    uf_array a;
    uf_err e = {{0}};
    int rc = uf_npy_read(tmp(name), &a, &e);
    CHECK(rc != 0);
    if (rc == 0) {
        uf_array_free(&a);
        return;
    }
    if (!strstr(e.msg, name) || !strstr(e.msg, reason)) {
        fprintf(stderr, "  %s: message '%s' lacks '%s'\n", name, e.msg, reason);
        check_failures++;
    }
}

static void header(char *buf, const char *dict, size_t data_bytes, size_t *total)
{
    size_t hl = 128 - 10;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)hl, 0};
    memcpy(buf, pre, 10);
    memset(buf + 10, ' ', hl);
    memcpy(buf + 10, dict, strlen(dict));
    buf[127] = '\n';
    memset(buf + 128, 0, data_bytes);
    *total = 128 + data_bytes;
}

static void test_rejections(void)
{
    char buf[512];
    size_t n;
    expect_reject("empty.npy", "", 0, "empty");
    expect_reject("magic.npy", "PK\3\4 this is a zip", 19, "bad magic");
    header(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", 16, &n);
    expect_reject("short.npy", buf, n, "truncated");
    header(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", 16, &n);
    expect_reject("long.npy", buf, n, "trailing");
    header(buf, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", 32, &n);
    expect_reject("fortran.npy", buf, n, "Fortran");
    header(buf, "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", 16, &n);
    expect_reject("bigendian.npy", buf, n, "unsupported dtype");
    header(buf, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16, &n);
    expect_reject("object.npy", buf, n, "unsupported dtype");
    header(buf, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", 16, &n);
    expect_reject("struct.npy", buf, n, "structured");
    header(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, x), }", 16, &n);
    expect_reject("shape.npy", buf, n, "malformed shape");
    unsigned char v3[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 3, 0, 0, 0};
    expect_reject("v3.npy", v3, 10, "version 3.0");
    header(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16, &n);
    buf[8] = (char)200; /* header length beyond the file */
    buf[9] = 1;
    expect_reject("hdr.npy", buf, 100, "truncated .npy header");
    /* a shape far beyond the file is refused before anything that size is allocated */
    header(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (40, 4294967296), }", 16, &n);
    expect_reject("huge.npy", buf, n, "truncated data: 16 bytes for shape (40, 4294967296)");
    header(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", 16, &n);
    expect_reject("overflow.npy", buf, n, "too large");
}

/* Header text is quoted in messages with control characters escaped, never echoed raw. */
static void expect_escaped(const char *name, const char *dict, const char *shown)
{
    char buf[512];
    size_t n;
    header(buf, dict, 16, &n);
    expect_reject(name, buf, n, shown);
    uf_array a;
    uf_err e = {{0}};
    if (uf_npy_read(tmp(name), &a, &e) == 0)
        return;
    for (const char *c = e.msg; *c; c++)
        if ((unsigned char)*c < 0x20) {
            fprintf(stderr, "  %s: message '%s' has a raw control character\n", name, e.msg);
            check_failures++;
            return;
        }
}

static void test_escaped(void)
{
    expect_escaped("key.npy", "{'sh\nape': (2,), 'descr': '<f8', 'fortran_order': False, }",
                   "unexpected key 'sh\\nape'");
    expect_escaped("descr.npy", "{'descr': '<f\r8', 'fortran_order': False, 'shape': (2,), }",
                   "unsupported dtype '<f\\r8'");
}

/* Feature matrices: NaN, wrong rank and negative counts are errors naming the file. */
static void test_matrix_checks(void)
{
    int64_t shape[2] = {2, 3};
    uf_array a;
    uf_err e;
    CHECK_OK(uf_array_alloc(&a, UF_F32, 2, shape, &e), e);
    ((float *)a.data)[4] = 0.0f / 0.0f;
    CHECK_OK(uf_npy_write(tmp("nan.npy"), &a, &e), e);
    double *d;
    int r, c;
    CHECK(uf_npy_read_matrix(tmp("nan.npy"), &d, &r, &c, &e) != 0);
    CHECK(strstr(e.msg, "nan.npy") && strstr(e.msg, "row 1, column 1"));
    ((float *)a.data)[4] = -2.0f;
    CHECK_OK(uf_npy_write(tmp("neg.npy"), &a, &e), e);
    CHECK_OK(uf_npy_read_matrix(tmp("neg.npy"), &d, &r, &c, &e), e);
    CHECK(r == 2 && c == 3 && d[4] == -2.0);
    free(d);
    CHECK(uf_npy_read_vector(tmp("neg.npy"), &d, &r, &e) != 0); /* 2-D is not a vector */
    uf_array_free(&a);
    int64_t one[1] = {3};
    CHECK_OK(uf_array_alloc(&a, UF_I64, 1, one, &e), e);
    ((int64_t *)a.data)[0] = -1; /* first: where a freed block's bytes are reused first */
    CHECK_OK(uf_npy_write(tmp("negcount.npy"), &a, &e), e);
    CHECK(uf_npy_read_vector(tmp("negcount.npy"), &d, &r, &e) != 0);
    CHECK(strstr(e.msg, "negcount.npy: negative value -1 at index 0"));
    uf_array_free(&a);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 2;
    test_round_trip();
    test_numpy_bytes(UF_REF);
    test_version2();
    test_rejections();
    test_escaped();
    test_matrix_checks();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    CHECK_DONE();
}
