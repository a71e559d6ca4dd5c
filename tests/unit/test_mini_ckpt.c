/* Checkpoint extras (nn/ckpt.h, version 2), as the pre-training's state files use them: the note
 * and extra tables round-trip exactly; a reader that does not ask for them (uf_ckpt_load) skips
 * them and gets the same model; asking for the wrong number of tables or a table of another shape
 * is refused naming the file; a file without extras reads with an empty note. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn/ckpt.h"

static int table(uf_params *t, const char *name, int64_t rows, int64_t cols, uf_err *e)
{
    int64_t shape[2] = {rows, cols};
    memset(t, 0, sizeof *t);
    return uf_params_add(t, name, 2, shape, 0, 0, e) < 0 || uf_params_alloc(t, 0, e) ? -1 : 0;
}

int main(void)
{
    char dir[] = "/tmp/uotft-mini-ckpt-XXXXXX", path[256], plain[256];
    uf_err e;
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/state.ckpt", dir);
    snprintf(plain, sizeof plain, "%s/plain.ckpt", dir);
    uf_arch a;
    uf_model m, m2, m3;
    uf_head_spec head = {"fc", 5, UF_HEAD_MLP};
    CHECK_OK(uf_arch_parse("small:4,8:1,1", &a, &e), e);
    CHECK_OK(uf_model_create(&m, &a, &head, 1, &e), e);
    CHECK_OK(uf_model_create(&m2, &a, &head, 1, &e), e);
    CHECK_OK(uf_model_create(&m3, &a, &head, 1, &e), e);
    uf_params q, q2, wrong;
    CHECK_OK(table(&q, "queue", 8, 5, &e), e);
    CHECK_OK(table(&q2, "queue", 8, 5, &e), e);
    CHECK_OK(table(&wrong, "queue", 4, 5, &e), e);
    if (check_failures)
        CHECK_DONE();
    uf_model_init_weights(&m, 3);
    for (int i = 0; i < 40; i++)
        q.w[i] = (float)i / 7;
    uf_sgd opt = {.momentum = 0.9, .steps = 0};
    uf_train_state ts = {.step = 12, .epoch = 1, .seed = 5};
    uf_ckpt_extra x = {.ntables = 1, .tables = {&q}};
    strcpy(x.note, "method=moco lr=0.06");
    CHECK_OK(uf_ckpt_save_ex(path, &m, &opt, &ts, &x, &e), e);

    /* round trip */
    uf_ckpt_extra y = {.ntables = 1, .tables = {&q2}};
    uf_train_state ts2;
    CHECK_OK(uf_ckpt_load_ex(path, &m2, NULL, &ts2, &y, &e), e);
    CHECK(strcmp(y.note, x.note) == 0 && ts2.step == 12 && ts2.seed == 5);
    CHECK(memcmp(q.w, q2.w, sizeof(float) * 40) == 0);
    CHECK(memcmp(m.p.w, m2.p.w, sizeof(float) * m.p.total) == 0);
    /* skipped by a reader that does not ask */
    CHECK_OK(uf_ckpt_load(path, &m3, NULL, NULL, &e), e);
    CHECK(memcmp(m.p.w, m3.p.w, sizeof(float) * m.p.total) == 0);
    /* the wrong number of tables, a table of another shape */
    uf_ckpt_extra none = {.ntables = 0};
    CHECK(uf_ckpt_load_ex(path, &m2, NULL, NULL, &none, &e) != 0 && strstr(e.msg, "state.ckpt: holds 1 extra"));
    uf_ckpt_extra bad = {.ntables = 1, .tables = {&wrong}};
    CHECK(uf_ckpt_load_ex(path, &m2, NULL, NULL, &bad, &e) != 0 && strstr(e.msg, "state.ckpt: tensor 0 is 'queue' (8, 5)"));
    /* a file without extras: empty note, no tables */
    CHECK_OK(uf_ckpt_save(plain, &m, &opt, &ts, &e), e);
    strcpy(none.note, "stale");
    CHECK_OK(uf_ckpt_load_ex(plain, &m2, NULL, NULL, &none, &e), e);
    CHECK(none.note[0] == '\0');
    uf_model_free(&m), uf_model_free(&m2), uf_model_free(&m3);
    uf_params_free(&q), uf_params_free(&q2), uf_params_free(&wrong);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    CHECK_DONE();
}
