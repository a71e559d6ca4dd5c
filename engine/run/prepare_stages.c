/* What the mini and full preparations share (prepare_stages.h). */
#define _POSIX_C_SOURCE 200809L
#include "prepare_stages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/fileio.h"
#include "../core/parallel.h"
#include "../core/sha256.h"
#include "../core/tsv.h"
#include "../features/extract.h"
#include "../features/kmeans.h"
#include "../io/npy.h"

int uf_stamp_ok(const char *dir, const char *source)
{
    char path[4200], file[4400], hex[65];
    uf_tsv t;
    uf_err e;
    snprintf(path, sizeof path, "%s/stamp.tsv", dir);
    if (!uf_is_file(path) || uf_tsv_read(path, &t, &e))
        return 0;
    int ok = t.ncols == 2 && t.nrows > 1 && strcmp(uf_tsv_at(&t, 0, 0), "source") == 0 &&
             strcmp(uf_tsv_at(&t, 0, 1), source) == 0;
    for (int r = 1; ok && r < t.nrows; r++) {
        snprintf(file, sizeof file, "%s/%s", dir, uf_tsv_at(&t, r, 0));
        ok = uf_sha256_file(file, hex, &e) == 0 && strcmp(hex, uf_tsv_at(&t, r, 1)) == 0;
    }
    uf_tsv_free(&t);
    return ok;
}

int uf_stamp_write(const char *dir, const char *source, char files[][128], int n, uf_err *e)
{
    char path[4200], hex[65];
    uf_out o;
    snprintf(path, sizeof path, "%s/stamp.tsv", dir);
    if (uf_out_open(&o, path, e))
        return -1;
    fprintf(o.f, "file\tsha256\nsource\t%s\n", source);
    for (int i = 0; i < n; i++) {
        char file[4400];
        snprintf(file, sizeof file, "%s/%s", dir, files[i]);
        if (uf_sha256_file(file, hex, e)) {
            uf_out_abort(&o);
            return -1;
        }
        fprintf(o.f, "%s\t%s\n", files[i], hex);
    }
    return uf_out_commit(&o, e);
}

int uf_copy_file(const char *from, const char *to, uf_err *e)
{
    char *buf;
    size_t len;
    uf_out o;
    if (uf_read_file(from, &buf, &len, e))
        return -1;
    int rc = uf_out_open(&o, to, e);
    if (rc == 0) {
        fwrite(buf, 1, len, o.f);
        rc = uf_out_commit(&o, e);
    }
    free(buf);
    return rc;
}

/* The class table of the clusters: each named by its most frequent class, with that class's share
 * of its images, and given the most frequent concept of its images. cp: the labels' class table. */
static int cluster_table(const char *cp, const char *path, const int *assign, const int *labels, int n, int k,
                         uf_err *e)
{
    uf_tsv t;
    if (uf_tsv_read(cp, &t, e))
        return -1;
    int cn = uf_tsv_col(&t, "name"), cc = uf_tsv_col(&t, "concept"), nc = t.nrows, ncon = 0, rc = 0;
    /* concept id of every class; counts per (cluster, class) and (cluster, concept) */
    int *cid = uf_calloc((size_t)nc, sizeof(int), e), *cls = uf_calloc((size_t)k * nc, sizeof(int), e);
    int *con = uf_calloc((size_t)k * nc, sizeof(int), e), *size = uf_calloc((size_t)k, sizeof(int), e);
    const char **cname = uf_calloc((size_t)nc, sizeof(char *), e);
    if (cn < 0 || cc < 0)
        rc = uf_fail(e, "%s: needs the columns name and concept", cp);
    else if (!cid || !cls || !con || !size || !cname)
        rc = -1;
    for (int l = 0; !rc && l < nc; l++) {
        const char *c = uf_tsv_at(&t, l, cc);
        cid[l] = 0;
        while (cid[l] < ncon && strcmp(cname[cid[l]], c) != 0)
            cid[l]++;
        if (cid[l] == ncon)
            cname[ncon++] = c;
    }
    for (int i = 0; !rc && i < n; i++) {
        if (labels[i] < 0 || labels[i] >= nc) {
            rc = uf_fail(e, "label %d outside the %d classes of %s", labels[i], nc, cp);
            break;
        }
        cls[(size_t)assign[i] * nc + labels[i]]++;
        con[(size_t)assign[i] * nc + cid[labels[i]]]++;
        size[assign[i]]++;
    }
    uf_out o;
    if (!rc && (rc = uf_out_open(&o, path, e)) == 0) {
        fprintf(o.f, "index\tname\tconcept\tsize\tshare\n");
        for (int c = 0; c < k; c++) {
            const int *a = cls + (size_t)c * nc, *b = con + (size_t)c * nc;
            int top = 0, topc = 0;
            for (int l = 1; l < nc; l++)
                top = a[l] > a[top] ? l : top;
            for (int q = 1; q < ncon; q++)
                topc = b[q] > b[topc] ? q : topc;
            fprintf(o.f, "%d\t%s\t%s\t%d\t%.2f\n", c, uf_tsv_at(&t, top, cn), cname[topc], size[c],
                    size[c] ? (double)a[top] / size[c] : 0);
        }
        rc = uf_out_commit(&o, e);
    }
    free(cid), free(cls), free(con), free(size), free(cname);
    uf_tsv_free(&t);
    return rc;
}


