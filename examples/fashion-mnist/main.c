/*
 * main.c - fashion-mnist-vicreg: self-supervised training of an encoder on
 * Fashion-MNIST with the VICReg loss of libvicreg, then an evaluation of
 * the representation (kNN and linear probe) against the same encoder at
 * its random initialisation and against raw pixels.
 *
 * The default encoder is the trainer's first model, an MLP on an augmented
 * pair; --model cnn is a small CNN trained on multi-crop views (two global
 * crops and two local crops of every image, through vicreg_views_loss_f32),
 * which in the main job's budget evaluates below the MLP (README.md).
 *
 * Labels are read with the images but used only by the evaluation
 * (eval.c), and by the supervised ceiling (--supervised), which is not part
 * of the main job; the self-supervised training loop never touches them.
 *
 * Run with --help for the options; README.md in this directory explains
 * the model, the defaults and the output files.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cblas.h>
#include <vicreg.h>

#include "augment.h"
#include "checkpoint.h"
#include "data.h"
#include "encoder.h"
#include "eval.h"
#include "nn.h"
#include "optim.h"
#include "parallel.h"
#include "report.h"
#include "supervised.h"
#include "util.h"
#include "views.h"

/* ------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------ */
struct options {
    const char *data_dir;
    int synthetic, fallback_synthetic;
    int model;                   /* FM_MODEL_CNN or FM_MODEL_MLP */
    int epochs;
    size_t batch;
    uint64_t seed;
    int threads;                 /* 0: the BLAS library's default */
    const char *out_dir;
    const char *eval_only;
    size_t train_subset;         /* 0: all */
    size_t holdout;              /* 0: evaluate on the test set */
    size_t eval_train, eval_test; /* 0: all */
    size_t calib;                /* images for the BN calibration, 0: the whole bank */
    size_t encoder[FM_MAX_LAYERS], n_encoder;       /* MLP widths */
    size_t conv[FM_CNN_MAX_BLOCKS], n_conv;         /* CNN block widths */
    int conv_pool[FM_CNN_MAX_BLOCKS];
    size_t kernel;
    size_t projector[FM_MAX_LAYERS], n_projector;
    int optim;
    double lr, weight_decay, warmup;
    double beta2;                /* AdamW's second-moment decay */
    double lambda, mu, nu;       /* < 0: libvicreg's defaults */
    int supervised;
    int knn_every;
    size_t curve_bank, curve_queries;
    int probe_epochs;
    int check;
    struct fm_views views;
};

static void set_defaults(struct options *o, int model)
{
    memset(o, 0, sizeof *o);
    o->model = model;
    o->batch = 256;
    o->seed = 1;
    o->out_dir = "fashion-mnist-out";
    o->encoder[0] = 1024;
    o->encoder[1] = 512;
    o->n_encoder = 2;
    o->conv[0] = 32;
    o->conv[1] = 64;
    o->conv[2] = 128;
    o->conv_pool[0] = o->conv_pool[1] = 1;
    o->n_conv = 3;
    o->kernel = 3;
    o->optim = FM_OPTIM_ADAMW;
    o->lr = -1.0; /* per model and optimiser, see resolve_defaults() */
    o->weight_decay = -1.0;
    o->warmup = 1.0;
    o->beta2 = 0.999;
    o->lambda = o->mu = o->nu = -1.0;
    o->knn_every = 1;
    o->curve_bank = 10000;
    o->curve_queries = 2000;
    o->probe_epochs = 20;
    if (model == FM_MODEL_MLP) {
        o->epochs = 10;
        o->projector[0] = o->projector[1] = 1024;
        o->n_projector = 2;
        o->views = fm_views_pair_default();
    } else {
        o->epochs = 3;
        o->warmup = 0.3;
        o->projector[0] = o->projector[1] = 1024;
        o->n_projector = 2;
        o->calib = 10000;
        o->views = fm_views_multicrop_default();
    }
}

static void resolve_defaults(struct options *o)
{
    if (o->lr < 0.0) {
        if (o->optim == FM_OPTIM_LARS)
            o->lr = 0.2 * (double)o->batch / 256.0;
        else
            o->lr = o->model == FM_MODEL_MLP ? 3e-3 : 5e-3;
    }
    /* The CNN's lambda: with libvicreg's 25 its embeddings shrank (mean
     * std 0.44) and it learnt little (README.md, the CNN's ablations). */
    if (o->model == FM_MODEL_CNN && o->lambda < 0.0 && !o->supervised)
        o->lambda = 5.0;
    if (o->weight_decay < 0.0)
        o->weight_decay = o->optim == FM_OPTIM_LARS ? 1e-6 : 1e-4;
}

