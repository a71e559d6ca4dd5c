/* Runs the transforms named in a plan file on PNG/JPEG inputs and writes PNG (and .npy) outputs for
 * tests/oracle/data_transforms.py to compare with torchvision and PIL; checks the samplers' ranges
 * and determinism itself. usage: test_data_transform PLAN | test_data_transform --samplers
 * Plan lines: resize_shorter IN SIZE OUT | center_crop IN SIZE OUT | resized_crop IN TOP LEFT H W SIZE OUT
 *             | ra IN OP V NEGATE OUT | randaug IN SEED EPOCH SAMPLE OUT | tensor IN OUT.npy
 *             | rrc W H SEED EPOCH SAMPLE (prints top left h w tries) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/fileio.h"
#include "data/image.h"
#include "data/transform.h"
#include "io/npy.h"

static int load(const char *path, uf_image *im, uf_err *e)
{
    char *buf;
    size_t len;
    if (uf_read_file(path, &buf, &len, e))
        return -1;
    int rc = uf_image_decode(buf, len, path, im, e);
    free(buf);
    return rc;
}

static int op_index(const char *name)
{
    for (int k = 0; k < UF_RA_NOPS; k++)
        if (strcmp(uf_ra_names[k], name) == 0)
            return k;
    return -1;
}

static int run_line(char *line, uf_err *e)
{
    char cmd[32], in[1024], out[1024], opname[32];
    int a, b, c, d, size;
    unsigned long long seed, epoch, sample;
    uf_image im = {0}, res = {0};
    int rc = 0;
    if (sscanf(line, "rrc %d %d %llu %llu %llu", &a, &b, &seed, &epoch, &sample) == 5) {
        uf_rrc p;
        uf_rrc_sample(a, b, 0.08, 1.0, 3.0 / 4, 4.0 / 3, (uf_draw){seed, epoch, sample}, &p);
        printf("%d %d %d %d %d\n", p.top, p.left, p.h, p.w, p.tries);
        return 0;
    }
    if (sscanf(line, "%31s %1023s", cmd, in) != 2 || load(in, &im, e))
        return -1;
    if (strcmp(cmd, "resize_shorter") == 0 && sscanf(line, "%*s %*s %d %1023s", &size, out) == 2)
        rc = uf_resize_shorter(&im, size, &res, e);
    else if (strcmp(cmd, "center_crop") == 0 && sscanf(line, "%*s %*s %d %1023s", &size, out) == 2)
        rc = uf_center_crop(&im, size, &res, e);
    else if (strcmp(cmd, "resized_crop") == 0 &&
             sscanf(line, "%*s %*s %d %d %d %d %d %1023s", &a, &b, &c, &d, &size, out) == 6) {
        uf_image crop;
        rc = uf_crop(&im, a, b, c, d, &crop, e) || uf_resize(&crop, size, size, &res, e);
        uf_image_free(&crop);
    } else if (strcmp(cmd, "ra") == 0 && sscanf(line, "%*s %*s %31s %d %d %1023s", opname, &a, &b, out) == 4) {
        uf_ra_op op = {op_index(opname), a, 1, b};
        rc = uf_ra_apply(&im, &op, e);
        res = im;
        im.px = NULL;
    } else if (strcmp(cmd, "randaug") == 0 &&
               sscanf(line, "%*s %*s %llu %llu %llu %1023s", &seed, &epoch, &sample, out) == 4) {
        uf_randaug p;
        uf_randaug_sample(im.w, im.h, 2, 10, im.w < im.h ? im.w / 2 : im.h / 2, (uf_draw){seed, epoch, sample}, &p);
        for (int i = 0; i < p.n; i++)
            printf("%s %d %d %d ", uf_ra_names[p.ops[i].op], p.ops[i].v, p.ops[i].apply, p.ops[i].negate);
        printf("%d %d %d %d\n", p.cut_x0, p.cut_y0, p.cut_x1, p.cut_y1);
        rc = uf_randaug_apply(&im, &p, e);
        res = im;
        im.px = NULL;
    } else if (strcmp(cmd, "tensor") == 0 && sscanf(line, "%*s %*s %1023s", out) == 1) {
        uf_array t = {.dtype = UF_F32, .ndim = 3, .shape = {3, im.h, im.w}};
        t.data = malloc(sizeof(float) * 3 * (size_t)im.w * (size_t)im.h);
        uf_to_tensor(&im, uf_imagenet_mean, uf_imagenet_std, t.data);
        rc = uf_npy_write(out, &t, e);
        free(t.data);
        uf_image_free(&im);
        return rc;
    } else {
        uf_image_free(&im);
        return uf_fail(e, "bad plan line: %s", line);
    }
    if (!rc)
        rc = uf_image_write_png(out, &res, e);
    uf_image_free(&im);
    uf_image_free(&res);
    return rc;
}

/* RandomResizedCrop and RandAugment samplers: ranges, the fallback, determinism, frequencies. */
static void check_samplers(void)
{
    int fallback = 0, ops[UF_RA_NOPS] = {0}, mags[10] = {0}, applied = 0, flips = 0;
    double scale_sum = 0;
    const int N = 4000;
    for (int s = 0; s < N; s++) {
        uf_draw d = {11, 3, (uint64_t)s};
        uf_rrc p, q;
        uf_rrc_sample(500, 375, 0.08, 1.0, 0.75, 4.0 / 3, d, &p);
        uf_rrc_sample(500, 375, 0.08, 1.0, 0.75, 4.0 / 3, d, &q);
        CHECK(memcmp(&p, &q, sizeof p) == 0);
        CHECK(p.top >= 0 && p.left >= 0 && p.top + p.h <= 375 && p.left + p.w <= 500 && p.h > 0 && p.w > 0);
        if (p.tries <= 10) {
            double area = (double)p.w * p.h / (500.0 * 375), ratio = (double)p.w / p.h;
            scale_sum += area;
            CHECK(area > 0.07 && area < 1.01 && ratio > 0.70 && ratio < 1.42);
        } else
            fallback++;
        uf_randaug r;
        uf_randaug_sample(224, 224, 2, 10, 112, d, &r);
        for (int i = 0; i < 2; i++) {
            ops[r.ops[i].op]++;
            mags[r.ops[i].v]++;
            applied += r.ops[i].apply;
        }
        CHECK(r.cut_x0 >= 0 && r.cut_x1 <= 224 && r.cut_x1 - r.cut_x0 <= 112 && r.cut_y1 - r.cut_y0 <= 112);
        flips += uf_flip_sample(d);
    }
    CHECK(fallback < N / 50);               /* a 4:3 image rarely needs the fallback */
    CHECK(scale_sum / (N - fallback) > 0.3 && scale_sum / (N - fallback) < 0.6); /* torchvision's: data_transforms.py */
    for (int k = 0; k < UF_RA_NOPS; k++)
        CHECK(ops[k] > 2 * N / UF_RA_NOPS * 0.8 && ops[k] < 2 * N / UF_RA_NOPS * 1.2);
    CHECK(mags[0] == 0);
    for (int v = 1; v <= 9; v++)
        CHECK(mags[v] > 2 * N / 9 * 0.85 && mags[v] < 2 * N / 9 * 1.15);
    CHECK(applied > 2 * N * 0.46 && applied < 2 * N * 0.54);
    CHECK(flips > N * 0.46 && flips < N * 0.54);
    /* a 30:1 strip always falls back: full height, width = round(H * 4/3), centred */
    uf_rrc p;
    uf_rrc_sample(3000, 100, 0.08, 1.0, 0.75, 4.0 / 3, (uf_draw){1, 0, 0}, &p);
    CHECK(p.tries == 11 && p.h == 100 && p.w == 133 && p.left == (3000 - 133) / 2 && p.top == 0);
    /* other epochs and seeds draw differently */
    uf_rrc a, b;
    uf_rrc_sample(500, 375, 0.08, 1.0, 0.75, 4.0 / 3, (uf_draw){11, 3, 5}, &a);
    uf_rrc_sample(500, 375, 0.08, 1.0, 0.75, 4.0 / 3, (uf_draw){11, 4, 5}, &b);
    CHECK(memcmp(&a, &b, sizeof a) != 0);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--samplers") == 0) {
        check_samplers();
        CHECK_DONE();
    }
    if (argc != 2) {
        fprintf(stderr, "usage: test_data_transform PLAN | --samplers\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    char line[4096];
    uf_err e;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (*line && run_line(line, &e)) {
            fprintf(stderr, "%s\n", e.msg);
            check_failures++;
        }
        fflush(stdout);
    }
    if (f)
        fclose(f);
    CHECK(f != NULL);
    CHECK_DONE();
}
