/* The pickle machine, element conversions and SHA-256 on small inputs with
 * known answers; refusal of hostile globals and opcodes; and robustness:
 * every truncation and thousands of random byte flips of real pickles must
 * end in a result or a clean error (run under ASan/valgrind by hand too). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/rng.h"
#include "core/sha256.h"
#include "io/pickle.h"
#include "io/pkfile.h"
#include "io/pyarray.h"

/* Written by Python 3.11's pickle.dumps of
 *   {'a': [1, -2, 3.5, None, True, False], 'b': ('x', b'yz'), 300: 70000, 'big': -2**40, 'huge': 2**70, 'u': 'é'}
 * with protocols 2 and 4; torch 1.13's data.pkl of torch.save(nn.Parameter(torch.randn(2))); and
 * numpy 1.24's protocol 2 pickle of np.asfortranarray([[1.5, -2], [3, 4.25]], float32). */
static const char p2_sample[] =
    "\x80\x02\x7d\x71\x00\x28\x58\x01\x00\x00\x00\x61\x71\x01\x5d\x71\x02\x28\x4b\x01\x4a\xfe\xff\xff"
    "\xff\x47\x40\x0c\x00\x00\x00\x00\x00\x00\x4e\x88\x89\x65\x58\x01\x00\x00\x00\x62\x71\x03\x58\x01"
    "\x00\x00\x00\x78\x71\x04\x63\x5f\x63\x6f\x64\x65\x63\x73\x0a\x65\x6e\x63\x6f\x64\x65\x0a\x71\x05"
    "\x58\x02\x00\x00\x00\x79\x7a\x71\x06\x58\x06\x00\x00\x00\x6c\x61\x74\x69\x6e\x31\x71\x07\x86\x71"
    "\x08\x52\x71\x09\x86\x71\x0a\x4d\x2c\x01\x4a\x70\x11\x01\x00\x58\x03\x00\x00\x00\x62\x69\x67\x71"
    "\x0b\x8a\x06\x00\x00\x00\x00\x00\xff\x58\x04\x00\x00\x00\x68\x75\x67\x65\x71\x0c\x8a\x09\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x40\x58\x01\x00\x00\x00\x75\x71\x0d\x58\x02\x00\x00\x00\xc3\xa9\x71\x0e"
    "\x75\x2e";
static const char p4_sample[] =
    "\x80\x04\x95\x60\x00\x00\x00\x00\x00\x00\x00\x7d\x94\x28\x8c\x01\x61\x94\x5d\x94\x28\x4b\x01\x4a"
    "\xfe\xff\xff\xff\x47\x40\x0c\x00\x00\x00\x00\x00\x00\x4e\x88\x89\x65\x8c\x01\x62\x94\x8c\x01\x78"
    "\x94\x43\x02\x79\x7a\x94\x86\x94\x4d\x2c\x01\x4a\x70\x11\x01\x00\x8c\x03\x62\x69\x67\x94\x8a\x06"
    "\x00\x00\x00\x00\x00\xff\x8c\x04\x68\x75\x67\x65\x94\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x40"
    "\x8c\x01\x75\x94\x8c\x02\xc3\xa9\x94\x75\x2e";
static const char torch_param[] =
    "\x80\x02\x63\x74\x6f\x72\x63\x68\x2e\x5f\x75\x74\x69\x6c\x73\x0a\x5f\x72\x65\x62\x75\x69\x6c\x64"
    "\x5f\x70\x61\x72\x61\x6d\x65\x74\x65\x72\x0a\x71\x00\x63\x74\x6f\x72\x63\x68\x2e\x5f\x75\x74\x69"
    "\x6c\x73\x0a\x5f\x72\x65\x62\x75\x69\x6c\x64\x5f\x74\x65\x6e\x73\x6f\x72\x5f\x76\x32\x0a\x71\x01"
    "\x28\x28\x58\x07\x00\x00\x00\x73\x74\x6f\x72\x61\x67\x65\x71\x02\x63\x74\x6f\x72\x63\x68\x0a\x46"
    "\x6c\x6f\x61\x74\x53\x74\x6f\x72\x61\x67\x65\x0a\x71\x03\x58\x01\x00\x00\x00\x30\x71\x04\x58\x03"
    "\x00\x00\x00\x63\x70\x75\x71\x05\x4b\x02\x74\x71\x06\x51\x4b\x00\x4b\x02\x85\x71\x07\x4b\x01\x85"
    "\x71\x08\x89\x63\x63\x6f\x6c\x6c\x65\x63\x74\x69\x6f\x6e\x73\x0a\x4f\x72\x64\x65\x72\x65\x64\x44"
    "\x69\x63\x74\x0a\x71\x09\x29\x52\x71\x0a\x74\x71\x0b\x52\x71\x0c\x88\x68\x09\x29\x52\x71\x0d\x87"
    "\x71\x0e\x52\x71\x0f\x2e";