static void usage(FILE *f)
{
    struct options d, m;
    set_defaults(&d, FM_MODEL_CNN);
    set_defaults(&m, FM_MODEL_MLP);
    const struct fm_augment *a = &d.views.aug;
    fprintf(f,
            "usage: %s [options]\n"
            "Self-supervised training of an encoder on Fashion-MNIST with the VICReg loss of\n"
            "libvicreg, then kNN and linear-probe evaluation of the trained encoder, the\n"
            "same encoder at its random initialisation, and raw pixels.\n"
            "\n"
            "data\n"
            "  --data DIR           directory of the four IDX files (default: $FASHION_MNIST_DIR,\n"
            "                       then " FM_DEFAULT_DATA_DIR ")\n"
            "  --synthetic          generated shape images instead of Fashion-MNIST\n"
            "  --fallback-synthetic use generated images when the data set is not found\n"
            "  --train-subset N     train on the first N training images (default: all)\n"
            "  --holdout N          hold out the last N training images as the evaluation\n"
            "                       queries instead of the test set (for tuning)\n"
            "model\n"
            "  --model mlp|cnn      the MLP (default: it evaluates better in the main job's\n"
            "                       budget, see README.md) or the convolutional encoder;\n"
            "                       the defaults below are the CNN's, the MLP's in brackets\n"
            "  --conv W1p,W2p,W3    CNN blocks: conv + BN + ReLU of W channels, 'p' = 2x2 max\n"
            "                       pooling after; then global average pooling (default\n"
            "                       32p,64p,128)\n"
            "  --kernel K           convolution kernel side, odd (default %zu)\n"
            "  --encoder W1,W2,...  MLP widths after the 784 inputs (default 1024,512)\n"
            "  --projector W1,...   projector widths (default %zu,%zu [1024,1024])\n"
            "training\n"
            "  --epochs N           passes over the training images (default %d [%d])\n"
            "  --batch N            images per step (default %zu)\n"
            "  --optim adamw|lars   optimiser (default adamw)\n"
            "  --lr X               base learning rate (default %g [3e-3] for AdamW,\n"
            "                       0.2 * batch/256 for LARS)\n"
            "  --weight-decay X     (default 1e-4 for AdamW, 1e-6 for LARS)\n"
            "  --beta2 X            AdamW's second-moment decay (default 0.999)\n"
            "  --warmup E           linear warm-up, in epochs (default %g [%g])\n"
            "  --lambda X, --mu X, --nu X\n"
            "                       VICReg coefficients (default: lambda 5 [libvicreg's 25],\n"
            "                       libvicreg's nu = 1, mu = 25 x views / 2)\n"
            "  --supervised         train the encoder with the labels instead (a linear\n"
            "                       classifier and cross entropy on the same views): the\n"
            "                       ceiling the self-supervised run is compared with\n"
            "  --seed N             seed of every random choice (default %llu)\n"
            "  --threads N          BLAS threads (default: the BLAS library's choice)\n",
            FM_PROG, d.kernel, d.projector[0], d.projector[1], d.epochs, m.epochs, d.batch,
            5e-3, d.warmup, m.warmup, (unsigned long long)d.seed);
    /* Two strings: C11 promises string literals of 4095 characters. */
    fprintf(f,
            "views (see README.md)\n"
            "  --global-views N     global crops per image (default %zu [2, the pair])\n"
            "  --global-size PX     their side (default %zu)\n"
            "  --global-scale A,B   their area fraction of the image (default %g,%g)\n"
            "  --local-views N      local crops per image (default %zu [0])\n"
            "  --local-size PX      their side (default %zu)\n"
            "  --local-scale A,B    their area fraction (default %g,%g)\n"
            "  --shift PX           translation by up to PX pixels (default %d [1])\n"
            "  --flip P             horizontal flip probability (default %g)\n"
            "  --jitter P           brightness/contrast jitter probability (default %g)\n"
            "  --brightness B       its brightness shift in [-B, B], intensities 0..1 (default %g)\n"
            "  --contrast C         its contrast factor in [1 - C, 1 + C] (default %g)\n"
            "  --noise P            Gaussian noise probability (default %g)\n"
            "  --cutout P           cutout probability (default %g [0])\n"
            "  MLP pair only:\n"
            "  --crop-p P           probability of a zoomed crop (default 0)\n"
            "  --crop-scale S       its smallest area fraction (default 0.6)\n"
            "  --geometry shared|independent\n"
            "                       crop, shift and flip the same for both views, or\n"
            "                       drawn per view (default shared)\n"
            "evaluation\n"
            "  --eval-train N       kNN bank and probe training set: the first N training\n"
            "                       images (default: all)\n"
            "  --eval-test N        queries: the first N test images (default: all)\n"
            "  --calib N            calibrate the batch-norm statistics on the first N bank\n"
            "                       images (default %zu [all])\n"
            "  --knn-every E        kNN on the curve subset every E epochs, 0 = never (default %d)\n"
            "  --curve-bank N       curve subset: N training images as the bank (default %zu)\n"
            "  --curve-queries N    and N test images as queries (default %zu)\n"
            "  --probe-epochs N     linear-probe epochs (default %d)\n"
            "  --eval-only FILE     evaluate a saved encoder checkpoint, no training\n"
            "output\n"
            "  --out DIR            train.csv, eval.csv, train.svg, encoder.ckpt\n"
            "                       (default %s)\n"
            "  --check              exit with status 3 unless the loss fell by 10%% and no\n"
            "                       projector column collapsed (for tests)\n"
            "  --print-blas-core    print the OpenBLAS kernel set in use and exit\n"
            "  --help\n",
            d.views.n_global, d.views.global.side,
            d.views.global.scale_min, d.views.global.scale_max, d.views.n_local,
            d.views.local.side, d.views.local.scale_min, d.views.local.scale_max, a->shift,
            a->flip_p, a->jitter_p, a->brightness, a->contrast, a->noise_p, a->cutout_p, d.calib,
            d.knn_every, d.curve_bank,
            d.curve_queries, d.probe_epochs, d.out_dir);
}

static unsigned long long parse_uint(const char *opt, const char *s, unsigned long long lo,
                                     unsigned long long hi)
{
    char *end;
    errno = 0;
    if (!s || *s == '-' || *s == '\0')
        fm_die("%s needs a number (see --help)", opt);
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        fm_die("%s: '%s' is not an integer in [%llu, %llu]", opt, s, lo, hi);
    return v;
}

static double parse_real(const char *opt, const char *s, double lo, double hi)
{
    char *end;
    errno = 0;
    if (!s || *s == '\0')
        fm_die("%s needs a number (see --help)", opt);
    double v = strtod(s, &end);
    if (errno || *end || !(v >= lo && v <= hi))
        fm_die("%s: '%s' is not a number in [%g, %g]", opt, s, lo, hi);
    return v;
}

/* A comma-separated list of widths; with pool != NULL each may end in 'p'
 * (max pooling after that block). */
static size_t parse_widths(const char *opt, const char *s, size_t *w, int *pool, size_t max)
{
    size_t n = 0;
    char buf[256];
    if (!s || strlen(s) >= sizeof buf)
        fm_die("%s needs a comma-separated list of widths", opt);
    strcpy(buf, s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (n == max)
            fm_die("%s: at most %zu layers", opt, max);
        size_t len = strlen(tok);
        int p = 0;
        if (pool && len > 1 && tok[len - 1] == 'p') {
            tok[len - 1] = '\0';
            p = 1;
        }
        if (pool)
            pool[n] = p;
        w[n++] = (size_t)parse_uint(opt, tok, 2, 65536);
    }
    if (n == 0)
        fm_die("%s needs at least one width", opt);
    return n;
}

/* "A,B" with lo <= A <= B <= hi. */
static void parse_range(const char *opt, const char *s, double lo, double hi, double *a,
                        double *b)
{
    char buf[64];
    if (!s || strlen(s) >= sizeof buf || !strchr(s, ','))
        fm_die("%s takes two numbers, A,B", opt);
    strcpy(buf, s);
    char *comma = strchr(buf, ',');
    *comma = '\0';
    *a = parse_real(opt, buf, lo, hi);
    *b = parse_real(opt, comma + 1, *a, hi);
}

/* The model decides the defaults of the other options, so it is read
 * first, wherever it is on the command line. */
static int scan_model(int argc, char **argv)
{
    int model = FM_MODEL_MLP;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strncmp(argv[i], "--model=", 8) == 0)
            v = argv[i] + 8;
        else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
            v = argv[++i];
        else
            continue;
        if (strcmp(v, "cnn") == 0)
            model = FM_MODEL_CNN;
        else if (strcmp(v, "mlp") == 0)
            model = FM_MODEL_MLP;
        else
            fm_die("--model takes cnn or mlp");
    }
    return model;
}

