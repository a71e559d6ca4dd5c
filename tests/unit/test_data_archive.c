/* Random access to archive members on the fixtures of data_fixtures.py: plain tars, nested ones
 * included (ImageNet's tar of tars), are read in place at the indexed offsets; compressed
 * archives (tgz, a tgz inside a zip) through a pack written once; every member read at random
 * equals the same member streamed; the index and pack are reused from the cache.
 * usage: test_data_archive FIXTURES */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/fileio.h"
#include "data/dataset.h"

static void check_store(const char *fx, const char *name, const char *sub, const char *split, int want_file)
{
    char root[4096], cache[] = "/tmp/uotft-arc-XXXXXX";
    snprintf(root, sizeof root, "%s/%s", fx, sub);
    CHECK(mkdtemp(cache) != NULL);
    uf_dataset ds;
    uf_err e;
    CHECK_OK(uf_dataset_list(&ds, name, root, split, 0, &e), e);
    for (int pass = 0; pass < 2 && !check_failures; pass++) { /* the second pass opens from the cache */
        uf_arc_store s;
        CHECK_OK(uf_arc_store_open(&s, ds.images, cache, ds.n, ds.source, &e), e);
        if (check_failures)
            break;
        for (int i = ds.n - 1; i >= 0; i--) { /* backwards: random access, not a stream */
            void *a, *b;
            size_t la, lb;
            CHECK(s.blob[i].file == want_file);
            CHECK_OK(uf_arc_store_get(&s, i, &a, &la, &e), e);
            CHECK_OK(uf_arc_read_member(ds.images, ds.source[i], &b, &lb, &e), e);
            if (!check_failures) {
                CHECK(la == lb && memcmp(a, b, la) == 0);
                free(a);
                free(b);
            }
        }
        uf_arc_store_close(&s);
    }
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -c members.tsv | grep -qx 1", cache); /* one index, reused */
    CHECK(system(cmd) == 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache);
    CHECK(system(cmd) == 0);
    uf_dataset_free(&ds);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_data_archive FIXTURES\n");
        return 2;
    }
    check_store(argv[1], "imagenet", "imagenet", "train", 0); /* nested plain tars: in place */
    check_store(argv[1], "dogs", "dogs", "test", 0);          /* plain tar */
    check_store(argv[1], "cub", "cub", "train", 1);           /* tgz: packed */
    check_store(argv[1], "caltech101", "caltech101", "test", 1); /* tgz inside a zip: packed */
    check_store(argv[1], "sun397", "sun397", "test", 1);
    /* a member missing from the archive is an error naming it */
    uf_arc_store s;
    uf_err e;
    char path[4096], *bad[] = {"n01440764.tar/none.JPEG"};
    snprintf(path, sizeof path, "%s/imagenet/ILSVRC2012_img_train.tar", argv[1]);
    CHECK(uf_arc_store_open(&s, path, NULL, 1, bad, &e) != 0 && strstr(e.msg, "none.JPEG"));
    CHECK_DONE();
}