static const char np_fortran[] =
    "\x80\x02\x63\x6e\x75\x6d\x70\x79\x2e\x63\x6f\x72\x65\x2e\x6d\x75\x6c\x74\x69\x61\x72\x72\x61\x79"
    "\x0a\x5f\x72\x65\x63\x6f\x6e\x73\x74\x72\x75\x63\x74\x0a\x71\x00\x63\x6e\x75\x6d\x70\x79\x0a\x6e"
    "\x64\x61\x72\x72\x61\x79\x0a\x71\x01\x4b\x00\x85\x71\x02\x63\x5f\x63\x6f\x64\x65\x63\x73\x0a\x65"
    "\x6e\x63\x6f\x64\x65\x0a\x71\x03\x58\x01\x00\x00\x00\x62\x71\x04\x58\x06\x00\x00\x00\x6c\x61\x74"
    "\x69\x6e\x31\x71\x05\x86\x71\x06\x52\x71\x07\x87\x71\x08\x52\x71\x09\x28\x4b\x01\x4b\x02\x4b\x02"
    "\x86\x71\x0a\x63\x6e\x75\x6d\x70\x79\x0a\x64\x74\x79\x70\x65\x0a\x71\x0b\x58\x02\x00\x00\x00\x66"
    "\x34\x71\x0c\x89\x88\x87\x71\x0d\x52\x71\x0e\x28\x4b\x03\x58\x01\x00\x00\x00\x3c\x71\x0f\x4e\x4e"
    "\x4e\x4a\xff\xff\xff\xff\x4a\xff\xff\xff\xff\x4b\x00\x74\x71\x10\x62\x88\x68\x03\x58\x13\x00\x00"
    "\x00\x00\x00\xc3\x80\x3f\x00\x00\x40\x40\x00\x00\x00\xc3\x80\x00\x00\xc2\x88\x40\x71\x11\x68\x05"
    "\x86\x71\x12\x52\x71\x13\x74\x71\x14\x62\x2e";

#define LOAD(lit, doc, root, e) uf_pk_load(lit, sizeof lit - 1, &(uf_pk_opts){.name = "t.pkl"}, doc, root, NULL, &(e))

static void check_sample(const uf_pk *d)
{
    CHECK(d && d->type == UF_PK_DICT && d->n == 6);
    if (!d || d->type != UF_PK_DICT || d->n != 6)
        return;
    const uf_pk *a = uf_pk_dict_get(d, "a");
    CHECK(a && a->type == UF_PK_LIST && a->n == 6);
    if (a && a->n == 6) {
        CHECK(a->items[0]->type == UF_PK_INT && a->items[0]->i == 1);
        CHECK(a->items[1]->type == UF_PK_INT && a->items[1]->i == -2);
        CHECK(a->items[2]->type == UF_PK_FLOAT && a->items[2]->f == 3.5);
        CHECK(a->items[3]->type == UF_PK_NONE);
        CHECK(a->items[4]->type == UF_PK_BOOL && a->items[4]->i == 1);
        CHECK(a->items[5]->type == UF_PK_BOOL && a->items[5]->i == 0);
    }
    const uf_pk *b = uf_pk_dict_get(d, "b");
    CHECK(b && b->type == UF_PK_TUPLE && b->n == 2 && uf_pk_is_str(b->items[0], "x"));
    if (b && b->n == 2)
        CHECK(b->items[1]->type == UF_PK_BYTES && b->items[1]->len == 2 && memcmp(b->items[1]->s, "yz", 2) == 0);
    /* insertion order, an int key */
    CHECK(d->items[4]->type == UF_PK_INT && d->items[4]->i == 300 && d->items[5]->i == 70000);
    const uf_pk *big = uf_pk_dict_get(d, "big"), *huge = uf_pk_dict_get(d, "huge");
    CHECK(big && big->type == UF_PK_INT && big->i == -(1LL << 40));
    CHECK(huge && huge->type == UF_PK_BIGINT && huge->len == 9 && (unsigned char)huge->s[8] == 0x40);
    CHECK(uf_pk_is_str(uf_pk_dict_get(d, "u"), "\xc3\xa9"));
}