static void parse_args(int argc, char **argv, struct options *o)
{
    set_defaults(o, scan_model(argc, argv));
    struct fm_augment *aug = &o->views.aug;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        char *val = NULL;
        char name[64];
        char *eq = strchr(arg, '=');
        if (strncmp(arg, "--", 2) == 0 && eq && (size_t)(eq - arg) < sizeof name) {
            memcpy(name, arg, (size_t)(eq - arg));
            name[eq - arg] = '\0';
            val = eq + 1;
            arg = name;
        }
#define FLAG(s) (strcmp(arg, s) == 0)
#define VALUE() (val ? val : (i + 1 < argc ? argv[++i] : NULL))
        if (FLAG("--help") || FLAG("-h")) {
            usage(stdout);
            exit(0);
        } else if (FLAG("--print-blas-core")) {
#ifdef FM_HAVE_OPENBLAS
            const char *core = openblas_get_corename();
            printf("%s\n", core ? core : "unknown");
#else
            printf("unknown\n");
#endif
            exit(0);
        } else if (FLAG("--model")) {
            (void)VALUE(); /* read by scan_model() */
        } else if (FLAG("--data")) {
            o->data_dir = VALUE();
            if (!o->data_dir)
                fm_die("--data needs a directory");
        } else if (FLAG("--synthetic")) {
            o->synthetic = 1;
        } else if (FLAG("--fallback-synthetic")) {
            o->fallback_synthetic = 1;
        } else if (FLAG("--epochs")) {
            o->epochs = (int)parse_uint(arg, VALUE(), 1, 100000);
        } else if (FLAG("--batch")) {
            o->batch = (size_t)parse_uint(arg, VALUE(), 4, 65536);
        } else if (FLAG("--seed")) {
            o->seed = parse_uint(arg, VALUE(), 0, UINT64_MAX);
        } else if (FLAG("--threads")) {
            o->threads = (int)parse_uint(arg, VALUE(), 1, 1024);
        } else if (FLAG("--out")) {
            o->out_dir = VALUE();
            if (!o->out_dir)
                fm_die("--out needs a directory");
        } else if (FLAG("--eval-only")) {
            o->eval_only = VALUE();
            if (!o->eval_only)
                fm_die("--eval-only needs a checkpoint file");
        } else if (FLAG("--train-subset")) {
            o->train_subset = (size_t)parse_uint(arg, VALUE(), 2, SIZE_MAX);
        } else if (FLAG("--holdout")) {
            o->holdout = (size_t)parse_uint(arg, VALUE(), 1, SIZE_MAX);
        } else if (FLAG("--eval-train")) {
            o->eval_train = (size_t)parse_uint(arg, VALUE(), 1, SIZE_MAX);
        } else if (FLAG("--eval-test")) {
            o->eval_test = (size_t)parse_uint(arg, VALUE(), 1, SIZE_MAX);
        } else if (FLAG("--calib")) {
            o->calib = (size_t)parse_uint(arg, VALUE(), 0, SIZE_MAX);
        } else if (FLAG("--encoder")) {
            o->n_encoder = parse_widths(arg, VALUE(), o->encoder, NULL, FM_MAX_LAYERS);
        } else if (FLAG("--conv")) {
            o->n_conv = parse_widths(arg, VALUE(), o->conv, o->conv_pool, FM_CNN_MAX_BLOCKS);
        } else if (FLAG("--kernel")) {
            o->kernel = (size_t)parse_uint(arg, VALUE(), 1, 9);
            if (o->kernel % 2 == 0)
                fm_die("--kernel must be odd");
        } else if (FLAG("--projector")) {
            o->n_projector = parse_widths(arg, VALUE(), o->projector, NULL, FM_MAX_LAYERS);
        } else if (FLAG("--optim")) {
            const char *v = VALUE();
            if (v && strcmp(v, "adamw") == 0)
                o->optim = FM_OPTIM_ADAMW;
            else if (v && strcmp(v, "lars") == 0)
                o->optim = FM_OPTIM_LARS;
            else
                fm_die("--optim takes adamw or lars");
        } else if (FLAG("--lr")) {
            o->lr = parse_real(arg, VALUE(), 1e-12, 100.0);
        } else if (FLAG("--weight-decay")) {
            o->weight_decay = parse_real(arg, VALUE(), 0.0, 10.0);
        } else if (FLAG("--beta2")) {
            o->beta2 = parse_real(arg, VALUE(), 0.0, 0.999999);
        } else if (FLAG("--warmup")) {
            o->warmup = parse_real(arg, VALUE(), 0.0, 1e5);
        } else if (FLAG("--lambda")) {
            o->lambda = parse_real(arg, VALUE(), 0.0, 1e9);
        } else if (FLAG("--mu")) {
            o->mu = parse_real(arg, VALUE(), 0.0, 1e9);
        } else if (FLAG("--nu")) {
            o->nu = parse_real(arg, VALUE(), 0.0, 1e9);
        } else if (FLAG("--supervised")) {
            o->supervised = 1;
        } else if (FLAG("--knn-every")) {
            o->knn_every = (int)parse_uint(arg, VALUE(), 0, 100000);
        } else if (FLAG("--curve-bank")) {
            o->curve_bank = (size_t)parse_uint(arg, VALUE(), 1, SIZE_MAX);
        } else if (FLAG("--curve-queries")) {
            o->curve_queries = (size_t)parse_uint(arg, VALUE(), 1, SIZE_MAX);
        } else if (FLAG("--probe-epochs")) {
            o->probe_epochs = (int)parse_uint(arg, VALUE(), 1, 100000);
        } else if (FLAG("--global-views")) {
            o->views.n_global = (size_t)parse_uint(arg, VALUE(), 1, VICREG_MAX_VIEWS);
        } else if (FLAG("--global-size")) {
            o->views.global.side = (size_t)parse_uint(arg, VALUE(), 4, 256);
        } else if (FLAG("--global-scale")) {
            parse_range(arg, VALUE(), 0.01, 1.0, &o->views.global.scale_min,
                        &o->views.global.scale_max);
        } else if (FLAG("--local-views")) {
            o->views.n_local = (size_t)parse_uint(arg, VALUE(), 0, VICREG_MAX_VIEWS);
        } else if (FLAG("--local-size")) {
            o->views.local.side = (size_t)parse_uint(arg, VALUE(), 4, 256);
        } else if (FLAG("--local-scale")) {
            parse_range(arg, VALUE(), 0.01, 1.0, &o->views.local.scale_min,
                        &o->views.local.scale_max);
        } else if (FLAG("--shift")) {
            aug->shift = (int)parse_uint(arg, VALUE(), 0, 14);
        } else if (FLAG("--crop-p")) {
            aug->crop_p = parse_real(arg, VALUE(), 0.0, 1.0);
        } else if (FLAG("--crop-scale")) {
            aug->crop_scale_min = parse_real(arg, VALUE(), 0.05, 1.0);
        } else if (FLAG("--flip")) {
            aug->flip_p = parse_real(arg, VALUE(), 0.0, 1.0);
        } else if (FLAG("--geometry")) {
            const char *v = VALUE();
            if (v && strcmp(v, "shared") == 0)
                aug->shared_geometry = 1;
            else if (v && strcmp(v, "independent") == 0)
                aug->shared_geometry = 0;
            else
                fm_die("--geometry takes shared or independent");
        } else if (FLAG("--jitter")) {
            aug->jitter_p = parse_real(arg, VALUE(), 0.0, 1.0);
        } else if (FLAG("--brightness")) {
            aug->brightness = parse_real(arg, VALUE(), 0.0, 1.0);
        } else if (FLAG("--contrast")) {
            aug->contrast = parse_real(arg, VALUE(), 0.0, 1.0);
        } else if (FLAG("--noise")) {
            aug->noise_p = parse_real(arg, VALUE(), 0.0, 1.0);
        } else if (FLAG("--cutout")) {
            aug->cutout_p = parse_real(arg, VALUE(), 0.0, 1.0);
        } else if (FLAG("--check")) {
            o->check = 1;
        } else {
            fprintf(stderr, "%s: unknown option '%s'\n\n", FM_PROG, argv[i]);
            usage(stderr);
            exit(2);
        }
#undef FLAG
#undef VALUE
    }
    if (o->model == FM_MODEL_MLP && (o->views.n_global != 2 || o->views.n_local != 0))
        fm_die("the MLP trains on a pair of views: --global-views 2, --local-views 0");
    resolve_defaults(o);
}

/* ------------------------------------------------------------------------
 * BLAS and libvicreg helpers
 * ------------------------------------------------------------------------ */
