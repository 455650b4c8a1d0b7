/*
 * main.c - fashion-mnist-vicreg: self-supervised training of an MLP encoder
 * on Fashion-MNIST with the VICReg loss of libvicreg, then an evaluation of
 * the representation (kNN and linear probe) against the same encoder at its
 * random initialisation and against raw pixels.
 *
 * Labels are read with the images but used only by the evaluation
 * (eval.c); the training loop never touches them.
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

#include <cblas.h>
#include <vicreg.h>

#include "augment.h"
#include "checkpoint.h"
#include "data.h"
#include "eval.h"
#include "nn.h"
#include "optim.h"
#include "report.h"
#include "util.h"

/* ------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------ */
struct options {
    const char *data_dir;
    int synthetic, fallback_synthetic;
    int epochs;
    size_t batch;
    uint64_t seed;
    int threads;                 /* 0: the BLAS library's default */
    const char *out_dir;
    const char *eval_only;
    size_t train_subset;         /* 0: all */
    size_t eval_train, eval_test; /* 0: all */
    size_t encoder[FM_MAX_LAYERS], n_encoder;
    size_t projector[FM_MAX_LAYERS], n_projector;
    int optim;
    double lr, weight_decay, warmup;
    int knn_every;
    size_t curve_bank, curve_queries;
    int probe_epochs;
    int check;
    struct fm_augment aug;
};

static void set_defaults(struct options *o)
{
    memset(o, 0, sizeof *o);
    o->epochs = 10;
    o->batch = 256;
    o->seed = 1;
    o->out_dir = "fashion-mnist-out";
    o->encoder[0] = 1024;
    o->encoder[1] = 512;
    o->n_encoder = 2;
    o->projector[0] = 1024;
    o->projector[1] = 1024;
    o->n_projector = 2;
    o->optim = FM_OPTIM_ADAMW;
    o->lr = -1.0; /* per optimiser, see resolve_defaults() */
    o->weight_decay = -1.0;
    o->warmup = 1.0;
    o->knn_every = 1;
    o->curve_bank = 10000;
    o->curve_queries = 2000;
    o->probe_epochs = 20;
    o->aug = fm_augment_default();
}

static void resolve_defaults(struct options *o)
{
    if (o->lr < 0.0)
        o->lr = o->optim == FM_OPTIM_LARS ? 0.2 * (double)o->batch / 256.0 : 3e-3;
    if (o->weight_decay < 0.0)
        o->weight_decay = o->optim == FM_OPTIM_LARS ? 1e-6 : 1e-4;
}

