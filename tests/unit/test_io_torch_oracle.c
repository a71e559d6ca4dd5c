/* PyTorch files written by torch 1.13 (tests/oracle/io_torch_files.py) in the zip, legacy and tar formats:
 * every case must give exactly the tensors torch.load gives (names in order, dtype, shape, sha256 of the
 * bytes); damaged, hostile, substituted and garbage files must fail with the file named; cuts and byte flips
 * must never crash.
 * usage: test_io_torch_oracle TORCHDIR */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "core/sha256.h"
#include "core/tsv.h"
#include "io/torchfile.h"

static const char *dir;
static char tmpdir[] = "/tmp/uotft-test-io-torch-XXXXXX";

static const char *dtype_name(uf_dtype t)
{
    static const char *names[] = {[UF_F64] = "float64", [UF_F32] = "float32", [UF_I64] = "int64", [UF_I32] = "int32"};
    return names[t];
}

static const char *opt(const char *s) { return strcmp(s, "-") == 0 ? "" : s; }

/* One case: the loaded dict against the reference table. */
static void check_case(const char *file, const char *key, const char *prefix, const char *refname)
{
    char path[4096], refpath[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    snprintf(refpath, sizeof refpath, "%s/%s", dir, refname);
    uf_tsv r;
    uf_tensor_dict d;
    uf_err e;
    CHECK_OK(uf_tsv_read(refpath, &r, &e), e);
    if (uf_torch_load(path, key, *prefix ? prefix : NULL, &d, &e)) {
        CHECK_OK(-1, e);
        uf_tsv_free(&r);
        return;
    }
    int same = d.n == r.nrows;
    for (int i = 0; same && i < d.n; i++) {
        char shape[256], sum[65];
        uf_shape_str(&d.t[i].a, shape, sizeof shape);
        uf_sha256_mem(d.t[i].a.data, uf_array_count(&d.t[i].a) * uf_dtype_size(d.t[i].a.dtype), sum);
        int ok = strcmp(d.t[i].name, uf_tsv_at(&r, i, 0)) == 0 && strcmp(dtype_name(d.t[i].a.dtype), uf_tsv_at(&r, i, 1)) == 0 &&
                 strcmp(shape, uf_tsv_at(&r, i, 2)) == 0 && strcmp(sum, uf_tsv_at(&r, i, 3)) == 0;
        if (!ok)
            fprintf(stderr, "%s [%s|%s] #%d: got %s %s %s %s, torch %s %s %s %s\n", file, key, prefix, i, d.t[i].name,
                    dtype_name(d.t[i].a.dtype), shape, sum, uf_tsv_at(&r, i, 0), uf_tsv_at(&r, i, 1),
                    uf_tsv_at(&r, i, 2), uf_tsv_at(&r, i, 3));
        same &= ok;
        CHECK(uf_tensor_dict_get(&d, uf_tsv_at(&r, i, 0)) == &d.t[i]);
    }
    if (d.n != r.nrows)
        fprintf(stderr, "%s [%s|%s]: %d tensors, torch %d\n", file, key, prefix, d.n, r.nrows);
    CHECK(same);
    CHECK(uf_tensor_dict_get(&d, "no such tensor") == NULL);
    uf_tensor_dict_free(&d);
    uf_tsv_free(&r);
}

static void test_cases(void)
{
    char path[4096];
    uf_tsv c;
    uf_err e;
    snprintf(path, sizeof path, "%s/cases.tsv", dir);
    CHECK_OK(uf_tsv_read(path, &c, &e), e);
    CHECK(c.nrows == 17);
    for (int i = 0; i < c.nrows; i++)
        check_case(uf_tsv_at(&c, i, 0), opt(uf_tsv_at(&c, i, 1)), opt(uf_tsv_at(&c, i, 2)), uf_tsv_at(&c, i, 3));
    uf_tsv_free(&c);
}

static void expect_error(const char *path, const char *key, const char *prefix, const char *needle)
{
    uf_tensor_dict d;
    uf_err e = {{0}};
    int rc = uf_torch_load(path, key, prefix, &d, &e);
    if (rc == 0 || !strstr(e.msg, needle) || !strstr(e.msg, path))
        fprintf(stderr, "%s: expected '%s' and the file: %s\n", path, needle, rc ? e.msg : "loaded");
    CHECK(rc == -1 && strstr(e.msg, needle) && strstr(e.msg, path));
    CHECK(d.n == 0 && d.t == NULL);
}

static const char *in_dir(const char *name)
{
    static char buf[4][4096];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static const char *in_tmp(const char *name) { return check_path(tmpdir, name); }

static void test_bad(void)
{
    expect_error(in_dir("bad/missing-member.pth"), "", NULL, "storage '3' is missing from the file");
    expect_error(in_dir("bad/os-system.pth"), "", NULL, "refusing global 'os.system'");
    expect_error(in_dir("bad/builtins-eval.pth"), "", NULL, "refusing global 'builtins.eval'");
    CHECK(access(in_dir("bad/PWNED"), F_OK) != 0);
    /* the published name with other bytes */
    CHECK(symlink(in_dir("resnet18-zip.pth"), in_tmp("resnet18-f37072fd.pth")) == 0);
    expect_error(in_tmp("resnet18-f37072fd.pth"), "", NULL,
                 "expected f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec, actual ");
    remove(in_tmp("resnet18-f37072fd.pth"));
    /* garbage, empty, a folder, absent */
    unsigned char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)uf_rng_u64(3, 0, i);
    check_write_bytes(in_tmp("junk.pth"), junk, sizeof junk);
    expect_error(in_tmp("junk.pth"), "", NULL, "not a PyTorch file");
    check_write_bytes(in_tmp("empty.pth"), "", 0);
    expect_error(in_tmp("empty.pth"), "", NULL, "not a PyTorch file");
    expect_error(tmpdir, "", NULL, "not a regular file");
    expect_error(in_tmp("absent.pth"), "", NULL, "cannot open");
    /* keys and prefixes that select nothing */
    expect_error(in_dir("moco-legacy.pth.tar"), "", NULL, "no tensor in the top-level dict (keys: 'epoch', 'arch'");
    expect_error(in_dir("moco-legacy.pth.tar"), "state_dic", NULL, "no key 'state_dic' (found: 'epoch'");
    expect_error(in_dir("moco-zip.pth.tar"), "state_dict", "module.encoder_z.", "no tensor under the prefix");
    expect_error(in_dir("extras-zip.pth"), "extras.half", NULL, "key 'extras.half' is a torch tensor, not a dict");
    expect_error(in_dir("extras-zip.pth"), "extras.half.x", NULL, "is inside a torch tensor");
    remove(in_tmp("junk.pth"));
    remove(in_tmp("empty.pth"));
}

/* Names and sums of what a load returned (or "" when it failed). */
static void fingerprint(const char *path, const char *key, char *out, size_t cap)
{
    uf_tensor_dict d;
    uf_err e;
    size_t k = 0;
    out[0] = '\0';
    if (uf_torch_load(path, key, NULL, &d, &e))
        return;
    for (int i = 0; i < d.n && k < cap; i++) {
        char sum[65];
        uf_sha256_mem(d.t[i].a.data, uf_array_count(&d.t[i].a) * uf_dtype_size(d.t[i].a.dtype), sum);
        k += (size_t)snprintf(out + k, cap - k, "%s:%d:%s;", d.t[i].name, d.t[i].a.ndim, sum);
    }
    uf_tensor_dict_free(&d);
}

/* A cut file must fail naming the file, except a tar cut inside its end padding, which loads the same
 * tensors; byte flips may load or fail but never crash (run under ASan/valgrind by hand too). */
static void test_damage(void)
{
    static const struct {
        const char *file, *key;
        int padded;
    } files[] = {{"extras-zip.pth", "extras", 0}, {"extras-legacy.pth", "extras", 0}, {"extras-tar.pth", "", 1},
                 {"moco-legacy.pth.tar", "state_dict", 0}, {"moco-zip.pth.tar", "state_dict", 0}};
    static char full[1 << 16], got[1 << 16];
    int cuts = 0, cut_ok = 0, flips = 0, flip_failed = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char *buf;
        size_t len;
        uf_err e;
        CHECK_OK(uf_read_file(in_dir(files[f].file), &buf, &len, &e), e);
        fingerprint(in_dir(files[f].file), files[f].key, full, sizeof full);
        CHECK(full[0] != '\0');
        const char *tmp = in_tmp("damaged.pth");
        for (int k = 0; k < 60; k++) {
            size_t cut = k < 59 ? len * (size_t)k / 59 : len - 1;
            uf_tensor_dict d;
            check_write_bytes(tmp, buf, cut);
            cuts++;
            if (uf_torch_load(tmp, files[f].key, NULL, &d, &e) == 0) {
                uf_tensor_dict_free(&d);
                fingerprint(tmp, files[f].key, got, sizeof got);
                int same = files[f].padded && strcmp(got, full) == 0;
                if (!same)
                    fprintf(stderr, "%s cut to %zu of %zu bytes loaded%s\n", files[f].file, cut, len,
                            files[f].padded ? " other tensors" : "");
                cut_ok += same;
            } else {
                cut_ok += strstr(e.msg, tmp) != NULL;
            }
        }
        int iters = len > 100000 ? 40 : 400;
        for (int it = 0; it < iters; it++) {
            char *c = malloc(len);
            memcpy(c, buf, len);
            int n = 1 + (int)(uf_rng_u64(11, f, (uint64_t)it) % 4);
            for (int j = 0; j < n; j++) {
                uint64_t u = uf_rng_u64(11, f + 100, (uint64_t)(it * 8 + j));
                /* half the flips land in the first 4 KiB, where the pickles and headers are */
                size_t at = (u & 1) ? (size_t)(u >> 8) % (len < 4096 ? len : 4096) : (size_t)(u >> 8) % len;
                c[at] = (char)(u >> 40);
            }
            check_write_bytes(tmp, c, len);
            free(c);
            uf_tensor_dict d;
            flips++;
            if (uf_torch_load(tmp, files[f].key, NULL, &d, &e) == 0)
                uf_tensor_dict_free(&d);
            else
                flip_failed += strstr(e.msg, tmp) != NULL;
        }
        free(buf);
    }
    remove(in_tmp("damaged.pth"));
    CHECK(cut_ok == cuts);
    printf("damage: %d of %d cuts refused or (tar padding) unchanged; %d of %d flipped files refused, the rest "
           "loaded\n", cut_ok, cuts, flip_failed, flips);
}

int main(int argc, char **argv)
{
    if (argc != 2 || !mkdtemp(tmpdir)) {
        fprintf(stderr, "usage: test_io_torch_oracle TORCHDIR\n");
        return 2;
    }
    static char abs_dir[4096]; /* absolute: the checksum test links to a file in it */
    if (!realpath(argv[1], abs_dir)) {
        fprintf(stderr, "%s: not found\n", argv[1]);
        return 2;
    }
    dir = abs_dir;
    test_cases();
    test_bad();
    test_damage();
    rmdir(tmpdir);
    CHECK_DONE();
}