static void check_vicreg(int status, const char *what)
{
    if (status != VICREG_OK)
        fm_die("%s failed: %s (%s)", what, vicreg_strerror(status), vicreg_status_name(status));
}

static double view_term(const vicreg_ctx *ctx, int t, size_t view)
{
    double v;
    check_vicreg(vicreg_ctx_get_view_term(ctx, t, view, &v), "vicreg_ctx_get_view_term");
    return v;
}

static double term(const vicreg_ctx *ctx, int t)
{
    double v;
    check_vicreg(vicreg_ctx_get_term(ctx, t, &v), "vicreg_ctx_get_term");
    return v;
}

static void blas_setup(const struct options *o)
{
#ifdef FM_HAVE_OPENBLAS
    if (o->threads > 0)
        openblas_set_num_threads(o->threads);
    const char *core = openblas_get_corename();
    printf("BLAS: %s; kernels for %s; %d thread%s\n", openblas_get_config(), core,
           openblas_get_num_threads(), openblas_get_num_threads() == 1 ? "" : "s");
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    if (core && strcmp(core, "Prescott") == 0 && !getenv("OPENBLAS_CORETYPE") &&
        __builtin_cpu_supports("avx2"))
        printf("note: OpenBLAS did not recognise this CPU and uses its generic kernels; "
               "OPENBLAS_CORETYPE=%s in the environment makes it several times faster "
               "(scripts/train.sh sets it)\n",
               __builtin_cpu_supports("avx512f") ? "SkylakeX" : "Haswell");
#endif
#else
    if (o->threads > 0)
        printf("note: --threads needs OpenBLAS; the BLAS library's own setting is used\n");
    printf("BLAS: not OpenBLAS (thread count set by the BLAS library)\n");
#endif
}

static void make_dir(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        fm_die("cannot create the output directory %s: %s", dir, strerror(errno));
}

static char *path_in(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = fm_malloc(n, 1);
    snprintf(p, n, "%s/%s", dir, file);
    return p;
}

static const char *widths_str(const struct fm_mlp *m, char *buf, size_t len)
{
    int w = snprintf(buf, len, "%zu", m->layer[0].in);
    for (size_t l = 0; l < m->n_layers && w > 0 && (size_t)w < len; l++)
        w += snprintf(buf + w, len - (size_t)w, "-%zu", m->layer[l].out);
    return buf;
}

/* ------------------------------------------------------------------------
 * Evaluation of one representation
 * ------------------------------------------------------------------------ */
struct eval_set {
    const float *bank;          /* bank inputs, n_bank x pixels */
    const uint8_t *bank_labels;
    size_t n_bank;
    const float *queries;
    const uint8_t *query_labels;
    size_t n_queries;
    size_t pixels;
    const char *query_source;   /* "test" or "held-out training" */
};

struct eval_result {
    const char *name;
    size_t dim;
    double knn, probe, seconds;
};

/* enc == NULL evaluates the input pixels themselves. */
static struct eval_result evaluate(const char *name, const struct fm_encoder *enc,
                                   const struct eval_set *s, const struct options *o)
{
    struct eval_result r = {name, 0, 0.0, 0.0, 0.0};
    double t0 = fm_now();
    const float *fb = s->bank, *fq = s->queries;
    float *bank_f = NULL, *query_f = NULL;
    r.dim = s->pixels;
    if (enc) {
        r.dim = fm_encoder_dim(enc);
        bank_f = fm_malloc(s->n_bank * r.dim, sizeof(float));
        query_f = fm_malloc(s->n_queries * r.dim, sizeof(float));
        fm_encoder_features(enc, s->bank, s->n_bank, bank_f);
        fm_encoder_features(enc, s->queries, s->n_queries, query_f);
        fb = bank_f;
        fq = query_f;
    }
    r.knn = fm_knn_accuracy(fb, s->bank_labels, s->n_bank, fq, s->query_labels, s->n_queries,
                            r.dim, FM_KNN_K, FM_KNN_TEMPERATURE);
    struct fm_probe_config pc = fm_probe_default();
    pc.epochs = o->probe_epochs;
    r.probe = fm_linear_probe(fb, s->bank_labels, s->n_bank, fq, s->query_labels, s->n_queries,
                              r.dim, &pc, o->seed);
    free(bank_f);
    free(query_f);
    r.seconds = fm_now() - t0;
    return r;
}

/* kNN only, for the curve; calibrates enc's BN statistics on the bank
 * (evaluation statistics only: training uses the batch's). */
static double curve_knn(struct fm_encoder *enc, const struct eval_set *s)
{
    size_t dim = fm_encoder_dim(enc);
    float *fb = fm_malloc(s->n_bank * dim, sizeof(float));
    float *fq = fm_malloc(s->n_queries * dim, sizeof(float));
    fm_encoder_calibrate(enc, s->bank, s->n_bank);
    fm_encoder_features(enc, s->bank, s->n_bank, fb);
    fm_encoder_features(enc, s->queries, s->n_queries, fq);
    double acc = fm_knn_accuracy(fb, s->bank_labels, s->n_bank, fq, s->query_labels,
                                 s->n_queries, dim, FM_KNN_K, FM_KNN_TEMPERATURE);
    free(fb);
    free(fq);
    return acc;
}

static void print_table(const struct eval_result *r, size_t n, const struct eval_set *s)
{
    printf("\nEvaluation: %zu training images as the kNN bank and probe training set, "
           "%zu %s images as queries\n", s->n_bank, s->n_queries, s->query_source);
    printf("  kNN: k = %d, cosine similarity, vote weighted by exp(cos / %.2f)\n", FM_KNN_K,
           FM_KNN_TEMPERATURE);
    printf("  linear probe: softmax regression on standardised frozen features, Adam\n\n");
    printf("  %-22s %6s %12s %14s %9s\n", "representation", "dim", "kNN acc", "linear probe",
           "time");
    printf("  %-22s %6s %12s %14s %9s\n", "----------------------", "------", "------------",
           "--------------", "---------");
    for (size_t i = 0; i < n; i++) {
        char t[32];
        printf("  %-22s %6zu %11.2f%% %13.2f%% %9s\n", r[i].name, r[i].dim, 100.0 * r[i].knn,
               100.0 * r[i].probe, fm_format_duration(r[i].seconds, t));
    }
    printf("\n");
}

static void write_eval_csv(const char *dir, const struct eval_result *r, size_t n)
{
    char *p = path_in(dir, "eval.csv");
    FILE *f = fopen(p, "w");
    if (!f)
        fm_die("cannot write %s", p);
    fprintf(f, "representation,dim,knn_acc,linear_probe_acc\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s,%zu,%.4f,%.4f\n", r[i].name, r[i].dim, r[i].knn, r[i].probe);
    if (fclose(f) != 0)
        fm_die("error writing %s", p);
    free(p);
}

/* ------------------------------------------------------------------------
 * Data
 * ------------------------------------------------------------------------ */