static void test_values(void)
{
    const char *samples[] = {p2_sample, p4_sample};
    size_t lens[] = {sizeof p2_sample - 1, sizeof p4_sample - 1};
    for (int s = 0; s < 2; s++) {
        uf_pk_doc doc = {0};
        const uf_pk *root;
        uf_err e = {{0}};
        size_t used = 0;
        CHECK_OK(uf_pk_load(samples[s], lens[s], &(uf_pk_opts){.name = "t.pkl"}, &doc, &root, &used, &e), e);
        CHECK(used == lens[s]);
        check_sample(root);
        uf_pk_doc_free(&doc);
    }
}

static void test_memo_and_py2(void)
{
    uf_pk_doc doc = {0};
    const uf_pk *r;
    uf_err e;
    /* x = [1]; [x, x]: the memo shares one node */
    static const char shared[] = "\x80\x02\x5d\x71\x00\x28\x5d\x71\x01\x4b\x01\x61\x68\x01\x65\x2e";
    CHECK_OK(LOAD(shared, &doc, &r, e), e);
    CHECK(r->type == UF_PK_LIST && r->n == 2 && r->items[0] == r->items[1] && r->items[0]->n == 1);
    /* Python 2: OrderedDict([['k', 140000000000000], ['j', True]]) with SHORT_BINSTRING and INT text */
    static const char py2[] = "\x80\x02" "ccollections\nOrderedDict\nq\x00]q\x01(]q\x02(U\x01kI140000000000000\ne"
                              "]q\x03(U\x01jI01\nee\x85q\x04Rq\x05.";
    CHECK_OK(LOAD(py2, &doc, &r, e), e);
    CHECK(r->type == UF_PK_DICT && r->n == 2);
    const uf_pk *k = uf_pk_dict_get(r, "k"), *j = uf_pk_dict_get(r, "j");
    CHECK(k && k->type == UF_PK_INT && k->i == 140000000000000LL);
    CHECK(j && j->type == UF_PK_BOOL && j->i == 1);
    /* a list that contains itself loads (Python allows it) and frees */
    static const char cycle[] = "\x80\x02]q\x00h\x00" "a.";
    CHECK_OK(LOAD(cycle, &doc, &r, e), e);
    CHECK(r->type == UF_PK_LIST && r->n == 1 && r->items[0] == r);
    uf_pk_doc_free(&doc);

    /* 100000 nested lists: no recursion anywhere */
    size_t depth = 100000, n = 0;
    char *deep = malloc(3 * depth + 8);
    deep[n++] = (char)0x80;
    deep[n++] = 2;
    for (size_t i = 0; i < depth; i++)
        deep[n++] = ']';
    for (size_t i = 1; i < depth; i++)
        deep[n++] = 'a';
    deep[n++] = '.';
    CHECK_OK(uf_pk_load(deep, n, &(uf_pk_opts){0}, &doc, &r, NULL, &e), e);
    CHECK(r->type == UF_PK_LIST && r->n == 1);
    uf_pk_doc_free(&doc);
    free(deep);
}

