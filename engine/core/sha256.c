#include "sha256.h"

#include <errno.h>
#include <stdio.h>
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

/* SHA-256 of the stream f, or (f NULL) of n bytes at data; -1 on a libcrypto failure. */
static int digest(FILE *f, const void *data, size_t n, char hex[65])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    unsigned char buf[1 << 15], sum[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!f)
        ok = ok && EVP_DigestUpdate(md, data, n);
    while (f && ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        ok = EVP_DigestUpdate(md, buf, n);
    ok = ok && EVP_DigestFinal_ex(md, sum, &len) && len == 32;
    EVP_MD_CTX_free(md);
    for (int i = 0; ok && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", sum[i]);
    return ok ? 0 : -1;
}

int uf_sha256_file(const char *path, char hex[65], uf_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return uf_fail(e, "%s: cannot open: %s", path, strerror(errno));
    int rc = digest(f, NULL, 0, hex);
    int read_error = ferror(f);
    fclose(f);
    if (rc || read_error)
        return uf_fail(e, "%s: %s", path, read_error ? "read error" : "SHA-256 failed");
    return 0;
}

int uf_sha256_mem(const void *data, size_t n, char hex[65])
{
    return digest(NULL, data, n, hex);
}

const char *uf_sha256_known(const char *basename)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(basename, known[i].name) == 0)
            return known[i].sha256;
    return NULL;
}

int uf_sha256_check_known(const char *path, uf_err *e)
{
    const char *slash = strrchr(path, '/'), *want = uf_sha256_known(slash ? slash + 1 : path);
    if (!want)
        return 0;
    char got[65];
    if (uf_sha256_file(path, got, e))
        return -1;
    if (strcmp(got, want) != 0)
        return uf_fail(e, "%s: sha256 mismatch for this published file: expected %s, actual %s "
                          "(corrupt or not the published file; download it again)", path, want, got);
    return 0;
}
