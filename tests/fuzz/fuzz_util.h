/* Shared by the harnesses whose parser only takes a path: the input goes to one file per process
 * (and name), rewritten for every input, so the parser reads exactly the fuzzer's bytes.
 * Include it first: it sets the POSIX feature macro, which must precede every system header. */
#ifndef UF_FUZZ_UTIL_H
#define UF_FUZZ_UTIL_H

#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_path[4096];

/* At exit: the file goes with the process, so replays in CI leave nothing in /tmp. */
static void fuzz_file_remove(void)
{
    remove(fuzz_path);
}

/* The path of a file under $TMPDIR (or /tmp) that holds data[0..size), or NULL when it cannot be
 * written (then the input is skipped: that is the machine's problem, not the parser's). `name`
 * is the file's base name, so a parser that looks at the suffix sees the one it expects. */
static inline const char *fuzz_file(const uint8_t *data, size_t size, const char *name)
{
    char *path = fuzz_path;
    if (!path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof fuzz_path, "%s/uotft-fuzz-%ld-%s", dir && *dir ? dir : "/tmp", (long)getpid(), name);
        atexit(fuzz_file_remove);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    int ok = fwrite(data, 1, size, f) == size;
    ok = fclose(f) == 0 && ok;
    return ok ? path : NULL;
}

#endif