static void expect_error(const char *pkl, size_t len, const char *needle)
{
    uf_pk_doc doc = {0};
    const uf_pk *r;
    uf_err e = {{0}};
    int rc = uf_pk_load(pkl, len, &(uf_pk_opts){.name = "evil.pkl"}, &doc, &r, NULL, &e);
    CHECK(rc == -1);
    if (rc == -1 && (!strstr(e.msg, needle) || !strstr(e.msg, "evil.pkl")))
        fprintf(stderr, "expected '%s' and the file name in: %s\n", needle, e.msg);
    CHECK(rc == -1 && strstr(e.msg, needle) && strstr(e.msg, "evil.pkl"));
    uf_pk_doc_free(&doc);
}
#define EXPECT_ERROR(lit, needle) expect_error(lit, sizeof lit - 1, needle)

static void test_refusals(void)
{
    EXPECT_ERROR("\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00id\x85R.", "refusing global 'os.system'");
    EXPECT_ERROR("\x80\x02" "cposix\nsystem\nX\x02\x00\x00\x00id\x85R.", "refusing global 'posix.system'");
    EXPECT_ERROR("\x80\x03" "cbuiltins\neval\nX\x01\x00\x00\x00" "1\x85R.", "refusing global 'builtins.eval'");
    EXPECT_ERROR("\x80\x02" "c__builtin__\neval\n.", "refusing global '__builtin__.eval'");
    EXPECT_ERROR("\x80\x04\x8c\x08" "builtins\x8c\x04" "exec\x93.", "refusing global 'builtins.exec'");
    EXPECT_ERROR("\x80\x02" "csubprocess\nPopen\n.", "refusing global 'subprocess.Popen'");
    EXPECT_ERROR("\x80\x02" "cnumpy\nload\n.", "refusing global 'numpy.load'");
    EXPECT_ERROR("\x80\x02" "ctorch\nload\n.", "refusing global 'torch.load'");
    EXPECT_ERROR("\x80\x02" "ctorch\nFloatStorageX\n.", "refusing global 'torch.FloatStorageX'");
    EXPECT_ERROR("\x80\x02" "cos\x00x\nsystem\n.", "refusing global 'os?x.system'");
    /* code paths of the older protocols and extensions */
    EXPECT_ERROR("\x80\x02(ios\nsystem\n.", "INST is not accepted");
    EXPECT_ERROR("\x80\x02(o.", "OBJ is not accepted");
    EXPECT_ERROR("\x80\x02)\x81.", "NEWOBJ is not accepted");
    EXPECT_ERROR("\x80\x02\x82\x01.", "EXT is not accepted");
    EXPECT_ERROR("\x80\x02P1\n.", "PERSID (text) is not accepted");
    EXPECT_ERROR("\x80\x02K\x01Q.", "persistent ids are only read in torch files");
    EXPECT_ERROR("\x80\x05N.", "protocol 5 is not supported");
    /* calling what is allowed only as data */
    EXPECT_ERROR("\x80\x02" "cnumpy\nndarray\n)R.", "'ndarray' cannot be called");
    EXPECT_ERROR("\x80\x02" "ccollections\nOrderedDict\nK\x01R.", "not a tuple");
    EXPECT_ERROR("\x80\x02]K\x01\x85R.", "REDUCE on a list");
    EXPECT_ERROR("\x80\x02]}b.", "BUILD on a list");
    EXPECT_ERROR("\x80\x02}}b.", "BUILD on a dict");
}

