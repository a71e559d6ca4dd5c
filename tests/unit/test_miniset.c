/* The mini-set format: round trip, and rejection of corrupt files with the
 * file and the reason (checksum, truncation, magic, header, labels). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "core/fileio.h"
#include "data/miniset.h"

static char dir[] = "/tmp/uotft-test-miniset-XXXXXX";

static const char *tmp(const char *name) { return check_path(dir, name); }

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    unsigned char *b = malloc(*n);
    if (fread(b, 1, *n, f) != *n)
        *n = 0;
    fclose(f);
    return b;
}

static void spit(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

/* Reading `name` fails with a message that names the file and contains `why`. */
static void check_rejects(const char *name, const char *why)
{
    uf_miniset s;
    uf_err e = {{0}};
    int rc = uf_miniset_read(tmp(name), &s, &e);
    CHECK(rc != 0);
    CHECK(strstr(e.msg, name) != NULL);
    if (!strstr(e.msg, why))
        fprintf(stderr, "%s: expected '%s' in: %s\n", name, why, e.msg);
    CHECK(strstr(e.msg, why) != NULL);
}

static void fix_crc(unsigned char *b, size_t n)
{
    uint32_t c = (uint32_t)crc32(0L, b + UF_MINISET_HEADER, (uInt)(n - UF_MINISET_HEADER));
    for (int i = 0; i < 4; i++)
        b[20 + i] = (unsigned char)(c >> (8 * i));
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    uf_err e;
    uf_miniset s, r;
    CHECK_OK(uf_miniset_alloc(&s, 7, 5, 3, 300, &e), e);
    for (int i = 0; i < 7; i++)
        s.labels[i] = (uint16_t)(i * 41);
    for (int i = 0; i < 7 * 5 * 3; i++)
        s.pixels[i] = (uint8_t)(i * 37 + 11);
    CHECK_OK(uf_miniset_write(tmp("ok.mset"), &s, &e), e);
    CHECK_OK(uf_miniset_read(tmp("ok.mset"), &r, &e), e);
    CHECK(r.count == 7 && r.height == 5 && r.width == 3 && r.classes == 300);
    CHECK(memcmp(r.labels, s.labels, sizeof *s.labels * 7) == 0);
    CHECK(memcmp(r.pixels, s.pixels, 7 * 5 * 3) == 0);
    uf_miniset_free(&r);

    size_t n;
    unsigned char *good = slurp(tmp("ok.mset"), &n), *b = malloc(n + 8);
    CHECK(n == UF_MINISET_HEADER + 7 * (2 + 15));

    memcpy(b, good, n);
    b[n - 4] ^= 1; /* one pixel */
    spit(tmp("flipped.mset"), b, n);
    check_rejects("flipped.mset", "checksum");

    memcpy(b, good, n);
    b[UF_MINISET_HEADER] ^= 1; /* one label */
    spit(tmp("label-flipped.mset"), b, n);
    check_rejects("label-flipped.mset", "checksum");

    spit(tmp("truncated.mset"), good, n - 5);
    check_rejects("truncated.mset", "truncated");

    memcpy(b, good, n);
    memset(b + n, 0, 8);
    spit(tmp("trailing.mset"), b, n + 3);
    check_rejects("trailing.mset", "trailing");

    spit(tmp("short.mset"), good, 10);
    check_rejects("short.mset", "not a mini-tier image set");

    memcpy(b, good, n);
    b[0] = 'X';
    spit(tmp("magic.mset"), b, n);
    check_rejects("magic.mset", "bad magic");

    memcpy(b, good, n);
    b[8] = 8; /* count 8, payload still for 7 */
    spit(tmp("count.mset"), b, n);
    check_rejects("count.mset", "inconsistent header");

    memcpy(b, good, n);
    b[16] = 200; /* classes 200 < label 246, with a valid checksum */
    b[17] = 0;
    fix_crc(b, n);
    spit(tmp("label-range.mset"), b, n);
    check_rejects("label-range.mset", "outside [0, 200)");

    memcpy(b, good, n);
    b[12] = 0; /* height 0 */
    b[13] = 0;
    spit(tmp("zero.mset"), b, n);
    check_rejects("zero.mset", "inconsistent header");

    check_rejects("missing.mset", "missing.mset");

    /* the writer refuses labels out of range, and leaves no file */
    s.labels[3] = 300;
    CHECK(uf_miniset_write(tmp("bad-out.mset"), &s, &e) != 0);
    CHECK(strstr(e.msg, "label 300") != NULL);
    CHECK(!uf_is_file(tmp("bad-out.mset")));
    uf_miniset_free(&s);

    const char *names[] = {"ok.mset", "flipped.mset", "label-flipped.mset", "truncated.mset", "trailing.mset",
                           "short.mset", "magic.mset", "count.mset", "label-range.mset", "zero.mset"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        unlink(tmp(names[i]));
    rmdir(dir);
    free(good);
    free(b);
    CHECK_DONE();
}
