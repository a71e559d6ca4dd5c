/* uotft convert: NumPy-array pickles to .npy, the paper's three class pickles
 * to imagenet-classes.tsv, and a look into PyTorch weight files. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/fileio.h"
#include "io/npy.h"
#include "io/pkfile.h"
#include "io/pyarray.h"
#include "io/torchfile.h"

static const char *const help =
    "usage: uotft convert --pickle X.pkl --out Y.npy [--dtype f8|f4|i8|i4]\n"
    "       uotft convert --classes --wnids class_path.pkl --concepts class_concept.pkl\n"
    "                     --names class_names.pkl --out imagenet-classes.tsv\n"
    "       uotft convert --torch F.pth [--key K] [--prefix P] --list\n"
    "       uotft convert --torch F.pth [--key K] [--prefix P] --tensor NAME --out Y.npy [--dtype T]\n"
    "\n"
    "--pickle: a pickled NumPy array (protocols 2-4, as released with the paper's code)\n"
    "to .npy. --dtype converts: float -> int only for integral values (the released\n"
    "counts are float64 and become int64 with --dtype i8), int -> float only when exact,\n"
    "f8 -> f4 rounds. Default: the array's own type.\n"
    "\n"
    "--classes: three pickled lists of 1000 strings (WNIDs, coarse concepts, names, in\n"
    "sorted-WNID order) to a TSV with the columns index, wnid, concept, name.\n"
    "\n"
    "--torch: a torch.save file (zip, legacy or tar format). --key selects the state\n"
    "dict inside a checkpoint ('state_dict' for MoCo; dots for nested keys; default:\n"
    "the top-level object); --prefix keeps the entries whose names start with it and\n"
    "strips it ('module.encoder_q.'). --list prints name<TAB>dtype<TAB>shape per tensor\n"
    "(float16 is read as float32); --tensor writes one tensor as .npy.\n"
    "\n"
    "Pickles are read by a restricted reader that never runs code: anything but\n"
    "arrays, strings, numbers, (ordered) dicts and tensors is refused. Outputs are\n"
    "written under a temporary name and renamed, so a failure leaves no file behind.\n";

enum { O_PICKLE = 256, O_OUT, O_DTYPE, O_CLASSES, O_WNIDS, O_CONCEPTS, O_NAMES, O_TORCH, O_KEY, O_PREFIX,
       O_LIST, O_TENSOR, O_HELP };

static const struct option opts[] = {
    {"pickle", required_argument, 0, O_PICKLE},     {"out", required_argument, 0, O_OUT},
    {"dtype", required_argument, 0, O_DTYPE},       {"classes", no_argument, 0, O_CLASSES},
    {"wnids", required_argument, 0, O_WNIDS},       {"concepts", required_argument, 0, O_CONCEPTS},
    {"names", required_argument, 0, O_NAMES},       {"torch", required_argument, 0, O_TORCH},
    {"key", required_argument, 0, O_KEY},           {"prefix", required_argument, 0, O_PREFIX},
    {"list", no_argument, 0, O_LIST},               {"tensor", required_argument, 0, O_TENSOR},
    {"help", no_argument, 0, O_HELP},               {0, 0, 0, 0},
};

static const char *dtype_name(uf_dtype t)
{
    static const char *names[] = {[UF_F64] = "float64", [UF_F32] = "float32", [UF_I64] = "int64", [UF_I32] = "int32"};
    return names[t];
}

/* Writes a, converted to *want when given. */
static int write_npy(const char *out, const uf_array *a, const uf_dtype *want, const char *what, uf_err *e)
{
    if (!want || *want == a->dtype)
        return uf_npy_write(out, a, e);
    uf_array c;
    if (uf_pyarray_cast(a, *want, &c, what, e))
        return -1;
    int rc = uf_npy_write(out, &c, e);
    uf_array_free(&c);
    return rc;
}

static int convert_pickle(const char *in, const char *out, const uf_dtype *want, uf_err *e)
{
    uf_array a;
    if (uf_pickle_read_array(in, &a, e))
        return -1;
    int rc = write_npy(out, &a, want, in, e);
    uf_array_free(&a);
    return rc;
}

/* One TSV field: no tabs or line breaks, which would break the table. */
static int check_field(const char *path, int i, const char *s, uf_err *e)
{
    if (strpbrk(s, "\t\r\n"))
        return uf_fail(e, "%s: item %d contains a tab or line break", path, i);
    return 0;
}

