/* The preparations by name (prepare.h). */
#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "prepare.h"

/* The mini preparation takes minutes from the committed backbones: the plan lists it unestimated. */
static int plan_mini(const uf_manifest *m, uf_plan_stage *stages, int cap, int *n, uf_err *e)
{
    (void)m, (void)e;
    *n = 0;
    if (cap < 1)
        return 0;
    memset(stages, 0, sizeof *stages);
    snprintf(stages->what, sizeof stages->what, "mini world, backbones, features, k-means (minutes)");
    *n = 1;
    return 0;
}

static const struct preparation {
    const char *name;
    int (*run)(const uf_manifest *m, int shard_i, int shard_n, uf_err *e);
    int (*plan)(const uf_manifest *m, uf_plan_stage *stages, int cap, int *n, uf_err *e);
} preparations[] = {
    {"mini", uf_prepare_mini_manifest, plan_mini},
    {"full", uf_prepare_full_manifest, uf_prepare_full_plan},
};

static const struct preparation *find(const char *name, const uf_manifest *m, uf_err *e)
{
    for (size_t i = 0; i < sizeof preparations / sizeof preparations[0]; i++)
        if (strcmp(preparations[i].name, name) == 0)
            return &preparations[i];
    uf_fail(e, "%s: unknown preparation '%s' (mini, full)", m->path, name);
    return NULL;
}

int uf_prepare(const char *name, const uf_manifest *m, int shard_i, int shard_n, uf_err *e)
{
    const struct preparation *p = find(name, m, e);
    return p ? p->run(m, shard_i, shard_n, e) : -1;
}

int uf_prepare_plan(const char *name, const uf_manifest *m, uf_plan_stage *stages, int cap, int *n, uf_err *e)
{
    const struct preparation *p = find(name, m, e);
    return p ? p->plan(m, stages, cap, n, e) : -1;
}