static void test_malformed(void)
{
    EXPECT_ERROR("\x80\x02]a.", "stack underflow");
    EXPECT_ERROR("\x80\x02K\x01t.", "no MARK");
    EXPECT_ERROR("\x80\x02h\x05.", "memo entry 5 was never stored");
    EXPECT_ERROR("\x80\x02Nr\xff\xff\xff\xff.", "memo index 4294967295 out of range");
    EXPECT_ERROR("\x80\x02X\xff\xff\xff\x7f.", "runs past the end");
    EXPECT_ERROR("\x80\x02\x8e\xff\xff\xff\xff\xff\xff\xff\xff.", "runs past the end");
    EXPECT_ERROR("\x80\x02T\xff\xff\xff\xff.", "negative string length");
    EXPECT_ERROR("\x80\x02}]K\x01s.", "cannot be a dict key");
    EXPECT_ERROR("\x80\x02(K\x01" "d.", "odd number of dict items");
    EXPECT_ERROR("\x80\x02K\x01K\x02" "a.", "APPEND to a int");
    EXPECT_ERROR("\x80\x02N", "no STOP");
    EXPECT_ERROR("\x80\x02I12x\n.", "bad INT value");
    char long4[2008] = "\x80\x02\x8b\xd0\x07\x00\x00"; /* LONG4 of 2000 bytes, then STOP */
    long4[2007] = '.';
    expect_error(long4, sizeof long4, "integer of 2000 bytes");
    EXPECT_ERROR("\x80\x02.", "stack underflow");

    /* the value budget: a low limit is enforced */
    uf_pk_doc doc = {.max_bytes = 4096};
    const uf_pk *r;
    uf_err e;
    char big[2000];
    size_t n = 0;
    big[n++] = (char)0x80, big[n++] = 2, big[n++] = ']', big[n++] = '(';
    while (n < sizeof big - 2)
        big[n++] = 'N';
    big[n++] = 'e', big[n++] = '.';
    CHECK(uf_pk_load(big, n, &(uf_pk_opts){0}, &doc, &r, NULL, &e) == -1 && strstr(e.msg, "MiB of values"));
    uf_pk_doc_free(&doc);
}

/* A storage of 4 floats for any persistent id (the fuzz target holds a torch parameter). */
static uf_pk *fake_storage(void *ctx, uf_pk_doc *doc, const uf_pk *pid, uf_err *e)
{
    (void)ctx, (void)pid;
    uf_pk *s = uf_pk_new(doc, UF_PK_STORAGE, e);
    if (s)
        s->elem = UF_PYE_F32, s->numel = 4;
    return s;
}

static void test_torch_and_numpy(void)
{
    uf_pk_doc doc = {0};
    const uf_pk *r;
    uf_err e;
    uf_pk_opts o = {.name = "data.pkl", .persid = fake_storage};
    CHECK_OK(uf_pk_load(torch_param, sizeof torch_param - 1, &o, &doc, &r, NULL, &e), e);
    CHECK(r->type == UF_PK_TENSOR && r->ndim == 1 && r->shape[0] == 2 && r->stride[0] == 1 && r->offset == 0);
    CHECK(r->base && r->base->type == UF_PK_STORAGE && r->elem == UF_PYE_F32);
    uf_pk_doc_free(&doc);

    CHECK_OK(LOAD(np_fortran, &doc, &r, e), e);
    CHECK(r->type == UF_PK_NDARRAY && r->built && r->ndim == 2 && r->elem == UF_PYE_F32);
    if (r->type == UF_PK_NDARRAY && r->built) {
        uf_array a;
        CHECK_OK(uf_pyarray_gather(r->base->s, 4, r->elem, r->ndim, r->shape, r->stride, 0, &a, "np", &e), e);
        const float *f = a.data;
        CHECK(a.dtype == UF_F32 && f[0] == 1.5f && f[1] == -2.0f && f[2] == 3.0f && f[3] == 4.25f);
        uf_array_free(&a);
    }
    uf_pk_doc_free(&doc);
}

