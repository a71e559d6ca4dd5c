#define _GNU_SOURCE /* st_mtim */
#include "sha256.h"

#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* From DATASETS.md section 4: download.pytorch.org weight files (the name embeds the sum's first 8 digits). */
static const struct {
    const char *name, *sha256;
} known[] = {
    {"resnet18-f37072fd.pth", "f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec"},
    {"resnet18-5c106cde.pth", "5c106cde386e87d4033832f2996f5493238eda96ccf559d1d62760c4de0613f8"},
    {"resnet50-0676ba61.pth", "0676ba61b6795bbe1773cffd859882e5e297624d384b6993f7c9e683e722fb8a"},
    {"resnet50-19c8e357.pth", "19c8e3572231adff6824a2da93fd67b5986919a2e65f8b6007eab4edee220097"},
};

/* SHA-256 of the stream f, or (f NULL) of the npieces buffers one after the other; -1 on a
 * libcrypto failure. */
static int digest(FILE *f, const void *const *pieces, const size_t *sizes, int npieces, char hex[65])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    unsigned char buf[1 << 15], sum[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    size_t n;
    for (int i = 0; !f && i < npieces; i++)
        ok = ok && EVP_DigestUpdate(md, pieces[i], sizes[i]);
    while (f && ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        ok = EVP_DigestUpdate(md, buf, n);
    ok = ok && EVP_DigestFinal_ex(md, sum, &len) && len == 32;
    EVP_MD_CTX_free(md);
    for (int i = 0; ok && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", sum[i]);
    return ok ? 0 : -1;
}

/* The last sums of files, by identity and modification time: a worker that fine-tunes run after run
 * from one 100 MB backbone reads it for its sum once, not twice a run. */
enum { SUM_CACHE = 8 };
static struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    char hex[65];
} sums[SUM_CACHE];
static int nsums, next_sum;
static pthread_mutex_t sums_lock = PTHREAD_MUTEX_INITIALIZER;

static int same_file(int i, const struct stat *st)
{
    return sums[i].dev == st->st_dev && sums[i].ino == st->st_ino && sums[i].size == st->st_size &&
           sums[i].mtime.tv_sec == st->st_mtim.tv_sec && sums[i].mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* 1 and hex filled when the file's sum is known for its current identity and time. */
static int cached_sum(const struct stat *st, char hex[65], int store)
{
    int found = 0;
    pthread_mutex_lock(&sums_lock);
    for (int i = 0; i < nsums && !found; i++)
        if (same_file(i, st))
            found = 1, memcpy(hex, sums[i].hex, 65);
    if (store && !found) {
        int i = next_sum;
        next_sum = (next_sum + 1) % SUM_CACHE, nsums = nsums < SUM_CACHE ? nsums + 1 : nsums;
        sums[i].dev = st->st_dev, sums[i].ino = st->st_ino, sums[i].size = st->st_size, sums[i].mtime = st->st_mtim;
        memcpy(sums[i].hex, hex, 65);
    }
    pthread_mutex_unlock(&sums_lock);
    return found;
}

int uf_sha256_file(const char *path, char hex[65], uf_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return uf_fail(e, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    int known = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    if (known && cached_sum(&st, hex, 0)) {
        fclose(f);
        return 0;
    }
    int rc = digest(f, NULL, NULL, 0, hex);
    int read_error = ferror(f);
    fclose(f);
    if (rc || read_error)
        return uf_fail(e, "%s: %s", path, read_error ? "read error" : "SHA-256 failed");
    if (known)
        cached_sum(&st, hex, 1);
    return 0;
}

int uf_sha256_mem(const void *data, size_t n, char hex[65])
{
    return digest(NULL, &data, &n, 1, hex);
}

int uf_sha256_pieces(const void *const *pieces, const size_t *sizes, int npieces, char hex[65])
{
    return digest(NULL, pieces, sizes, npieces, hex);
}

const char *uf_sha256_known(const char *basename)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(basename, known[i].name) == 0)
            return known[i].sha256;
    return NULL;
}

/* The sum a recipe of $UOTFT_RECIPES (datasets/lib.sh's folder of <name>.tsv, rows "file<TAB>bytes<TAB>
 * sha256<TAB>urls") gives this base name, into want; 0 if none does or the sum is not a confirmed one.
 * The tiny full world of tests/full/make_world.py holds files under the published names with its own
 * bytes and recipes: with UOTFT_RECIPES pointing there, they are checked against those, as
 * datasets/verify checks them. */
static int recipe_sum(const char *base, char want[65])
{
    const char *dir = getenv("UOTFT_RECIPES");
    DIR *d = dir && *dir ? opendir(dir) : NULL;
    struct dirent *de;
    char path[4096], line[8192];
    size_t nb = strlen(base);
    int found = 0;
    while (d && !found && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".tsv") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "r");
        while (f && !found && fgets(line, sizeof line, f)) {
            char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
            if (!t2 || (size_t)(t1 - line) != nb || strncmp(line, base, nb) != 0)
                continue;
            if (strspn(t2 + 1, "0123456789abcdef") == 64 && (t2[65] == '\t' || t2[65] == '\n' || !t2[65])) {
                memcpy(want, t2 + 1, 64);
                want[64] = '\0';
                found = 1;
            }
        }
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return found;
}

int uf_sha256_check_known(const char *path, uf_err *e)
{
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path, *want = uf_sha256_known(base);
    if (!want)
        return 0;
    char got[65], recipe[65];
    int from_recipe = recipe_sum(base, recipe);
    if (from_recipe)
        want = recipe;
    if (uf_sha256_file(path, got, e))
        return -1;
    if (strcmp(got, want) != 0)
        return uf_fail(e, "%s: sha256 mismatch for this published file: expected %s%s, actual %s "
                          "(corrupt or not the published file; download it again)", path, want,
                       from_recipe ? " (a recipe of UOTFT_RECIPES)" : "", got);
    return 0;
}