static void load_data(const struct options *o, struct fm_dataset *ds)
{
    char dir[1024];
    int synthetic = o->synthetic;
    if (!synthetic && !fm_data_find(o->data_dir, dir, sizeof dir)) {
        if (!o->fallback_synthetic) {
            fm_data_print_missing(o->data_dir);
            exit(2);
        }
        printf("note: Fashion-MNIST not found; using generated images (--fallback-synthetic)\n");
        synthetic = 1;
    }
    double t0 = fm_now();
    if (synthetic) {
        size_t ntr = o->train_subset ? o->train_subset : 10000;
        if (o->eval_train > ntr)
            ntr = o->eval_train;
        ntr += o->holdout;
        size_t nte = o->eval_test ? o->eval_test : 2000;
        /* The generated data set is fixed; --seed does not change it. */
        fm_data_synthetic(ds, ntr, nte, 20260101);
    } else {
        fm_data_load(dir, ds);
    }
    printf("data: %s: %zu training and %zu test images of %zux%zu (%.1fs)\n", ds->source,
           ds->train.count, ds->test.count, ds->train.rows, ds->train.cols, fm_now() - t0);
}

static size_t clamp_count(size_t want, size_t have)
{
    return want == 0 || want > have ? have : want;
}

/* ------------------------------------------------------------------------
 * Training
 * ------------------------------------------------------------------------ */
struct epoch_acc {
    double loss, inv, va, vb, ca, cb, vl, cl, vsum, csum, mean_std, min_std, collapsed;
    double erank, erank_local, correct, seen;
    long steps;
};

/* The terms of the last views call: the loss and the invariance from
 * vicreg_ctx_get_term(), every per-view term from
 * vicreg_ctx_get_view_term() (views 0 and 1 are the global pair A, B). */
static void accumulate(struct epoch_acc *a, const vicreg_ctx *ctx, double loss, size_t views,
                       size_t globals)
{
    a->loss += loss;
    a->inv += term(ctx, VICREG_TERM_INVARIANCE);
    a->va += view_term(ctx, VICREG_VIEW_TERM_VARIANCE, 0);
    a->vb += view_term(ctx, VICREG_VIEW_TERM_VARIANCE, 1);
    a->ca += view_term(ctx, VICREG_VIEW_TERM_COVARIANCE, 0);
    a->cb += view_term(ctx, VICREG_VIEW_TERM_COVARIANCE, 1);
    double ms = 0.0, col = 0.0, vl = 0.0, cl = 0.0, el = 0.0;
    for (size_t v = 0; v < views; v++) {
        double var = view_term(ctx, VICREG_VIEW_TERM_VARIANCE, v);
        double cov = view_term(ctx, VICREG_VIEW_TERM_COVARIANCE, v);
        a->vsum += var;
        a->csum += cov;
        ms += view_term(ctx, VICREG_VIEW_TERM_MEAN_STD, v);
        col += view_term(ctx, VICREG_VIEW_TERM_COLLAPSED_FRACTION, v);
        a->min_std = fmin(a->min_std, view_term(ctx, VICREG_VIEW_TERM_MIN_STD, v));
        if (v >= globals) {
            vl += var;
            cl += cov;
            el += view_term(ctx, VICREG_VIEW_TERM_EFFECTIVE_RANK, v);
        }
    }
    a->mean_std += ms / (double)views;
    a->collapsed += col / (double)views;
    a->erank += 0.5 * (view_term(ctx, VICREG_VIEW_TERM_EFFECTIVE_RANK, 0) +
                       view_term(ctx, VICREG_VIEW_TERM_EFFECTIVE_RANK, 1));
    if (views > globals) {
        const double nl = (double)(views - globals);
        a->vl += vl / nl;
        a->cl += cl / nl;
        a->erank_local += el / nl;
    }
    a->steps++;
}

static struct fm_log_row to_row(const struct epoch_acc *a, int epoch, long step, double lr,
                                int local, int supervised)
{
    double n = a->steps ? (double)a->steps : 1.0;
    struct fm_log_row r = {
        .epoch = epoch, .step = step, .lr = lr, .loss = a->loss / n, .invariance = a->inv / n,
        .variance_a = a->va / n, .variance_b = a->vb / n, .covariance_a = a->ca / n,
        .covariance_b = a->cb / n, .variance_local = NAN, .covariance_local = NAN,
        .var_sum = a->vsum / n, .cov_sum = a->csum / n, .mean_std = a->mean_std / n,
        .min_std = a->min_std, .collapsed = a->collapsed / n, .eff_rank = a->erank / n,
        .eff_rank_local = NAN, .train_acc = NAN, .knn = NAN,
    };
    if (local) {
        r.variance_local = a->vl / n;
        r.covariance_local = a->cl / n;
        r.eff_rank_local = a->erank_local / n;
    }
    if (supervised) {
        r.invariance = r.variance_a = r.variance_b = r.covariance_a = r.covariance_b = NAN;
        r.var_sum = r.cov_sum = r.mean_std = r.min_std = r.collapsed = r.eff_rank = NAN;
        r.train_acc = a->seen > 0.0 ? a->correct / a->seen : NAN;
    }
    return r;
}

static void build_encoder(const struct options *o, size_t side, struct fm_rng *rng,
                          struct fm_encoder *e)
{
    memset(e, 0, sizeof *e);
    e->kind = o->model;
    e->side = side;
    if (o->model == FM_MODEL_MLP) {
        size_t w[FM_MAX_LAYERS + 1];
        w[0] = side * side;
        memcpy(w + 1, o->encoder, o->n_encoder * sizeof(size_t));
        fm_mlp_init(&e->mlp, o->n_encoder, w, 0, rng);
    } else {
        fm_cnn_init(&e->cnn, 1, o->n_conv, o->conv, o->conv_pool, o->kernel, rng);
    }
}

static int run_eval_only(const struct options *o, const struct eval_set *es, size_t side)
{
    struct fm_encoder enc;
    struct fm_ckpt_info info;
    fm_checkpoint_load(o->eval_only, &enc, &info);
    enc.side = side;
    char ws[128];
    printf("checkpoint %s: encoder %s, seed %llu, %u epochs\n", o->eval_only,
           fm_encoder_describe(&enc, ws, sizeof ws), (unsigned long long)info.seed,
           (unsigned)info.epochs);
    if (enc.kind == FM_MODEL_MLP && fm_mlp_in(&enc.mlp) != es->pixels)
        fm_die("%s: the encoder takes %zu inputs, the images have %zu pixels", o->eval_only,
               fm_mlp_in(&enc.mlp), es->pixels);
    if (enc.kind == FM_MODEL_CNN && enc.cnn.in_channels != 1)
        fm_die("%s: the encoder takes %zu channels, the images have 1", o->eval_only,
               enc.cnn.in_channels);
    /* The probe's random choices use the seed of the run that saved the
     * checkpoint, so that this reproduces its numbers. */
    struct options eo = *o;
    eo.seed = info.seed;
    struct eval_result r = evaluate("checkpoint", &enc, es, &eo);
    print_table(&r, 1, es);
    make_dir(o->out_dir);
    write_eval_csv(o->out_dir, &r, 1);
    fm_encoder_free(&enc);
    return 0;
}