static void usage(FILE *f)
{
    struct options d;
    set_defaults(&d);
    fprintf(f,
            "usage: %s [options]\n"
            "Self-supervised training of an MLP on Fashion-MNIST with the VICReg loss of\n"
            "libvicreg, then kNN and linear-probe evaluation of the trained encoder, the\n"
            "same encoder at its random initialisation, and raw pixels.\n"
            "\n"
            "data\n"
            "  --data DIR           directory of the four IDX files (default: $FASHION_MNIST_DIR,\n"
            "                       then " FM_DEFAULT_DATA_DIR ")\n"
            "  --synthetic          generated shape images instead of Fashion-MNIST\n"
            "  --fallback-synthetic use generated images when the data set is not found\n"
            "  --train-subset N     train on the first N training images (default: all)\n"
            "training\n"
            "  --epochs N           passes over the training images (default %d)\n"
            "  --batch N            images per step; each gives two views (default %zu)\n"
            "  --encoder W1,W2,...  encoder widths after the 784 inputs (default 1024,512)\n"
            "  --projector W1,...   projector widths (default 1024,1024)\n"
            "  --optim adamw|lars   optimiser (default adamw)\n"
            "  --lr X               base learning rate (default 3e-3 for AdamW,\n"
            "                       0.2 * batch/256 for LARS)\n"
            "  --weight-decay X     (default 1e-4 for AdamW, 1e-6 for LARS)\n"
            "  --warmup E           linear warm-up, in epochs (default %g)\n"
            "  --seed N             seed of every random choice (default %llu)\n"
            "  --threads N          BLAS threads (default: the BLAS library's choice)\n"
            "augmentations (see README.md)\n"
            "  --shift PX           random crop with shift: move by up to PX pixels (default %d)\n"
            "  --crop-p P           probability of a zoomed crop (default %g)\n"
            "  --crop-scale S       its smallest area fraction (default %g)\n"
            "  --flip P             horizontal flip probability (default %g)\n"
            "  --geometry shared|independent\n"
            "                       crop, shift and flip the same for both views, or\n"
            "                       drawn per view (default %s)\n"
            "  --jitter P           brightness/contrast jitter probability (default %g)\n"
            "  --noise P            Gaussian noise probability (default %g)\n"
            "  --cutout P           cutout probability (default %g)\n"
            "evaluation\n"
            "  --eval-train N       kNN bank and probe training set: the first N training\n"
            "                       images (default: all)\n"
            "  --eval-test N        queries: the first N test images (default: all)\n"
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
            FM_PROG, d.epochs, d.batch, d.warmup, (unsigned long long)d.seed, d.aug.shift,
            d.aug.crop_p, d.aug.crop_scale_min, d.aug.flip_p,
            d.aug.shared_geometry ? "shared" : "independent", d.aug.jitter_p, d.aug.noise_p,
            d.aug.cutout_p, d.knn_every,
            d.curve_bank, d.curve_queries, d.probe_epochs, d.out_dir);
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

static size_t parse_widths(const char *opt, const char *s, size_t *w, size_t max)
{
    size_t n = 0;
    char buf[256];
    if (!s || strlen(s) >= sizeof buf)
        fm_die("%s needs a comma-separated list of widths", opt);
    strcpy(buf, s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (n == max)
            fm_die("%s: at most %zu layers", opt, max);
        w[n++] = (size_t)parse_uint(opt, tok, 2, 65536);
    }
    if (n == 0)
        fm_die("%s needs at least one width", opt);
    return n;
}

static void parse_args(int argc, char **argv, struct options *o)
{
    set_defaults(o);
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
        } else if (FLAG("--eval-train")) {
            o->eval_train = (size_t)parse_uint(arg, VALUE(), 1, SIZE_MAX);
        } else if (FLAG("--eval-test")) {
            o->eval_test = (size_t)parse_uint(arg, VALUE(), 1, SIZE_MAX);
        } else if (FLAG("--encoder")) {
            o->n_encoder = parse_widths(arg, VALUE(), o->encoder, FM_MAX_LAYERS);
        } else if (FLAG("--projector")) {
            o->n_projector = parse_widths(arg, VALUE(), o->projector, FM_MAX_LAYERS);
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
        } else if (FLAG("--warmup")) {
            o->warmup = parse_real(arg, VALUE(), 0.0, 1e5);
        } else if (FLAG("--knn-every")) {
            o->knn_every = (int)parse_uint(arg, VALUE(), 0, 100000);
        } else if (FLAG("--curve-bank")) {
            o->curve_bank = (size_t)parse_uint(arg, VALUE(), 1, SIZE_MAX);
        } else if (FLAG("--curve-queries")) {
            o->curve_queries = (size_t)parse_uint(arg, VALUE(), 1, SIZE_MAX);
        } else if (FLAG("--probe-epochs")) {
            o->probe_epochs = (int)parse_uint(arg, VALUE(), 1, 100000);
        } else if (FLAG("--shift")) {
            o->aug.shift = (int)parse_uint(arg, VALUE(), 0, 14);
        } else if (FLAG("--crop-p")) {
            o->aug.crop_p = parse_real(arg, VALUE(), 0.0, 1.0);
        } else if (FLAG("--crop-scale")) {
            o->aug.crop_scale_min = parse_real(arg, VALUE(), 0.05, 1.0);
        } else if (FLAG("--flip")) {
            o->aug.flip_p = parse_real(arg, VALUE(), 0.0, 1.0);
        } else if (FLAG("--geometry")) {
            const char *v = VALUE();
            if (v && strcmp(v, "shared") == 0)
                o->aug.shared_geometry = 1;
            else if (v && strcmp(v, "independent") == 0)
                o->aug.shared_geometry = 0;
            else
                fm_die("--geometry takes shared or independent");
        } else if (FLAG("--jitter")) {
            o->aug.jitter_p = parse_real(arg, VALUE(), 0.0, 1.0);
        } else if (FLAG("--noise")) {
            o->aug.noise_p = parse_real(arg, VALUE(), 0.0, 1.0);
        } else if (FLAG("--cutout")) {
            o->aug.cutout_p = parse_real(arg, VALUE(), 0.0, 1.0);
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
};

struct eval_result {
    const char *name;
    size_t dim;
    double knn, probe, seconds;
};

/* enc == NULL evaluates the input pixels themselves. */
static struct eval_result evaluate(const char *name, const struct fm_mlp *enc,
                                   const struct eval_set *s, const struct options *o)
{
    struct eval_result r = {name, 0, 0.0, 0.0, 0.0};
    double t0 = fm_now();
    const float *fb = s->bank, *fq = s->queries;
    float *bank_f = NULL, *query_f = NULL;
    r.dim = s->pixels;
    if (enc) {
        r.dim = fm_mlp_out(enc);
        bank_f = fm_malloc(s->n_bank * r.dim, sizeof(float));
        query_f = fm_malloc(s->n_queries * r.dim, sizeof(float));
        fm_mlp_forward_eval(enc, s->bank, s->n_bank, bank_f);
        fm_mlp_forward_eval(enc, s->queries, s->n_queries, query_f);
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

/* kNN only, for the curve; calibrates enc's BN statistics on the bank. */
static double curve_knn(struct fm_mlp *enc, const struct eval_set *s)
{
    size_t dim = fm_mlp_out(enc);
    float *fb = fm_malloc(s->n_bank * dim, sizeof(float));
    float *fq = fm_malloc(s->n_queries * dim, sizeof(float));
    fm_mlp_calibrate(enc, s->bank, s->n_bank);
    fm_mlp_forward_eval(enc, s->bank, s->n_bank, fb);
    fm_mlp_forward_eval(enc, s->queries, s->n_queries, fq);
    double acc = fm_knn_accuracy(fb, s->bank_labels, s->n_bank, fq, s->query_labels,
                                 s->n_queries, dim, FM_KNN_K, FM_KNN_TEMPERATURE);
    free(fb);
    free(fq);
    return acc;
}

static void print_table(const struct eval_result *r, size_t n, const struct eval_set *s)
{
    printf("\nEvaluation: %zu training images as the kNN bank and probe training set, "
           "%zu test images as queries\n", s->n_bank, s->n_queries);
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
static void add_params(struct fm_optim *opt, struct fm_mlp *m)
{
    for (size_t l = 0; l < m->n_layers; l++) {
        struct fm_layer *L = &m->layer[l];
        fm_optim_add(opt, L->w, L->gw, L->in * L->out, 1);
        if (L->has_bn) {
            fm_optim_add(opt, L->gamma, L->ggamma, L->out, 0);
            fm_optim_add(opt, L->beta, L->gbeta, L->out, 0);
        }
    }
}

struct epoch_acc {
    double loss, inv, va, vb, ca, cb, mean_std, min_std, collapsed, erank;
    long steps;
};

static void accumulate(struct epoch_acc *a, const vicreg_ctx *ctx, double loss)
{
    a->loss += loss;
    a->inv += term(ctx, VICREG_TERM_INVARIANCE);
    a->va += term(ctx, VICREG_TERM_VARIANCE_A);
    a->vb += term(ctx, VICREG_TERM_VARIANCE_B);
    a->ca += term(ctx, VICREG_TERM_COVARIANCE_A);
    a->cb += term(ctx, VICREG_TERM_COVARIANCE_B);
    a->mean_std += 0.5 * (term(ctx, VICREG_TERM_MEAN_STD_A) + term(ctx, VICREG_TERM_MEAN_STD_B));
    a->min_std = fmin(a->min_std, fmin(term(ctx, VICREG_TERM_MIN_STD_A),
                                       term(ctx, VICREG_TERM_MIN_STD_B)));
    a->collapsed += 0.5 * (term(ctx, VICREG_TERM_COLLAPSED_FRACTION_A) +
                           term(ctx, VICREG_TERM_COLLAPSED_FRACTION_B));
    a->erank += 0.5 * (term(ctx, VICREG_TERM_EFFECTIVE_RANK_A) +
                       term(ctx, VICREG_TERM_EFFECTIVE_RANK_B));
    a->steps++;
}

static struct fm_log_row to_row(const struct epoch_acc *a, int epoch, long step, double lr)
{
    double n = a->steps ? (double)a->steps : 1.0;
    struct fm_log_row r = {
        .epoch = epoch, .step = step, .lr = lr, .loss = a->loss / n, .invariance = a->inv / n,
        .variance_a = a->va / n, .variance_b = a->vb / n, .covariance_a = a->ca / n,
        .covariance_b = a->cb / n, .mean_std = a->mean_std / n, .min_std = a->min_std,
        .collapsed = a->collapsed / n, .eff_rank = a->erank / n, .knn = NAN,
    };
    return r;
}

static int run_eval_only(const struct options *o, const struct eval_set *es)
{
    struct fm_mlp enc;
    struct fm_ckpt_info info;
    fm_checkpoint_load(o->eval_only, &enc, &info);
    char ws[128];
    printf("checkpoint %s: encoder %s, seed %llu, %u epochs\n", o->eval_only,
           widths_str(&enc, ws, sizeof ws), (unsigned long long)info.seed, (unsigned)info.epochs);
    if (fm_mlp_in(&enc) != es->pixels)
        fm_die("%s: the encoder takes %zu inputs, the images have %zu pixels", o->eval_only,
               fm_mlp_in(&enc), es->pixels);
    /* The probe's random choices use the seed of the run that saved the
     * checkpoint, so that this reproduces its numbers. */
    struct options eo = *o;
    eo.seed = info.seed;
    struct eval_result r = evaluate("checkpoint", &enc, es, &eo);
    print_table(&r, 1, es);
    make_dir(o->out_dir);
    write_eval_csv(o->out_dir, &r, 1);
    fm_mlp_free(&enc);
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    parse_args(argc, argv, &o);
    const double t_start = fm_now();
    printf("%s: VICReg on Fashion-MNIST with libvicreg %s\n", FM_PROG, vicreg_version_string());
    blas_setup(&o);

    struct fm_dataset ds;
    load_data(&o, &ds);
    const size_t pixels = ds.train.rows * ds.train.cols;

    /* Evaluation sets, as network inputs. */
    struct eval_set es;
    es.n_bank = clamp_count(o.eval_train, ds.train.count);
    es.n_queries = clamp_count(o.eval_test, ds.test.count);
    es.pixels = pixels;
    float *bank_in = fm_malloc(es.n_bank * pixels, sizeof(float));
    float *query_in = fm_malloc(es.n_queries * pixels, sizeof(float));
    fm_pixels_to_input(ds.train.pixels, es.n_bank, pixels, bank_in);
    fm_pixels_to_input(ds.test.pixels, es.n_queries, pixels, query_in);
    es.bank = bank_in;
    es.bank_labels = ds.train.labels;
    es.queries = query_in;
    es.query_labels = ds.test.labels;

    if (o.eval_only) {
        int rc = run_eval_only(&o, &es);
        free(bank_in);
        free(query_in);
        fm_data_free(&ds);
        return rc;
    }

    const size_t n_train = clamp_count(o.train_subset, ds.train.count);
    const size_t n = o.batch;
    if (n > n_train)
        fm_die("--batch %zu is larger than the %zu training images", n, n_train);
    const long steps_per_epoch = (long)(n_train / n);
    const long total_steps = steps_per_epoch * o.epochs;
    const long warmup = (long)(o.warmup * (double)steps_per_epoch);

    /* The networks. */
    struct fm_rng init_rng, shuffle_rng, aug_rng;
    fm_rng_seed(&init_rng, o.seed, 1);
    fm_rng_seed(&shuffle_rng, o.seed, 2);
    fm_rng_seed(&aug_rng, o.seed, 3);
    size_t ew[FM_MAX_LAYERS + 1], pw[FM_MAX_LAYERS + 1];
    ew[0] = pixels;
    memcpy(ew + 1, o.encoder, o.n_encoder * sizeof(size_t));
    pw[0] = o.encoder[o.n_encoder - 1];
    memcpy(pw + 1, o.projector, o.n_projector * sizeof(size_t));
    struct fm_mlp enc, proj, enc_init;
    fm_mlp_init(&enc, o.n_encoder, ew, 0, &init_rng);
    fm_mlp_init(&proj, o.n_projector, pw, 1, &init_rng);
    fm_mlp_copy(&enc_init, &enc);
    const size_t d = fm_mlp_out(&proj), h = fm_mlp_out(&enc);

    vicreg_ctx *ctx;
    check_vicreg(vicreg_ctx_create(&ctx), "vicreg_ctx_create");
    check_vicreg(vicreg_ctx_reserve(ctx, n, d, VICREG_PRECISION_F32), "vicreg_ctx_reserve");
    double lambda, mu, nu, conv;
    check_vicreg(vicreg_ctx_get_param(ctx, VICREG_PARAM_INVARIANCE_COEFF, &lambda), "get_param");
    check_vicreg(vicreg_ctx_get_param(ctx, VICREG_PARAM_VARIANCE_COEFF, &mu), "get_param");
    check_vicreg(vicreg_ctx_get_param(ctx, VICREG_PARAM_COVARIANCE_COEFF, &nu), "get_param");
    check_vicreg(vicreg_ctx_get_param(ctx, VICREG_PARAM_CONVENTION, &conv), "get_param");
    const struct fm_loss_weights lw = {lambda, mu * (conv == VICREG_CONVENTION_PAPER ? 1.0 : 0.5), nu};

    struct fm_optim opt;
    fm_optim_init(&opt, o.optim, o.weight_decay);
    add_params(&opt, &enc);
    add_params(&opt, &proj);

    char es_buf[128], ps_buf[128];
    printf("model: encoder %s (Linear + BatchNorm + ReLU), projector %s (Linear + BN + ReLU, "
           "then Linear); %zu + %zu parameters\n",
           widths_str(&enc, es_buf, sizeof es_buf), widths_str(&proj, ps_buf, sizeof ps_buf),
           fm_mlp_param_count(&enc), fm_mlp_param_count(&proj));
    printf("loss: libvicreg defaults, lambda %g, mu %g, nu %g, %s convention\n", lambda, mu, nu,
           conv == VICREG_CONVENTION_PAPER ? "paper" : "reference");
    printf("training: %zu images, %d epochs of %ld steps, batch %zu (x2 views), %s lr %g "
           "(warm-up %g epoch%s, cosine), weight decay %g, seed %llu\n",
           n_train, o.epochs, steps_per_epoch, n, fm_optim_name(o.optim), o.lr, o.warmup,
           o.warmup == 1.0 ? "" : "s", o.weight_decay, (unsigned long long)o.seed);
    const struct fm_augment aug = o.aug;
    printf("views: crop with shift up to %d px, zoomed crop p %g (area >= %g), flip p %g, "
           "%s for both views; per view: brightness/contrast jitter p %g (+-%g, x[%g, %g]), "
           "noise p %g (std %g), cutout p %g\n",
           aug.shift, aug.crop_p, aug.crop_scale_min, aug.flip_p,
           aug.shared_geometry ? "the same" : "drawn separately", aug.jitter_p, aug.brightness,
           1.0 - aug.contrast, 1.0 + aug.contrast, aug.noise_p, aug.noise_std, aug.cutout_p);
    fflush(stdout);

    /* The kNN curve subset. */
    struct eval_set cs = es;
    cs.n_bank = clamp_count(o.curve_bank, es.n_bank);
    cs.n_queries = clamp_count(o.curve_queries, es.n_queries);
    double raw_curve = NAN;
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

    /* Buffers: the two views stacked (2n x pixels), dL/dZ (2n x d), dL/dH. */
    float *x = fm_malloc(2 * n * pixels, sizeof(float));
    float *dz = fm_malloc(2 * n * d, sizeof(float));
    float *dh = fm_malloc(2 * n * h, sizeof(float));
    uint32_t *order = fm_malloc(n_train, sizeof(uint32_t));
    for (size_t i = 0; i < n_train; i++)
        order[i] = (uint32_t)i;

    struct fm_log_row *rows = fm_calloc((size_t)o.epochs + 1, sizeof *rows);
    size_t n_rows = 0;
    double first_loss = NAN;
    long step = 0;
    double lr = 0.0;
    printf("\n");
    const double t_train = fm_now();
    double train_seconds = 0.0;
    for (int epoch = 1; epoch <= o.epochs; epoch++) {
        struct epoch_acc acc = {0};
        acc.min_std = INFINITY;
        const double t_epoch = fm_now();
        fm_rng_shuffle(&shuffle_rng, order, n_train);
        for (long s = 0; s < steps_per_epoch; s++, step++) {
            for (size_t i = 0; i < n; i++) {
                const uint8_t *img = ds.train.pixels + (size_t)order[(size_t)s * n + i] * pixels;
                fm_augment_pair(&aug, img, ds.train.rows, ds.train.cols, &aug_rng, x + i * pixels,
                                x + (n + i) * pixels);
            }
            const float *hv = fm_mlp_forward_train(&enc, x, 2 * n, 2);
            const float *z = fm_mlp_forward_train(&proj, hv, 2 * n, 2);
            double loss;
            int st = vicreg_loss_f32(ctx, n, d, z, d, z + n * d, d, &loss, dz, d, dz + n * d, d);
            if (st != VICREG_OK)
                fm_die("step %ld: vicreg_loss_f32: %s (%s); try a smaller --lr", step,
                       vicreg_strerror(st), vicreg_status_name(st));
            if (step == 0) {
                /* The first batch, before any update: the start of the curve. */
                struct epoch_acc a0 = {0};
                a0.min_std = INFINITY;
                accumulate(&a0, ctx, loss);
                struct fm_log_row r0 = to_row(&a0, 0, 0, 0.0);
                first_loss = loss;
                if (o.knn_every > 0)
                    r0.knn = curve_knn(&enc, &cs);
                fm_print_row(&r0, o.epochs, -1.0);
                fm_csv_row(csv, &r0);
                rows[n_rows++] = r0;
            }
            accumulate(&acc, ctx, loss);
            fm_mlp_backward(&proj, hv, dz, dh);
            fm_mlp_backward(&enc, x, dh, NULL);
            lr = fm_lr_schedule(o.lr, step, warmup, total_steps);
            fm_optim_step(&opt, lr);
        }
        const double epoch_seconds = fm_now() - t_epoch;
        struct fm_log_row r = to_row(&acc, epoch, step, lr);
        r.steps_per_s = (double)steps_per_epoch / epoch_seconds;
        if (o.knn_every > 0 && (epoch % o.knn_every == 0 || epoch == o.epochs))
            r.knn = curve_knn(&enc, &cs);
        train_seconds = fm_now() - t_train;
        r.elapsed = train_seconds;
        fm_print_row(&r, o.epochs, train_seconds / epoch * (o.epochs - epoch));
        fm_csv_row(csv, &r);
        rows[n_rows++] = r;
    }
    fclose(csv);
    printf("training: %s, %.1f steps/s on average\n",
           fm_format_duration(train_seconds, (char[32]){0}),
           (double)total_steps / train_seconds);

    /* The checkpoint holds the BN statistics of the evaluation bank. */
    fm_mlp_calibrate(&enc, es.bank, es.n_bank);
    fm_mlp_calibrate(&enc_init, es.bank, es.n_bank);
    char *ckpt_path = path_in(o.out_dir, "encoder.ckpt");
    const struct fm_ckpt_info info = {o.seed, (uint32_t)o.epochs};
    fm_checkpoint_save(ckpt_path, &enc, &info);
    printf("checkpoint: %s\n", ckpt_path);

    struct eval_result res[3];
    res[0] = evaluate("trained encoder", &enc, &es, &o);
    res[1] = evaluate("random-init encoder", &enc_init, &es, &o);
    res[2] = evaluate("raw pixels", NULL, &es, &o);
    print_table(res, 3, &es);
    res[0].name = "trained";
    res[1].name = "random_init";
    res[2].name = "raw_pixels";
    write_eval_csv(o.out_dir, res, 3);

    char *svg_path = path_in(o.out_dir, "train.svg");
    char title[160], subtitle[512], note[256];
    snprintf(title, sizeof title, "VICReg with libvicreg %s on %s", vicreg_version_string(),
             ds.synthetic ? "synthetic images" : "Fashion-MNIST");
    snprintf(subtitle, sizeof subtitle,
             "encoder %s, projector %s; %zu images, %d epochs, batch %zu, %s lr %g, seed %llu",
             es_buf, ps_buf, n_train, o.epochs, n, fm_optim_name(o.optim), o.lr,
             (unsigned long long)o.seed);
    snprintf(note, sizeof note,
             "Final evaluation (%zu-image bank, %zu queries): kNN trained %.2f%%, random init "
             "%.2f%%, raw pixels %.2f%%", es.n_bank, es.n_queries, 100.0 * res[0].knn,
             100.0 * res[1].knn, 100.0 * res[2].knn);
    if (fm_svg_write(svg_path, rows, n_rows, &lw, raw_curve, title, subtitle, note) != 0)
        fm_die("cannot write %s", svg_path);
    printf("files: %s, %s/eval.csv, %s\n", csv_path, o.out_dir, svg_path);

    const struct fm_log_row *last = &rows[n_rows - 1];
    printf("loss: %.4f at the first step, %.4f over the last epoch; total time %s\n", first_loss,
           last->loss, fm_format_duration(fm_now() - t_start, (char[32]){0}));

    int status = 0;
    if (o.check) {
        /* The loss must fall, and no projector column may collapse: the
         * smallest std of any column in any step of the last epoch stays
         * above gamma / 10, and the embedding keeps using many directions
         * (effective rank at least a tenth of its maximum, min(n - 1, d)).
         * The fraction of columns below gamma is not a collapse test: with
         * the default coefficients the hinge balances the other terms with
         * most columns a little below gamma in healthy training. */
        const double min_std_floor = 0.1;
        const double rank_floor = 0.1 * (double)(n - 1 < d ? n - 1 : d);
        int fell = last->loss < 0.9 * first_loss;
        int alive = last->min_std > min_std_floor && last->eff_rank > rank_floor;
        printf("check: loss %.4f -> %.4f: %s; smallest column std %.3f (floor %.2f), "
               "effective rank %.1f (floor %.1f): %s\n",
               first_loss, last->loss, fell ? "fell" : "DID NOT FALL", last->min_std,
               min_std_floor, last->eff_rank, rank_floor, alive ? "no collapse" : "COLLAPSE");
        status = fell && alive ? 0 : 3;
    }

    free(rows);
    free(order);
    free(x);
    free(dz);
    free(dh);
    free(csv_path);
    free(ckpt_path);
    free(svg_path);
    fm_optim_free(&opt);
    vicreg_ctx_destroy(ctx);
    fm_mlp_free(&enc);
    fm_mlp_free(&enc_init);
    fm_mlp_free(&proj);
    free(bank_in);
    free(query_in);
    fm_data_free(&ds);
    return status;
}
