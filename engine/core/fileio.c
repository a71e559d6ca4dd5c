#define _POSIX_C_SOURCE 200809L
#include "fileio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

int uf_mkdirs(const char *dir, uf_err *e)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0)
        return 0;
    if (n >= sizeof buf)
        return uf_fail(e, "%s: path too long", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return uf_fail(e, "%s: cannot create folder: %s", buf, strerror(errno));
        buf[i] = c;
    }
    return 0;
}

int uf_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int uf_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int uf_out_open(uf_out *o, const char *path, uf_err *e)
{
    memset(o, 0, sizeof *o);
    if (strlen(path) >= sizeof o->path)
        return uf_fail(e, "%s: path too long", path);
    strcpy(o->path, path);
    char *slash = strrchr(o->path, '/');
    if (slash && slash != o->path) {
        *slash = '\0';
        int rc = uf_mkdirs(o->path, e);
        *slash = '/';
        if (rc)
            return rc;
    }
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", path, (long)getpid());
    o->f = fopen(o->tmp, "wb");
    if (!o->f)
        return uf_fail(e, "%s: cannot write: %s", path, strerror(errno));
    return 0;
}

int uf_out_commit(uf_out *o, uf_err *e)
{
    int bad = ferror(o->f);
    if (fclose(o->f) != 0)
        bad = 1;
    o->f = NULL;
    if (bad) {
        int saved = errno;
        remove(o->tmp);
        return uf_fail(e, "%s: write failed: %s", o->path, strerror(saved));
    }
    if (rename(o->tmp, o->path) != 0) {
        int saved = errno;
        remove(o->tmp);
        return uf_fail(e, "%s: cannot rename into place: %s", o->path, strerror(saved));
    }
    return 0;
}

void uf_out_abort(uf_out *o)
{
    if (o->f)
        fclose(o->f);
    o->f = NULL;
    if (o->tmp[0])
        remove(o->tmp);
}

int uf_read_file(const char *path, char **buf, size_t *len, uf_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return uf_fail(e, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = uf_alloc(cap + 1, e);
    for (;;) {
        if (!b) {
            fclose(f);
            return -1;
        }
        n += fread(b + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        char *nb = uf_realloc(b, cap + 1, 1, e);
        if (!nb)
            free(b);
        b = nb;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return uf_fail(e, "%s: read error", path);
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}