/* Cuts and random byte flips of real pickles: an error or a value, never a crash or a leak. */
static void test_fuzz(void)
{
    const char *src[] = {p2_sample, p4_sample, torch_param, np_fortran};
    size_t lens[] = {sizeof p2_sample - 1, sizeof p4_sample - 1, sizeof torch_param - 1, sizeof np_fortran - 1};
    uf_pk_opts o = {.name = "fuzz.pkl", .persid = fake_storage};
    int cut_errors = 0, cuts = 0, ok = 0, failed = 0;
    for (int s = 0; s < 4; s++) {
        char *buf = malloc(lens[s]);
        for (size_t cut = 0; cut < lens[s]; cut++) { /* every strict prefix misses its STOP */
            uf_pk_doc doc = {0};
            const uf_pk *r;
            uf_err e = {{0}};
            memcpy(buf, src[s], cut);
            cuts++;
            cut_errors += uf_pk_load(buf, cut, &o, &doc, &r, NULL, &e) == -1 && e.msg[0];
            uf_pk_doc_free(&doc);
        }
        for (uint64_t it = 0; it < 5000; it++) {
            memcpy(buf, src[s], lens[s]);
            int flips = 1 + (int)(uf_rng_u64(7, (uint64_t)s, 3 * it) % 4);
            for (int f = 0; f < flips; f++) {
                uint64_t u = uf_rng_u64(7, (uint64_t)s, 3 * it + 1 + (uint64_t)f * 100000);
                buf[u % lens[s]] = (char)(u >> 32);
            }
            uf_pk_doc doc = {0};
            const uf_pk *r;
            uf_err e = {{0}};
            if (uf_pk_load(buf, lens[s], &o, &doc, &r, NULL, &e) == 0)
                ok += r != NULL;
            else
                failed += e.msg[0] != 0;
            uf_pk_doc_free(&doc);
        }
        free(buf);
    }
    CHECK(cut_errors == cuts);
    CHECK(ok + failed == 4 * 5000);
    printf("fuzz: %d truncations refused; %d flipped pickles loaded, %d refused\n", cuts, ok, failed);
}

static void test_pyarray(void)
{
    /* binary16 patterns: 1, -2, 65504 (max), 2^-14 (min normal), 2^-24 (min subnormal), -0, inf, nan */
    CHECK(uf_half_to_float(0x3c00) == 1.0f);
    CHECK(uf_half_to_float(0xc000) == -2.0f);
    CHECK(uf_half_to_float(0x7bff) == 65504.0f);
    CHECK(uf_half_to_float(0x0400) == 0x1p-14f);
    CHECK(uf_half_to_float(0x0001) == 0x1p-24f);
    CHECK(uf_half_to_float(0x03ff) == 1023 * 0x1p-24f);
    CHECK(uf_half_to_float(0x8000) == 0.0f && signbit(uf_half_to_float(0x8000)));
    CHECK(isinf(uf_half_to_float(0x7c00)) && uf_half_to_float(0xfc00) < 0);
    CHECK(isnan(uf_half_to_float(0x7e00)));
    CHECK(uf_bf16_to_float(0x3f80) == 1.0f && uf_bf16_to_float(0xc040) == -3.0f);

    /* a transposed, offset view: src 0..11, shape (3, 2), strides (1, 3), offset 1 */
    float src[12];
    for (int i = 0; i < 12; i++)
        src[i] = (float)i;
    uf_array a;
    uf_err e;
    CHECK_OK(uf_pyarray_gather(src, 12, UF_PYE_F32, 2, (int64_t[]){3, 2}, (int64_t[]){1, 3}, 1, &a, "v", &e), e);
    const float want[] = {1, 4, 2, 5, 3, 6};
    CHECK(memcmp(a.data, want, sizeof want) == 0);
    uf_array_free(&a);
    CHECK(uf_pyarray_gather(src, 12, UF_PYE_F32, 2, (int64_t[]){3, 4}, (int64_t[]){4, 1}, 1, &a, "v", &e) == -1 &&
          strstr(e.msg, "outside its storage"));
    CHECK(uf_pyarray_gather(src, 12, UF_PYE_F32, 1, (int64_t[]){2}, (int64_t[]){-1}, 5, &a, "v", &e) == -1);
    CHECK(uf_pyarray_gather(src, 12, UF_PYE_F32, 1, (int64_t[]){INT64_MAX}, (int64_t[]){INT64_MAX}, 0, &a, "v",
                            &e) == -1);
    CHECK_OK(uf_pyarray_gather(src, 0, UF_PYE_F32, 2, (int64_t[]){0, 5}, (int64_t[]){5, 1}, 0, &a, "v", &e), e);
    CHECK(uf_array_count(&a) == 0);
    uf_array_free(&a);
    /* stride 0 (an expanded tensor), uint8 widened */
    unsigned char bytes[2] = {7, 250};
    CHECK_OK(uf_pyarray_gather(bytes, 2, UF_PYE_U8, 2, (int64_t[]){2, 3}, (int64_t[]){1, 0}, 0, &a, "v", &e), e);
    const int32_t wi[] = {7, 7, 7, 250, 250, 250};
    CHECK(a.dtype == UF_I32 && memcmp(a.data, wi, sizeof wi) == 0);
    uf_array_free(&a);

    /* casts: exact, or an error */
    uf_array d, c;
    CHECK_OK(uf_array_alloc(&d, UF_F64, 1, (int64_t[]){3}, &e), e);
    double *v = d.data;
    v[0] = 30, v[1] = -4, v[2] = 9007199254740992.0;
    CHECK_OK(uf_pyarray_cast(&d, UF_I64, &c, "d", &e), e);
    CHECK(((int64_t *)c.data)[0] == 30 && ((int64_t *)c.data)[2] == 9007199254740992LL);
    uf_array_free(&c);
    CHECK(uf_pyarray_cast(&d, UF_I32, &c, "d", &e) == -1 && strstr(e.msg, "element 2"));
    v[2] = 2.5;
    CHECK(uf_pyarray_cast(&d, UF_I64, &c, "d", &e) == -1 && strstr(e.msg, "2.5"));
    v[2] = NAN;
    CHECK(uf_pyarray_cast(&d, UF_I64, &c, "d", &e) == -1);
    v[2] = 1e300;
    CHECK(uf_pyarray_cast(&d, UF_F32, &c, "d", &e) == -1);
    v[2] = 0.1;
    CHECK_OK(uf_pyarray_cast(&d, UF_F32, &c, "d", &e), e);
    CHECK(((float *)c.data)[2] == 0.1f);
    uf_array_free(&c);
    uf_array_free(&d);
    CHECK_OK(uf_array_alloc(&d, UF_I64, 1, (int64_t[]){2}, &e), e);
    ((int64_t *)d.data)[0] = (1LL << 53) + 1;
    CHECK(uf_pyarray_cast(&d, UF_F64, &c, "d", &e) == -1);
    ((int64_t *)d.data)[0] = 1LL << 53;
    CHECK_OK(uf_pyarray_cast(&d, UF_F64, &c, "d", &e), e);
    uf_array_free(&c);
    ((int64_t *)d.data)[1] = INT64_MAX;
    CHECK(uf_pyarray_cast(&d, UF_F32, &c, "d", &e) == -1);
    uf_array_free(&d);
}

