/* NumPy pickles written by Python (tests/oracle/io_pickles.py): the released class-mean pickles re-made in
 * protocols 2, 3 and 4 (protocol 3 byte-identical to upstream) must convert to the reference .npy files
 * byte for byte (sha256 = MANIFEST's npy_sha256; counts float64 -> int64); the class lists must equal
 * imagenet-classes.tsv; other types and orders must equal numpy's own .npy; hostile pickles are refused.
 * usage: test_io_pickle_oracle PICKLES REF */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/sha256.h"
#include "core/tsv.h"
#include "io/npy.h"
#include "io/pkfile.h"
#include "io/pyarray.h"

static const char *pk, *ref;
static char tmpdir[] = "/tmp/uotft-test-io-pickle-XXXXXX";

static void test_released(void)
{
    char path[4096], out[4096];
    uf_tsv m;
    uf_err e;
    snprintf(path, sizeof path, "%s/released-class-means/MANIFEST.tsv", ref);
    CHECK_OK(uf_tsv_read(path, &m, &e), e);
    int cf = uf_tsv_col(&m, "file"), cu = uf_tsv_col(&m, "upstream_path"), cs = uf_tsv_col(&m, "npy_sha256"),
        cd = uf_tsv_col(&m, "dtype");
    CHECK(m.nrows == 36 && cf >= 0 && cu >= 0 && cs >= 0 && cd >= 0);
    int same = 0;
    snprintf(out, sizeof out, "%s/out.npy", tmpdir);
    for (int p = 2; p <= 4; p++)
        for (int r = 0; r < m.nrows; r++) {
            uf_array a, c;
            snprintf(path, sizeof path, "%s/p%d/%s", pk, p, uf_tsv_at(&m, r, cu));
            if (uf_pickle_read_array(path, &a, &e)) {
                CHECK_OK(-1, e);
                continue;
            }
            CHECK(a.dtype == UF_F64);
            int counts = strcmp(uf_tsv_at(&m, r, cd), "int64") == 0;
            if (counts) {
                CHECK_OK(uf_pyarray_cast(&a, UF_I64, &c, path, &e), e);
                uf_array_free(&a);
                a = c;
            }
            char sum[65] = "";
            CHECK_OK(uf_npy_write(out, &a, &e), e);
            CHECK_OK(uf_sha256_file(out, sum, &e), e);
            if (strcmp(sum, uf_tsv_at(&m, r, cs)) != 0)
                fprintf(stderr, "%s: converted sha256 %s, reference %s\n", path, sum, uf_tsv_at(&m, r, cs));
            same += strcmp(sum, uf_tsv_at(&m, r, cs)) == 0;
            uf_array_free(&a);
        }
    CHECK(same == 3 * 36);
    printf("released pickles: %d of %d conversions byte-identical to the reference .npy\n", same, 3 * 36);
    remove(out);
    uf_tsv_free(&m);
}

static void test_classes(void)
{
    char path[4096];
    uf_tsv t;
    uf_err e;
    snprintf(path, sizeof path, "%s/released-class-means/imagenet-classes.tsv", ref);
    CHECK_OK(uf_tsv_read(path, &t, &e), e);
    const char *files[3] = {"class_path", "class_concept", "class_names"}, *cols[3] = {"wnid", "concept", "name"};
    for (int p = 2; p <= 4; p++)
        for (int k = 0; k < 3; k++) {
            char **s;
            int n, col = uf_tsv_col(&t, cols[k]), equal = 0;
            snprintf(path, sizeof path, "%s/p%d/UOT_selection/%s.pkl", pk, p, files[k]);
            if (uf_pickle_read_strings(path, &s, &n, &e)) {
                CHECK_OK(-1, e);
                continue;
            }
            for (int i = 0; i < n && i < t.nrows; i++)
                equal += strcmp(s[i], uf_tsv_at(&t, i, col)) == 0;
            CHECK(n == 1000 && t.nrows == 1000 && equal == 1000);
            uf_strings_free(s, n);
        }
    uf_tsv_free(&t);
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static void test_edge(void)
{
    char dir[2048], path[4400], npy[4400];
    snprintf(dir, sizeof dir, "%s/edge", pk);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int n = 0;
    for (struct dirent *ent; d && (ent = readdir(d));) {
        if (!has_suffix(ent->d_name, ".pkl"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        snprintf(npy, sizeof npy, "%s/%.*s.npy", dir, (int)strlen(ent->d_name) - 4, ent->d_name);
        uf_array a, b;
        uf_err e;
        CHECK_OK(uf_pickle_read_array(path, &a, &e), e);
        CHECK_OK(uf_npy_read(npy, &b, &e), e);
        int same = a.dtype == b.dtype && a.ndim == b.ndim &&
                   memcmp(a.shape, b.shape, sizeof(int64_t) * (size_t)a.ndim) == 0 &&
                   memcmp(a.data, b.data, uf_array_count(&a) * uf_dtype_size(a.dtype)) == 0;
        if (!same)
            fprintf(stderr, "%s differs from %s\n", path, npy);
        CHECK(same);
        uf_array_free(&a);
        uf_array_free(&b);
        n++;
    }
    if (d)
        closedir(d);
    CHECK(n == 14);
}

static void test_bad(void)
{
    static const struct {
        const char *file, *needle;
    } bad[] = {
        {"os_system", "refusing global 'os.system'"},
        {"posix_system", "refusing global 'posix.system'"},
        {"builtins_eval", "refusing global 'builtins.eval'"},
        {"builtins_eval_p2", "refusing global '__builtin__.eval'"},
        {"object_array", "dtype 'O8' is not supported"},
        {"big_endian", "big-endian"},
        {"complex", "dtype 'c16' is not supported"},
        {"structured", "dtype 'V12' is not supported"},
        {"unicode_array", "dtype 'U3' is not supported"},
        {"protocol5", "protocol 5 is not supported"},
        {"a_dict", "holds a dict, not a NumPy array"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[4096];
        uf_array a;
        uf_err e = {{0}};
        snprintf(path, sizeof path, "%s/bad/%s.pkl", pk, bad[i].file);
        int rc = uf_pickle_read_array(path, &a, &e);
        if (rc == 0 || !strstr(e.msg, bad[i].needle) || !strstr(e.msg, path))
            fprintf(stderr, "%s: expected '%s': %s\n", path, bad[i].needle, rc ? e.msg : "loaded");
        CHECK(rc == -1 && strstr(e.msg, bad[i].needle) && strstr(e.msg, path));
    }
    char marker[4096];
    snprintf(marker, sizeof marker, "%s/bad/PWNED", pk);
    CHECK(access(marker, F_OK) != 0); /* nothing ran */
}

int main(int argc, char **argv)
{
    if (argc != 3 || !mkdtemp(tmpdir)) {
        fprintf(stderr, "usage: test_io_pickle_oracle PICKLES REF\n");
        return 2;
    }
    pk = argv[1], ref = argv[2];
    test_released();
    test_classes();
    test_edge();
    test_bad();
    rmdir(tmpdir);
    CHECK_DONE();
}
