/* Archives (tar, tar.gz, zip, nested) walked with libarchive as the data set readers do, reading
 * every member's bytes. */
#include "fuzz_util.h" /* first: it sets the feature macro */

#include "data/archive.h"

/* Members are read into one buffer this large; bigger ones are only listed (their size comes from
 * the header, and reading them would test memory, not the reader). */
enum { MAX_MEMBER = 1 << 20 };

static int read_member(void *ctx, const uf_arc_entry *en, uf_err *e)
{
    if (en->size < 0 || en->size > MAX_MEMBER)
        return 0;
    return uf_arc_entry_read(en, ctx, e) ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, "input.tar");
    static char buf[MAX_MEMBER];
    uf_err e;
    if (path)
        uf_arc_walk(path, uf_arc_descend_archives, read_member, buf, &e);
    return 0;
}