static char dir[] = "/tmp/uotft-test-pickle-XXXXXX";

static const char *tmp(const char *name) { return check_path(dir, name); }

static void test_files(void)
{
    uf_array a;
    uf_err e;
    char **s;
    int n;
    check_write_bytes(tmp("arr.pkl"), np_fortran, sizeof np_fortran - 1);
    CHECK_OK(uf_pickle_read_array(tmp("arr.pkl"), &a, &e), e);
    CHECK(a.ndim == 2 && ((float *)a.data)[1] == -2.0f);
    uf_array_free(&a);
    /* bytes after STOP, a non-array, a list with a non-string */
    char trail[sizeof np_fortran];
    memcpy(trail, np_fortran, sizeof np_fortran - 1);
    trail[sizeof np_fortran - 1] = 'N';
    check_write_bytes(tmp("trail.pkl"), trail, sizeof trail);
    CHECK(uf_pickle_read_array(tmp("trail.pkl"), &a, &e) == -1 && strstr(e.msg, "1 bytes after the end"));
    check_write_bytes(tmp("dict.pkl"), p2_sample, sizeof p2_sample - 1);
    CHECK(uf_pickle_read_array(tmp("dict.pkl"), &a, &e) == -1 && strstr(e.msg, "holds a dict"));
    static const char strs[] = "\x80\x03]q\x00(X\x01\x00\x00\x00" "aX\x02\x00\x00\x00" "bcK\x01" "e.";
    check_write_bytes(tmp("strs.pkl"), strs, sizeof strs - 1);
    CHECK(uf_pickle_read_strings(tmp("strs.pkl"), &s, &n, &e) == -1 && strstr(e.msg, "item 2 is a int"));
    static const char ok[] = "\x80\x03]q\x00(X\x01\x00\x00\x00" "aX\x02\x00\x00\x00" "bce.";
    check_write_bytes(tmp("ok.pkl"), ok, sizeof ok - 1);
    CHECK_OK(uf_pickle_read_strings(tmp("ok.pkl"), &s, &n, &e), e);
    CHECK(n == 2 && strcmp(s[0], "a") == 0 && strcmp(s[1], "bc") == 0);
    uf_strings_free(s, n);
    CHECK(uf_pickle_read_array(tmp("absent.pkl"), &a, &e) == -1 && strstr(e.msg, "absent.pkl"));
}