static void print_views(const struct options *o)
{
    const struct fm_views *v = &o->views;
    const struct fm_augment *a = &v->aug;
    if (!v->multicrop) {
        printf("views: crop with shift up to %d px, zoomed crop p %g (area >= %g), flip p %g, "
               "%s for both views; per view: brightness/contrast jitter p %g (+-%g, x[%g, %g]), "
               "noise p %g (std %g), cutout p %g\n",
               a->shift, a->crop_p, a->crop_scale_min, a->flip_p,
               a->shared_geometry ? "the same" : "drawn separately", a->jitter_p, a->brightness,
               1.0 - a->contrast, 1.0 + a->contrast, a->noise_p, a->noise_std, a->cutout_p);
        return;
    }
    printf("views: multi-crop, %zu global %zux%zu (area %g-%g) and %zu local %zux%zu (area "
           "%g-%g) per image; each view: random resized crop (aspect %.2f-%.2f), shift up to "
           "%d px, flip p %g, brightness/contrast jitter p %g (+-%g, x[%g, %g]), noise p %g "
           "(std %g), cutout p %g\n",
           v->n_global, v->global.side, v->global.side, v->global.scale_min, v->global.scale_max,
           v->n_local, v->local.side, v->local.side, v->local.scale_min, v->local.scale_max,
           1.0 / a->crop_ratio, a->crop_ratio, a->shift, a->flip_p, a->jitter_p, a->brightness,
           1.0 - a->contrast, 1.0 + a->contrast, a->noise_p, a->noise_std, a->cutout_p);
}

/* OpenMP threads that finish a loop spin for a while before sleeping
 * (libgomp's default wait policy), and so do OpenBLAS's threads after a
 * product: on two cores the two pools then take the CPU from each other
 * at every switch between the trainer's loops and a GEMM, which halved the
 * CNN's training speed (0.65 against 1.40 steps per second). libgomp reads
 * OMP_WAIT_POLICY once, when it is loaded, so when it is not set the
 * trainer runs itself again with OMP_WAIT_POLICY=PASSIVE (idle OpenMP
 * threads sleep at once). Set it yourself to override this. */
static void passive_openmp(char **argv)
{
#ifdef _OPENMP
    if (getenv("OMP_WAIT_POLICY"))
        return;
    if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    /* No /proc: carry on with the default policy (slower, same results). */
#else
    (void)argv;
#endif
}