static int convert_classes(const char *wnids, const char *concepts, const char *names, const char *out, uf_err *e)
{
    const char *paths[3] = {wnids, concepts, names};
    char **col[3] = {NULL, NULL, NULL};
    int n[3] = {0, 0, 0}, rc = 0;
    for (int c = 0; rc == 0 && c < 3; c++)
        rc = uf_pickle_read_strings(paths[c], &col[c], &n[c], e);
    if (rc == 0 && (n[0] != n[1] || n[0] != n[2]))
        rc = uf_fail(e, "%s, %s, %s: lists of different lengths (%d, %d, %d)", wnids, concepts, names, n[0], n[1],
                     n[2]);
    for (int c = 0; rc == 0 && c < 3; c++)
        for (int i = 0; rc == 0 && i < n[c]; i++)
            rc = check_field(paths[c], i, col[c][i], e);
    uf_out o;
    if (rc == 0 && (rc = uf_out_open(&o, out, e)) == 0) {
        fprintf(o.f, "index\twnid\tconcept\tname\n");
        for (int i = 0; i < n[0]; i++)
            fprintf(o.f, "%d\t%s\t%s\t%s\n", i, col[0][i], col[1][i], col[2][i]);
        rc = uf_out_commit(&o, e);
    }
    for (int c = 0; c < 3; c++)
        uf_strings_free(col[c], n[c]);
    return rc;
}

static int torch_list(const char *in, const char *key, const char *prefix, uf_err *e)
{
    uf_tensor_dict d;
    if (uf_torch_load(in, key, prefix, &d, e))
        return -1;
    for (int i = 0; i < d.n; i++) {
        char shape[256];
        uf_shape_str(&d.t[i].a, shape, sizeof shape);
        printf("%s\t%s\t%s\n", d.t[i].name, dtype_name(d.t[i].a.dtype), shape);
    }
    uf_tensor_dict_free(&d);
    return 0;
}

static int torch_tensor(const char *in, const char *key, const char *prefix, const char *name, const char *out,
                        const uf_dtype *want, uf_err *e)
{
    uf_tensor_dict d;
    if (uf_torch_load(in, key, prefix, &d, e))
        return -1;
    const uf_tensor *t = uf_tensor_dict_get(&d, name);
    int rc = t ? write_npy(out, &t->a, want, in, e) : uf_fail(e, "%s: no tensor '%s'", in, name);
    uf_tensor_dict_free(&d);
    return rc;
}

int cmd_convert(int argc, char **argv)
{
    const char *cmd = "convert";
    const char *pickle = NULL, *out = NULL, *wnids = NULL, *concepts = NULL, *names = NULL, *torch = NULL,
               *key = "", *prefix = NULL, *tensor = NULL;
    int classes = 0, list = 0, have_dtype = 0;
    uf_dtype dtype = UF_F64;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_PICKLE: pickle = optarg; break;
        case O_OUT: out = optarg; break;
        case O_DTYPE: {
            char descr[8];
            snprintf(descr, sizeof descr, "<%s", optarg);
            if (strlen(optarg) != 2 || uf_dtype_from_descr(descr, &dtype))
                return cli_usage_error(cmd, "--dtype must be f8, f4, i8 or i4, not '%s'", optarg);
            have_dtype = 1;
            break;
        }
        case O_CLASSES: classes = 1; break;
        case O_WNIDS: wnids = optarg; break;
        case O_CONCEPTS: concepts = optarg; break;
        case O_NAMES: names = optarg; break;
        case O_TORCH: torch = optarg; break;
        case O_KEY: key = optarg; break;
        case O_PREFIX: prefix = optarg; break;
        case O_LIST: list = 1; break;
        case O_TENSOR: tensor = optarg; break;
        case O_HELP: fputs(help, stdout); return 0;
        default: return cli_usage_error(cmd, "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if ((pickle != NULL) + classes + (torch != NULL) != 1)
        return cli_usage_error(cmd, "give exactly one of --pickle, --classes, --torch");
    const uf_dtype *want = have_dtype ? &dtype : NULL;
    uf_err e = {{0}};
    int rc;
    if (pickle) {
        if (!out)
            return cli_usage_error(cmd, "--pickle needs --out");
        rc = convert_pickle(pickle, out, want, &e);
    } else if (classes) {
        if (!wnids || !concepts || !names || !out)
            return cli_usage_error(cmd, "--classes needs --wnids, --concepts, --names and --out");
        rc = convert_classes(wnids, concepts, names, out, &e);
    } else if (list == (tensor != NULL)) {
        return cli_usage_error(cmd, "--torch needs either --list or --tensor NAME --out Y.npy");
    } else if (list) {
        rc = torch_list(torch, key, prefix, &e);
    } else {
        if (!out)
            return cli_usage_error(cmd, "--tensor needs --out");
        rc = torch_tensor(torch, key, prefix, tensor, out, want, &e);
    }
    return rc ? cli_error(cmd, &e) : 0;
}
