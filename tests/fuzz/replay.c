/* Replays a fuzzing corpus without libFuzzer (any compiler): every file of each folder (or each
 * file) named on the command line goes through the harness's LLVMFuzzerTestOneInput once. A crash,
 * a sanitizer finding or a leak (under ASan) fails the run, and so does a heavy input: one that
 * takes more than SLOW seconds of CPU or leaves the process's peak memory above BIG megabytes
 * (corpus inputs take milliseconds and megabytes, so a heavy one is a regression, e.g. of a
 * decompression bomb; memory is the measure that does not depend on the machine's speed).
 * Parse errors are normal inputs. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

enum { SLOW = 2, BIG = 512 };

/* The process's peak resident memory so far, in megabytes. */
static long peak_mb(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) ? 0 : ru.ru_maxrss / 1024;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs one file; returns 0, 1 when it was heavy, or -1 when it cannot be read (the corpus is
 * broken, not the parser). */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 1 << 16;
            uint8_t *nb = realloc(buf, cap);
            if (!nb)
                break;
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int ok = !ferror(f) && len < cap;
    fclose(f);
    long mb0 = peak_mb();
    clock_t t0 = clock();
    if (ok)
        LLVMFuzzerTestOneInput(buf, len);
    double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    long mb = peak_mb();
    free(buf);
    int heavy = s > SLOW || (mb > BIG && mb0 <= BIG); /* the peak is the process's: count it once */
    if (ok && heavy)
        fprintf(stderr, "replay: %s took %.1f s of CPU, peak memory %ld MB (limits %d s, %d MB)\n", path, s, mb,
                SLOW, BIG);
    return !ok ? -1 : heavy;
}

static long run_path(const char *path, long *heavy);

/* Every regular file of dir; returns how many ran, or -1 on a file that cannot be read. */
static long run_dir(const char *dir, long *heavy)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    long n = 0;
    struct dirent *de;
    char path[4096];
    while (n >= 0 && (de = readdir(d))) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) || !S_ISREG(st.st_mode))
            continue;
        n = run_path(path, heavy) < 0 ? -1 : n + 1;
    }
    closedir(d);
    return n;
}

/* A folder's files, or one file: how many ran, or -1 when one cannot be read; *heavy counts the
 * heavy ones. */
static long run_path(const char *path, long *heavy)
{
    struct stat st;
    if (stat(path, &st))
        return -1;
    if (S_ISDIR(st.st_mode))
        return run_dir(path, heavy);
    int rc = run_file(path);
    *heavy += rc > 0;
    return rc < 0 ? -1 : 1;
}

int main(int argc, char **argv)
{
    long total = 0, heavy = 0;
    for (int i = 1; i < argc; i++) {
        long n = run_path(argv[i], &heavy);
        if (n < 0) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 1;
        }
        total += n;
    }
    if (total == 0) {
        fprintf(stderr, "replay: no inputs\n");
        return 1;
    }
    printf("replay: %ld inputs, %ld heavy\n", total, heavy);
    return heavy > 0;
}