int main(int argc, char **argv)
{
    passive_openmp(argv);
    struct options o;
    parse_args(argc, argv, &o);
    const double t_start = fm_now();
    printf("%s: VICReg on Fashion-MNIST with libvicreg %s\n", FM_PROG, vicreg_version_string());
    blas_setup(&o);
    const int loop_threads = fm_parallel_setup(o.threads);
#ifdef _OPENMP
    printf("trainer loops: %d OpenMP thread%s (the results do not depend on it)\n", loop_threads,
           loop_threads == 1 ? "" : "s");
#else
    (void)loop_threads;
#endif

    struct fm_dataset ds;
    load_data(&o, &ds);
    const size_t side = ds.train.rows, pixels = ds.train.rows * ds.train.cols;
    if (ds.train.rows != ds.train.cols)
        fm_die("the images are %zux%zu; the trainer takes square images", ds.train.rows,
               ds.train.cols);
    if (o.holdout >= ds.train.count)
        fm_die("--holdout %zu leaves no training images (there are %zu)", o.holdout,
               ds.train.count);
    /* With --holdout the last images of the training split are the
     * queries, and neither the training nor the bank sees them. */
    const size_t n_avail = ds.train.count - o.holdout;

    /* Evaluation sets, as network inputs. */
    struct eval_set es;
    es.n_bank = clamp_count(o.eval_train, n_avail);
    es.pixels = pixels;
    float *bank_in = fm_malloc(es.n_bank * pixels, sizeof(float));
    fm_pixels_to_input(ds.train.pixels, es.n_bank, pixels, bank_in);
    es.bank = bank_in;
    es.bank_labels = ds.train.labels;
    float *query_in;
    if (o.holdout) {
        es.n_queries = clamp_count(o.eval_test, o.holdout);
        query_in = fm_malloc(es.n_queries * pixels, sizeof(float));
        fm_pixels_to_input(ds.train.pixels + n_avail * pixels, es.n_queries, pixels, query_in);
        es.query_labels = ds.train.labels + n_avail;
        es.query_source = "held-out training";
    } else {
        es.n_queries = clamp_count(o.eval_test, ds.test.count);
        query_in = fm_malloc(es.n_queries * pixels, sizeof(float));
        fm_pixels_to_input(ds.test.pixels, es.n_queries, pixels, query_in);
        es.query_labels = ds.test.labels;
        es.query_source = "test";
    }
    es.queries = query_in;

    if (o.eval_only) {
        int rc = run_eval_only(&o, &es, side);
        free(bank_in);
        free(query_in);
        fm_data_free(&ds);
        return rc;
    }

    const size_t n_train = clamp_count(o.train_subset, n_avail);
    const size_t n = o.batch;
    if (n > n_train)
        fm_die("--batch %zu is larger than the %zu training images", n, n_train);
    const long steps_per_epoch = (long)(n_train / n);
    const long total_steps = steps_per_epoch * o.epochs;
    const long warmup = (long)(o.warmup * (double)steps_per_epoch);
    const struct fm_views *views = &o.views;
    const size_t G = views->n_global, L = views->n_local, V = G + L;
    if (!views->multicrop && views->global.side != side)
        fm_die("the MLP's views are the full %zux%zu images", side, side);

    /* The networks. */
    struct fm_rng init_rng, shuffle_rng, aug_rng;
    fm_rng_seed(&init_rng, o.seed, 1);
    fm_rng_seed(&shuffle_rng, o.seed, 2);
    fm_rng_seed(&aug_rng, o.seed, 3);
    struct fm_encoder enc, enc_init;
    build_encoder(&o, side, &init_rng, &enc);
    const size_t h = fm_encoder_dim(&enc);
    if (enc.kind == FM_MODEL_CNN) {
        if (fm_cnn_final_side(&enc.cnn, views->global.side) == 0 ||
            (L > 0 && fm_cnn_final_side(&enc.cnn, views->local.side) == 0))
            fm_die("the views are too small for %zu pooling blocks", o.n_conv);
    }
    /* The head: the VICReg projector, or for --supervised a linear
     * classifier. */
    size_t pw[FM_MAX_LAYERS + 1];
    struct fm_mlp proj;
    if (o.supervised) {
        pw[0] = h;
        pw[1] = 10;
        fm_mlp_init(&proj, 1, pw, 1, &init_rng);
    } else {
        pw[0] = h;
        memcpy(pw + 1, o.projector, o.n_projector * sizeof(size_t));
        fm_mlp_init(&proj, o.n_projector, pw, 1, &init_rng);
    }
    fm_encoder_copy(&enc_init, &enc);
    const size_t d = fm_mlp_out(&proj);

    vicreg_ctx *ctx;
    check_vicreg(vicreg_ctx_create(&ctx), "vicreg_ctx_create");
    if (o.lambda >= 0.0)
        check_vicreg(vicreg_ctx_set_param(ctx, VICREG_PARAM_INVARIANCE_COEFF, o.lambda), "--lambda");
    if (o.mu >= 0.0) {
        check_vicreg(vicreg_ctx_set_param(ctx, VICREG_PARAM_VARIANCE_COEFF, o.mu), "--mu");
    } else {
        /* The views loss weighs each view's variance hinge by mu / V (the
         * reference convention), so with libvicreg's mu = 25 six views get
         * a third of the per-view weight two views get, and in the first
         * runs the embeddings collapsed towards a few directions (mean std
         * 0.3, effective rank falling). mu = 25 V / 2 keeps the per-view
         * balance of the two-view loss; for two views it is 25. */
        double mu0;
        check_vicreg(vicreg_ctx_get_param(ctx, VICREG_PARAM_VARIANCE_COEFF, &mu0), "get_param");
        check_vicreg(vicreg_ctx_set_param(ctx, VICREG_PARAM_VARIANCE_COEFF,
                                          mu0 * (double)V / 2.0), "set_param(mu)");
    }
    if (o.nu >= 0.0)
        check_vicreg(vicreg_ctx_set_param(ctx, VICREG_PARAM_COVARIANCE_COEFF, o.nu), "--nu");
    check_vicreg(vicreg_ctx_set_param(ctx, VICREG_PARAM_GLOBAL_VIEWS, (double)G),
                 "vicreg_ctx_set_param(GLOBAL_VIEWS)");
    check_vicreg(vicreg_ctx_views_reserve(ctx, V, n, d, VICREG_PRECISION_F32),
                 "vicreg_ctx_views_reserve");
    double lambda, mu, nu, conv;
    check_vicreg(vicreg_ctx_get_param(ctx, VICREG_PARAM_INVARIANCE_COEFF, &lambda), "get_param");
    check_vicreg(vicreg_ctx_get_param(ctx, VICREG_PARAM_VARIANCE_COEFF, &mu), "get_param");
    check_vicreg(vicreg_ctx_get_param(ctx, VICREG_PARAM_COVARIANCE_COEFF, &nu), "get_param");
    check_vicreg(vicreg_ctx_get_param(ctx, VICREG_PARAM_CONVENTION, &conv), "get_param");
    const struct fm_loss_weights lw = {
        lambda, mu * (conv == VICREG_CONVENTION_PAPER ? 1.0 : 1.0 / (double)V), nu};

    struct fm_optim opt;
    fm_optim_init(&opt, o.optim, o.weight_decay);
    opt.beta2 = o.beta2;
    fm_encoder_add_params(&enc, &opt);
    for (size_t l = 0; l < proj.n_layers; l++) {
        struct fm_layer *P = &proj.layer[l];
        fm_optim_add(&opt, P->w, P->gw, P->in * P->out, 1);
        if (P->has_bn) {
            fm_optim_add(&opt, P->gamma, P->ggamma, P->out, 0);
            fm_optim_add(&opt, P->beta, P->gbeta, P->out, 0);
        }
    }

    char es_buf[128], ps_buf[128];
    fm_encoder_describe(&enc, es_buf, sizeof es_buf);
    widths_str(&proj, ps_buf, sizeof ps_buf);
    if (enc.kind == FM_MODEL_MLP)
        printf("model: encoder %s (Linear + BatchNorm + ReLU)", es_buf);
    else
        printf("model: encoder %s (every block conv %zux%zu + BatchNorm + ReLU, p = 2x2 max "
               "pooling; %.1f M multiply-adds per %zux%zu image)", es_buf, o.kernel, o.kernel,
               fm_cnn_macs(&enc.cnn, side) * 1e-6, side, side);
    printf(", %s %s; %zu + %zu parameters\n",
           o.supervised ? "linear classifier" : "projector (Linear + BN + ReLU, then Linear)",
           ps_buf, fm_encoder_param_count(&enc), fm_mlp_param_count(&proj));
    if (o.supervised)
        printf("loss: SUPERVISED (--supervised): softmax cross entropy on the labels of every "
               "view; the ceiling, not the self-supervised job\n");
    else
        printf("loss: vicreg_views_loss_f32, %zu views (%zu global), lambda %g, mu %g, nu %g, "
               "%s convention\n", V, G, lambda, mu, nu,
               conv == VICREG_CONVENTION_PAPER ? "paper" : "reference");
    printf("training: %zu images, %d epochs of %ld steps, batch %zu (x%zu views), %s lr %g "
           "(warm-up %g epoch%s, cosine), weight decay %g, seed %llu\n",
           n_train, o.epochs, steps_per_epoch, n, V, fm_optim_name(o.optim), o.lr, o.warmup,
           o.warmup == 1.0 ? "" : "s", o.weight_decay, (unsigned long long)o.seed);
    print_views(&o);
    fflush(stdout);

    /* The kNN curve subset. */
    struct eval_set cs = es;
    cs.n_bank = clamp_count(o.curve_bank, es.n_bank);
    cs.n_queries = clamp_count(o.curve_queries, es.n_queries);
    double raw_curve = NAN, init_curve = NAN;
    if (o.knn_every > 0)
        raw_curve = fm_knn_accuracy(cs.bank, cs.bank_labels, cs.n_bank, cs.queries,
                                    cs.query_labels, cs.n_queries, pixels, FM_KNN_K,
                                    FM_KNN_TEMPERATURE);

    /* Output files. */
    make_dir(o.out_dir);
    char *csv_path = path_in(o.out_dir, "train.csv");
    FILE *csv = fopen(csv_path, "w");
    if (!csv)
        fm_die("cannot write %s", csv_path);
    fm_csv_header(csv);

    /* Buffers: the global and the local views (view-major), the features
     * of all V views stacked (V n x h), the head's output gradient (V n x
     * d) and dL/dfeatures. */
    const size_t gs = views->global.side * views->global.side;
    const size_t ls = views->local.side * views->local.side;
    float *xg = fm_malloc(G * n * gs, sizeof(float));
    float *xl = L ? fm_malloc(L * n * ls, sizeof(float)) : NULL;
    float *hv = fm_malloc(V * n * h, sizeof(float));
    float *dz = fm_malloc(V * n * d, sizeof(float));
    float *dh = fm_malloc(V * n * h, sizeof(float));
    uint8_t *labels = o.supervised ? fm_malloc(V * n, 1) : NULL;
    uint32_t *order = fm_malloc(n_train, sizeof(uint32_t));
    for (size_t i = 0; i < n_train; i++)
        order[i] = (uint32_t)i;
    const float *zv[VICREG_MAX_VIEWS];
    float *gv[VICREG_MAX_VIEWS];

    struct fm_log_row *rows = fm_calloc((size_t)o.epochs + 1, sizeof *rows);
    size_t n_rows = 0;
    double first_loss = NAN;
    long step = 0;
    double lr = 0.0;
    printf("\n");
    const double t_train = fm_now();
    double train_seconds = 0.0, curve_seconds = 0.0;
    for (int epoch = 1; epoch <= o.epochs; epoch++) {
        struct epoch_acc acc = {0};
        acc.min_std = INFINITY;
        const double t_epoch = fm_now();
        double epoch_curve = 0.0;
        fm_rng_shuffle(&shuffle_rng, order, n_train);
        for (long s = 0; s < steps_per_epoch; s++, step++) {
            const uint32_t *idx = order + (size_t)s * n;
            fm_views_batch(views, ds.train.pixels, idx, n, side, side, &aug_rng, xg, xl);
            fm_encoder_zero_grad(&enc);
            const float *f = fm_encoder_forward_train(&enc, 0, xg, G * n, views->global.side, G);
            memcpy(hv, f, G * n * h * sizeof(float));
            if (L) {
                f = fm_encoder_forward_train(&enc, 1, xl, L * n, views->local.side, L);
                memcpy(hv + G * n * h, f, L * n * h * sizeof(float));
            }
            const float *z = fm_mlp_forward_train(&proj, hv, V * n, V);
            double loss;
            if (o.supervised) {
                for (size_t v = 0; v < V; v++)
                    for (size_t i = 0; i < n; i++)
                        labels[v * n + i] = ds.train.labels[idx[i]];
                size_t correct;
                loss = fm_softmax_xent(z, labels, V * n, d, dz, &correct);
                acc.loss += loss;
                acc.correct += (double)correct;
                acc.seen += (double)(V * n);
                acc.steps++;
            } else {
                for (size_t v = 0; v < V; v++) {
                    zv[v] = z + v * n * d;
                    gv[v] = dz + v * n * d;
                }
                int st = vicreg_views_loss_f32(ctx, V, n, d, zv, NULL, &loss, gv, NULL);
                if (st != VICREG_OK)
                    fm_die("step %ld: vicreg_views_loss_f32: %s (%s); try a smaller --lr", step,
                           vicreg_strerror(st), vicreg_status_name(st));
                accumulate(&acc, ctx, loss, V, G);
            }
            if (step == 0) {
                /* The first batch, before any update: the start of the curve. */
                struct fm_log_row r0 = to_row(&acc, 0, 0, 0.0, L > 0, o.supervised);
                first_loss = loss;
                if (o.knn_every > 0) {
                    double tc = fm_now();
                    r0.knn = init_curve = curve_knn(&enc, &cs);
                    epoch_curve += fm_now() - tc;
                }
                fm_print_row(&r0, o.epochs, -1.0);
                fm_csv_row(csv, &r0);
                rows[n_rows++] = r0;
            }
            fm_mlp_backward(&proj, hv, dz, dh);
            fm_encoder_backward(&enc, 0, dh);
            if (L)
                fm_encoder_backward(&enc, 1, dh + G * n * h);
            lr = fm_lr_schedule(o.lr, step, warmup, total_steps);
            fm_optim_step(&opt, lr);
        }
        struct fm_log_row r = to_row(&acc, epoch, step, lr, L > 0, o.supervised);
        if (o.knn_every > 0 && (epoch % o.knn_every == 0 || epoch == o.epochs)) {
            double tc = fm_now();
            r.knn = curve_knn(&enc, &cs);
            epoch_curve += fm_now() - tc;
        }
        /* Steps per second of the training itself, without the curve. */
        r.steps_per_s = (double)steps_per_epoch / (fm_now() - t_epoch - epoch_curve);
        curve_seconds += epoch_curve;
        train_seconds = fm_now() - t_train;
        r.elapsed = train_seconds;
        fm_print_row(&r, o.epochs, train_seconds / epoch * (o.epochs - epoch));
        fm_csv_row(csv, &r);
        rows[n_rows++] = r;
    }
    fclose(csv);
    printf("training: %s (%s of it for the kNN curve), %.2f steps/s on average\n",
           fm_format_duration(train_seconds, (char[32]){0}),
           fm_format_duration(curve_seconds, (char[32]){0}),
           (double)total_steps / (train_seconds - curve_seconds));

    /* The checkpoint holds the BN statistics of the calibration images. */
    const double t_eval = fm_now();
    const size_t n_calib = clamp_count(o.calib, es.n_bank);
    fm_encoder_calibrate(&enc, es.bank, n_calib);
    fm_encoder_calibrate(&enc_init, es.bank, n_calib);
    char *ckpt_path = path_in(o.out_dir, "encoder.ckpt");
    const struct fm_ckpt_info info = {o.seed, (uint32_t)o.epochs};
    fm_checkpoint_save(ckpt_path, &enc, &info);
    printf("checkpoint: %s (batch-norm statistics of %zu training images)\n", ckpt_path,
           n_calib);

    struct eval_result res[3];
    res[0] = evaluate(o.supervised ? "supervised encoder" : "trained encoder", &enc, &es, &o);
    res[1] = evaluate("random-init encoder", &enc_init, &es, &o);
    res[2] = evaluate("raw pixels", NULL, &es, &o);
    print_table(res, 3, &es);
    res[0].name = o.supervised ? "supervised" : "trained";
    res[1].name = "random_init";
    res[2].name = "raw_pixels";
    write_eval_csv(o.out_dir, res, 3);

    char *svg_path = path_in(o.out_dir, "train.svg");
    char title[160], subtitle[512], note[256];
    snprintf(title, sizeof title, "%s with libvicreg %s on %s",
             o.supervised ? "Supervised ceiling" : "VICReg", vicreg_version_string(),
             ds.synthetic ? "synthetic images" : "Fashion-MNIST");
    snprintf(subtitle, sizeof subtitle,
             "encoder %s, %s %s; %zu views; %zu images, %d epochs, batch %zu, %s lr %g, seed %llu",
             es_buf, o.supervised ? "classifier" : "projector", ps_buf, V, n_train, o.epochs, n,
             fm_optim_name(o.optim), o.lr, (unsigned long long)o.seed);
    snprintf(note, sizeof note,
             "Final evaluation (%zu-image bank, %zu queries): kNN trained %.2f%%, random init "
             "%.2f%%, raw pixels %.2f%%", es.n_bank, es.n_queries, 100.0 * res[0].knn,
             100.0 * res[1].knn, 100.0 * res[2].knn);
    if (fm_svg_write(svg_path, rows, n_rows, &lw, init_curve, raw_curve, title, subtitle,
                     note) != 0)
        fm_die("cannot write %s", svg_path);
    printf("files: %s, %s/eval.csv, %s\n", csv_path, o.out_dir, svg_path);

    const struct fm_log_row *last = &rows[n_rows - 1];
    printf("loss: %.4f at the first step, %.4f over the last epoch; evaluation %s; total "
           "time %s\n", first_loss, last->loss, fm_format_duration(fm_now() - t_eval, (char[32]){0}),
           fm_format_duration(fm_now() - t_start, (char[32]){0}));

    int status = 0;
    if (o.check && !o.supervised) {
        /* The loss must fall, and no projector column may collapse: the
         * smallest std of any column of any view in any step of the last
         * epoch stays above gamma / 10, and the embedding keeps using many
         * directions (effective rank at least a tenth of its maximum,
         * min(n - 1, d)). The fraction of columns below gamma is not a
         * collapse test: with the default coefficients the hinge balances
         * the other terms with most columns a little below gamma in
         * healthy training. */
        const double min_std_floor = 0.1;
        const double rank_floor = 0.1 * (double)(n - 1 < d ? n - 1 : d);
        int fell = last->loss < 0.9 * first_loss;
        int alive = last->min_std > min_std_floor && last->eff_rank > rank_floor;
        printf("check: loss %.4f -> %.4f: %s; smallest column std %.3f (floor %.2f), "
               "effective rank %.1f (floor %.1f): %s\n",
               first_loss, last->loss, fell ? "fell" : "DID NOT FALL", last->min_std,
               min_std_floor, last->eff_rank, rank_floor, alive ? "no collapse" : "COLLAPSE");
        status = fell && alive ? 0 : 3;
    } else if (o.check) {
        int fell = last->loss < 0.9 * first_loss;
        printf("check: cross entropy %.4f -> %.4f: %s\n", first_loss, last->loss,
               fell ? "fell" : "DID NOT FALL");
        status = fell ? 0 : 3;
    }

    free(rows);
    free(order);
    free(xg);
    free(xl);
    free(hv);
    free(dz);
    free(dh);
    free(labels);
    free(csv_path);
    free(ckpt_path);
    free(svg_path);
    fm_optim_free(&opt);
    vicreg_ctx_destroy(ctx);
    fm_encoder_free(&enc);
    fm_encoder_free(&enc_init);
    fm_mlp_free(&proj);
    free(bank_in);
    free(query_in);
    fm_data_free(&ds);
    return status;
}
