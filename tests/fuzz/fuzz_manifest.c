/* Experiment manifests (INI through libinih): loaded for the features tier, then every setting of
 * the first jobs is looked up, which runs the {key} substitution and ".<axis value>" suffixes. */
#include "fuzz_util.h" /* first: it sets the feature macro */

#include <string.h>

#include "run/manifest.h"

/* Enough jobs to see per-axis suffixes take effect, few enough to keep an input fast. */
enum { JOBS = 4 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, "manifest.ini");
    uf_err e;
    uf_manifest m;
    if (!path || uf_manifest_load(path, "features", &m, &e))
        return 0;
    int coords[UF_MAX_AXES];
    char buf[4096];
    long njobs = uf_manifest_njobs(&m);
    for (long j = 0; j < njobs && j < JOBS; j++) {
        uf_manifest_job(&m, j, coords);
        for (int i = 0; i < m.nkv; i++)
            if (strcmp(m.kv[i].section, "settings") == 0)
                uf_job_get(&m, coords, m.kv[i].key, 0, buf, sizeof buf, &e);
    }
    uf_manifest_free(&m);
    return 0;
}