/* Labels as int and the number of classes they name. */
static int read_labels(const char *path, int n, int **labels, int *nclasses, uf_err *e)
{
    uf_array L;
    if (uf_npy_read(path, &L, e))
        return -1;
    int rc = L.ndim != 1 || L.shape[0] != n ? uf_fail(e, "%s: expected %d labels", path, n) : 0;
    *labels = rc ? NULL : uf_calloc((size_t)n, sizeof(int), e);
    *nclasses = 0;
    for (int i = 0; *labels && i < n; i++) {
        (*labels)[i] = (int)uf_array_get(&L, (size_t)i);
        *nclasses = (*labels)[i] + 1 > *nclasses ? (*labels)[i] + 1 : *nclasses;
    }
    uf_array_free(&L);
    return *labels ? 0 : -1;
}

/* The clusters' means and counts, each image's cluster and the class table; files[] gets their names. */
static int write_clusters(const uf_cluster_job *j, const float *X, int n, int d, const int32_t *A, const int *labels,
                          char files[][128], int *nf, uf_err *e)
{
    char path[4400];
    int *assign = uf_calloc((size_t)n, sizeof(int), e);
    double *means = uf_calloc((size_t)j->k * d, sizeof(double), e);
    int64_t *counts = uf_calloc((size_t)j->k, sizeof(int64_t), e);
    int rc = assign && means && counts ? 0 : -1;
    for (int i = 0; !rc && i < n; i++)
        assign[i] = A[i];
    if (!rc) {
        uf_group_means(X, assign, n, d, j->k, means, counts);
        rc = uf_write_means(j->dir, j->set, means, counts, j->k, d, e);
        snprintf(files[(*nf)++], 128, "%s.means.npy", j->set);
        snprintf(files[(*nf)++], 128, "%s.counts.npy", j->set);
    }
    for (int c = 0; !rc && c < j->k; c++)
        if (counts[c] == 0)
            rc = uf_fail(e, "k-means of %s left cluster %d empty", j->features, c);
    if (!rc) {
        uf_array aa = {.dtype = UF_I32, .ndim = 1, .shape = {n}, .data = (void *)A};
        snprintf(files[*nf], 128, "%s-assign.npy", j->set);
        snprintf(path, sizeof path, "%s/%s", j->dir, files[(*nf)++]);
        rc = uf_npy_write(path, &aa, e);
    }
    if (!rc) {
        snprintf(files[*nf], 128, "%s-classes.tsv", j->set);
        snprintf(path, sizeof path, "%s/%s", j->dir, files[(*nf)++]);
        rc = cluster_table(j->classes, path, assign, labels, n, j->k, e);
    }
    free(assign), free(means), free(counts);
    return rc;
}

/* The targets' means and counts, beside the clusters. */
static int copy_targets(const uf_cluster_job *j, char files[][128], int *nf, uf_err *e)
{
    for (int t = 0; t < j->ntargets; t++)
        for (int w = 0; w < 2; w++) {
            char from[4400], to[4400];
            if (*nf == UF_STAMP_MAX_FILES)
                return uf_fail(e, "%s: too many outputs", j->dir);
            snprintf(files[*nf], 128, "%s.%s.npy", j->targets[t], w ? "counts" : "means");
            snprintf(from, sizeof from, "%s/%s", j->from, files[*nf]);
            snprintf(to, sizeof to, "%s/%s", j->dir, files[(*nf)++]);
            if (uf_copy_file(from, to, e))
                return -1;
        }
    return 0;
}

int uf_prepare_clusters(const uf_cluster_job *jc, uf_err *e)
{
    double t0 = uf_now();
    uf_cluster_job j = *jc;
    char stamp[4400], source[512], hex[65], files[UF_STAMP_MAX_FILES][128];
    uf_array X;
    uf_npy_mapping map;
    int *labels = NULL, nclasses = 0, nf = 0;
    uf_kmeans_params kp;
    uf_kmeans_defaults(&kp);
    snprintf(stamp, sizeof stamp, "%s/stamp.tsv", j.from);
    if (uf_sha256_file(stamp, hex, e) || uf_npy_map(j.features, &X, &map, e))
        return -1;
    int rc = X.dtype != UF_F32 || X.ndim != 2 ? uf_fail(e, "%s: not float32 features (rows, d)", j.features) : 0;
    const int n = rc ? 0 : (int)X.shape[0], d = rc ? 0 : (int)X.shape[1];
    if (!rc)
        rc = read_labels(j.labels, n, &labels, &nclasses, e);
    kp.k = j.k = j.k > 0 ? j.k : -j.k * nclasses;
    snprintf(source, sizeof source, "features=sha256:%s k=%d iters=%d seed=%llu init=%s", hex, kp.k, kp.iters,
             (unsigned long long)kp.seed, kp.init == UF_KMEANS_PLUSPLUS ? "k-means++" : "random");
    if (!rc && uf_stamp_ok(j.dir, source)) {
        fprintf(stderr, "%s k-means %s: verified (%.1f s)\n", j.tag, j.dir, uf_now() - t0);
        goto out;
    }
    float *C = rc ? NULL : uf_alloc_floats((size_t)kp.k * d, e);
    int32_t *A = C ? uf_calloc((size_t)n, sizeof(int32_t), e) : NULL;
    uf_kmeans_info info;
    rc = A ? uf_kmeans(X.data, n, d, &kp, C, A, &info, e) : -1;
    if (!rc)
        rc = uf_mkdirs(j.dir, e) || write_clusters(&j, X.data, n, d, A, labels, files, &nf, e) ||
             copy_targets(&j, files, &nf, e) || uf_stamp_write(j.dir, source, files, nf, e);
    free(C), free(A);
    if (!rc)
        fprintf(stderr, "%s k-means %s: K = %d, objective %.1f, %d iterations (%.1f s)\n", j.tag, j.dir, kp.k,
                info.objective, info.iterations, uf_now() - t0);
out:
    free(labels);
    uf_npy_unmap(&map);
    return rc;
}
