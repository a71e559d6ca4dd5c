#define _POSIX_C_SOURCE 200809L
#include "workers.h"

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/parallel.h"

extern char **environ;

enum { FIXED_ARGS = 16 };

/* argv of shard i: uotft run PATH --tier T --shard i/N --progress D/T/E --threads K [--sample]
 * [--out-root R] [--set KEY=VALUE ...]; text holds the numbers. The thread count is this process's,
 * so a run the manifest gives no `threads` gets the same count whichever process trains it. */
static char **shard_argv(const char *exe, const char *path, const uf_run_opts *o, int i, char text[3][96], uf_err *e)
{
    char **argv = uf_calloc((size_t)FIXED_ARGS + 2 * (size_t)o->nset, sizeof *argv, e);
    if (!argv)
        return NULL;
    int k = 0;
    snprintf(text[0], sizeof text[0], "%d/%d", i, o->workers);
    snprintf(text[1], sizeof text[1], "%ld/%ld/%.3f", o->done_jobs, o->total_jobs, o->elapsed);
    snprintf(text[2], sizeof text[2], "%d", uf_threads());
    const char *fixed[] = {exe, "run", path, "--tier", o->tier, "--shard", text[0], "--progress", text[1],
                           "--threads", text[2]};
    for (size_t f = 0; f < sizeof fixed / sizeof fixed[0]; f++)
        argv[k++] = (char *)fixed[f];
    if (o->sample)
        argv[k++] = "--sample";
    if (o->out_root)
        argv[k++] = "--out-root", argv[k++] = (char *)o->out_root;
    for (int s = 0; s < o->nset; s++)
        argv[k++] = "--set", argv[k++] = o->set[s];
    return argv;
}

int uf_run_workers(const char *path, const uf_run_opts *o, uf_err *e)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return uf_fail(e, "cannot find this program's path to start workers: %s", strerror(errno));
    exe[len] = '\0';
    pid_t pid[256];
    int n = o->workers < 256 ? o->workers : 256, started = 0, rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        char text[3][96], **argv = shard_argv(exe, path, o, i, text, e);
        if (!argv)
            rc = -1;
        else if ((errno = posix_spawn(&pid[i], exe, NULL, NULL, argv, environ)) != 0)
            rc = uf_fail(e, "cannot start worker %d: %s", i, strerror(errno));
        else
            started++;
        free(argv);
    }
    for (int i = 0; i < started; i++) {
        int status;
        if (waitpid(pid[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            rc = rc ? rc : uf_fail(e, "%s: worker %d of %d failed (its message is above)", path, i, n);
    }
    return rc;
}