static void test_sha256(void)
{
    char hex[65];
    uf_err e;
    CHECK(uf_sha256_mem("abc", 3, hex) == 0 &&
          strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    CHECK(uf_sha256_mem("", 0, hex) == 0 &&
          strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    check_write_bytes(tmp("abc"), "abc", 3);
    CHECK_OK(uf_sha256_file(tmp("abc"), hex, &e), e);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    CHECK(uf_sha256_known("resnet50-0676ba61.pth") && !uf_sha256_known("resnet50.pth"));
    CHECK(strncmp(uf_sha256_known("resnet18-5c106cde.pth"), "5c106cde", 8) == 0);
    /* a known name with other bytes: file, expected and actual sums in the message */
    check_write_bytes(tmp("resnet18-f37072fd.pth"), "abc", 3);
    CHECK(uf_sha256_check_known(tmp("resnet18-f37072fd.pth"), &e) == -1 && strstr(e.msg, tmp("resnet18-f37072fd.pth")) &&
          strstr(e.msg, "expected f37072fd47e89c5e") && strstr(e.msg, "actual ba7816bf"));
    CHECK(uf_sha256_check_known(tmp("abc"), &e) == 0);
    /* a recipe of UOTFT_RECIPES restates a known name's sum (a fixture world's file); "-" and "?" sums do not */
    char recipes[4200];
    snprintf(recipes, sizeof recipes, "%s", tmp("recipes"));
    CHECK(mkdir(recipes, 0700) == 0);
    const char *row = "# file\tbytes\tsha256\turls\nresnet18-5c106cde.pth\t3\t-\t\n"
                      "resnet18-f37072fd.pth\t3\tba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\tmanual:x\n";
    check_write_bytes(tmp("recipes/w.tsv"), row, strlen(row));
    check_write_bytes(tmp("resnet18-5c106cde.pth"), "abc", 3);
    setenv("UOTFT_RECIPES", recipes, 1);
    CHECK_OK(uf_sha256_check_known(tmp("resnet18-f37072fd.pth"), &e), e);
    CHECK(uf_sha256_check_known(tmp("resnet18-5c106cde.pth"), &e) == -1 && strstr(e.msg, "expected 5c106cde"));
    check_write_bytes(tmp("resnet18-f37072fd.pth"), "abd", 3);
    CHECK(uf_sha256_check_known(tmp("resnet18-f37072fd.pth"), &e) == -1 &&
          strstr(e.msg, "expected ba7816bf") && strstr(e.msg, "UOTFT_RECIPES"));
    unsetenv("UOTFT_RECIPES");
    CHECK(uf_sha256_check_known(tmp("resnet18-f37072fd.pth"), &e) == -1 && strstr(e.msg, "expected f37072fd"));
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    test_values();
    test_memo_and_py2();
    test_refusals();
    test_malformed();
    test_torch_and_numpy();
    test_fuzz();
    test_pyarray();
    test_files();
    test_sha256();
    const char *names[] = {"arr.pkl", "trail.pkl", "dict.pkl", "strs.pkl", "ok.pkl", "abc", "resnet18-f37072fd.pth",
                           "resnet18-5c106cde.pth", "recipes/w.tsv", "recipes"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        remove(tmp(names[i]));
    rmdir(dir);
    CHECK_DONE();
}
