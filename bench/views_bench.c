/*
 * views_bench.c - how fast is a views call (vicreg_views_loss_f32/f64), and
 * how close to its BLAS floor?
 *
 * For every shape (n x d) of a sweep, with V views of which the first G are
 * global (VICREG_PARAM_GLOBAL_VIEWS), this program times one
 * vicreg_views_loss_f32/f64() call that returns the loss and the gradients
 * of all V views, and, interleaved with it in the same loop, the "BLAS
 * floor": the SYRK and SYMM calls the library issues per view for that
 * shape and path (bench/floor.h, V times, as bench/vicreg_bench.c's floor
 * makes them twice) and nothing else. The
 * ratio of the two medians is what the library's own passes (centring,
 * variances, the invariance over the weighted pairs of views, hinges,
 * gradient assembly, NaN check, symmetrising the product) cost on top of
 * the unavoidable products.
 *
 * Memory, per shape: the scratch bytes vicreg_ctx_views_scratch_bytes()
 * reports; the extra peak resident memory of the first call on a fresh
 * context (the kernel's peak-RSS counter is reset by writing 5 to
 * /proc/self/clear_refs just before the call, after the inputs, the
 * gradient buffers and the floor's buffers are allocated and touched and
 * the BLAS has run the floor once at the shape; the figure is VmHWM after
 * minus VmRSS before); and the process's peak RSS over the shape's
 * measurement (VmHWM, counting the inputs and every buffer of both sides).
 * With glibc the malloc thresholds are fixed (mallopt) so that every large
 * block is a fresh mapping returned on free, as bench/compare_torch.py does
 * with GLIBC_TUNABLES: the figures are what each shape needs, not what the
 * allocator kept from an earlier shape.
 *
 * Usage: views-bench [--shapes 256x2048,512x8192] [--views V] [--global G]
 *                    [--precision f32|f64|both] [--reps N] [--min-reps N]
 *                    [--min-time SECONDS] [--path auto|covariance|gram]
 *                    [--threads T] [--csv FILE] [--seed N]
 *
 * The default is VICRegL's multi-crop setting: V = 8 views, G = 2 global
 * (2 x 224 px and 6 x 96 px crops), float32. The table goes to stdout;
 * --csv writes one row per (shape, precision, impl), impl "libvicreg" or
 * "blas_floor", with the columns shape, precision, impl and median_s of the
 * other benchmark CSVs plus views and global_views.
 *
 * This program is not installed and is not a test.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cblas.h>

#include "vicreg.h"

#define DEFAULT_SHAPES "256x2048,512x2048,256x8192,512x8192"
#define MAX_SHAPES 64
#define MAX_REPS 100000

#define BENCH_NAME "views-bench"
#include "benchutil.h"
#include "blasinfo.h"
#include "floor.h"

/* A field of /proc/self/status in KiB ("VmRSS", "VmHWM"), or -1. */
static long status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    size_t len = strlen(field);
    long value = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            value = strtol(line + len + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return value;
}

/* Resets the kernel's peak-RSS counter (VmHWM) to the current RSS. */
static int reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return 0;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

/* ---------------------------------------------------------------------
 * One measurement: a shape in one precision
 * --------------------------------------------------------------------- */

struct result {
    struct shape shape;
    int precision;
    int path;              /* as the library took it */
    double flops;          /* of the V SYRK + V SYMM */
    double lib_median, lib_min;
    double floor_median, floor_min;
    double pair_ratio;
    size_t reps;
    size_t scratch_bytes;  /* vicreg_ctx_views_scratch_bytes() */
    double call_peak_kib;  /* extra peak RSS of the first call on a fresh context; -1: unknown */
    double proc_peak_kib;  /* VmHWM over the shape's measurement; -1: unknown */
    double loss;
};

struct options {
    struct shape shapes[MAX_SHAPES];
    size_t shape_count;
    size_t views, global;
    int precisions[2];
    size_t precision_count;
    size_t reps;
    size_t min_reps;
    double min_time;
    int path_param;
    size_t threads; /* VICREG_PARAM_THREADS */
    const char *csv;
    uint64_t seed;
};

/* The buffers of one measurement. The floor reads the input views in place
 * of the library's centred copies (same shapes, leading dimension d, type)
 * and writes its own gradient buffers. */
struct buffers {
    size_t views, n, d, m; /* m: the side of the SYRK result (d or n) */
    int f64;
    void **z;              /* views[v], n x d */
    void **g;              /* library gradients */
    void **fg;             /* floor gradients (SYMM with beta = 1) */
    void *mat;             /* floor SYRK result, m x m, one reused for every view */
};

/* Flops of one view's products on a path (a multiply-add is two flops;
 * SYRK m x m over k: m (m + 1) k; SYMM, side s x s, m x n: 2 m n s). */
static double view_flops(int path, size_t n, size_t d)
{
    double nn = (double)n, dd = (double)d;
    if (path == VICREG_PATH_GRAM)
        return nn * (nn + 1.0) * dd + 2.0 * nn * dd * nn;
    return dd * (dd + 1.0) * nn + 2.0 * nn * dd * dd;
}

/* The floor: per view, the products src/products.inc makes
 * (bench/floor.h), view after view. */
static void floor_call(const struct buffers *b, int path)
{
    const double alpha = floor_alpha(b->n, b->d);
    for (size_t v = 0; v < b->views; v++)
        floor_view(b->f64, path, b->n, b->d, alpha, b->z[v], b->mat, b->fg[v]);
}

static int lib_call(vicreg_ctx *ctx, const struct buffers *b, double *loss)
{
    /* ldz and ldgrad NULL: every view and gradient packed (leading dimension d). */
    if (b->f64)
        return vicreg_views_loss_f64(ctx, b->views, b->n, b->d, (const double *const *)b->z,
                                     NULL, loss, (double *const *)b->g, NULL);
    return vicreg_views_loss_f32(ctx, b->views, b->n, b->d, (const float *const *)b->z, NULL,
                                 loss, (float *const *)b->g, NULL);
}

/* View v = 0.8 x + 0.6 noise_v for one N(0, 1) batch x: unit variance,
 * correlation 0.64 between any two views. */
static void fill_inputs(struct buffers *b, uint64_t seed)
{
    rng_state = seed ^ ((uint64_t)b->n << 32) ^ (uint64_t)b->d ^ ((uint64_t)b->views << 56);
    size_t count = b->n * b->d;
    for (size_t i = 0; i < count; i++) {
        double x = rng_normal();
        for (size_t v = 0; v < b->views; v++) {
            double y = 0.8 * x + 0.6 * rng_normal();
            if (b->f64)
                ((double *)b->z[v])[i] = y;
            else
                ((float *)b->z[v])[i] = (float)y;
        }
    }
}

static vicreg_ctx *new_context(const struct options *o)
{
    vicreg_ctx *ctx;
    if (vicreg_ctx_create(&ctx) != VICREG_OK)
        die("vicreg_ctx_create failed");
    if (vicreg_ctx_set_param(ctx, VICREG_PARAM_PATH, o->path_param) != VICREG_OK)
        die("cannot set the path parameter");
    if (vicreg_ctx_set_param(ctx, VICREG_PARAM_GLOBAL_VIEWS, (double)o->global) != VICREG_OK)
        die("cannot set VICREG_PARAM_GLOBAL_VIEWS (a libvicreg older than 1.2?)");
    if (vicreg_ctx_set_param(ctx, VICREG_PARAM_THREADS, (double)o->threads) != VICREG_OK)
        die("cannot set VICREG_PARAM_THREADS (a libvicreg older than 1.3?)");
    return ctx;
}

static void fail_status(struct shape sh, const char *what, int status)
{
    fprintf(stderr, "views-bench: %zux%zu: %s: %s\n", sh.n, sh.d, what, vicreg_strerror(status));
    exit(2);
}

static void measure(const struct options *o, struct shape sh, int precision, struct result *r)
{
    struct buffers b = { 0 };
    b.views = o->views;
    b.n = sh.n;
    b.d = sh.d;
    b.f64 = precision == VICREG_PRECISION_F64;
    size_t elem = b.f64 ? sizeof(double) : sizeof(float);
    r->shape = sh;
    r->precision = precision;
    r->call_peak_kib = r->proc_peak_kib = -1.0;

    /* The peak over the shape starts here (earlier shapes' buffers are freed). */
    int peak_ok = reset_peak();

    vicreg_ctx *ctx = new_context(o);
    int status = vicreg_ctx_views_scratch_bytes(ctx, b.views, sh.n, sh.d, precision,
                                                &r->scratch_bytes);
    if (status != VICREG_OK)
        fail_status(sh, "vicreg_ctx_views_scratch_bytes", status);

    size_t nd = sh.n * sh.d;
    b.z = calloc(b.views, sizeof *b.z);
    b.g = calloc(b.views, sizeof *b.g);
    b.fg = calloc(b.views, sizeof *b.fg);
    if (!b.z || !b.g || !b.fg)
        die("out of memory");
    for (size_t v = 0; v < b.views; v++) {
        b.z[v] = xalloc(nd * elem);
        b.g[v] = xalloc(nd * elem);
        b.fg[v] = xalloc(nd * elem);
    }
    fill_inputs(&b, o->seed);

    /* The documented automatic rule (vicreg.h, VICREG_PATH_AUTO), checked
     * against what the first call reports. The floor runs once before the
     * library's first call, so that the BLAS's own buffers are warm at this
     * shape and the peak below is the library's alone. */
    int path = o->path_param != VICREG_PATH_AUTO ? o->path_param
               : sh.n < sh.d                     ? VICREG_PATH_GRAM
                                                 : VICREG_PATH_COVARIANCE;
    b.m = path == VICREG_PATH_GRAM ? sh.n : sh.d;
    b.mat = xalloc(b.m * b.m * elem);
    floor_call(&b, path);

    double loss = 0.0, path_used = 0.0;
    long rss0 = status_kib("VmRSS");
    int call_ok = reset_peak();
    status = lib_call(ctx, &b, &loss); /* allocates the scratch */
    long hwm1 = status_kib("VmHWM");
    if (status != VICREG_OK)
        fail_status(sh, "vicreg_views_loss", status);
    if (call_ok && rss0 >= 0 && hwm1 >= 0)
        r->call_peak_kib = (double)(hwm1 - rss0);
    if (vicreg_ctx_get_term(ctx, VICREG_TERM_PATH_USED, &path_used) != VICREG_OK)
        die("vicreg_ctx_get_term(PATH_USED) after a views call failed");
    if ((int)path_used != path) {
        fprintf(stderr, "views-bench: %zux%zu: the library took path %d, the floor assumed %d\n",
                sh.n, sh.d, (int)path_used, path);
        exit(2);
    }
    r->path = path;
    r->loss = loss;

    size_t cap = o->reps ? o->reps : 64;
    double *t_lib = malloc(cap * sizeof *t_lib);
    double *t_floor = malloc(cap * sizeof *t_floor);
    double *ratio = malloc(cap * sizeof *ratio);
    if (!t_lib || !t_floor || !ratio)
        die("out of memory");
    size_t count = 0;
    double lib_total = 0.0;
    for (;;) {
        if (o->reps) {
            if (count == o->reps)
                break;
        } else if ((count >= o->min_reps && lib_total >= o->min_time) || count == MAX_REPS) {
            break;
        }
        if (count == cap) {
            cap *= 2;
            t_lib = realloc(t_lib, cap * sizeof *t_lib);
            t_floor = realloc(t_floor, cap * sizeof *t_floor);
            ratio = realloc(ratio, cap * sizeof *ratio);
            if (!t_lib || !t_floor || !ratio)
                die("out of memory");
        }
        /* Library and floor alternate, and which goes first alternates. */
        double tl = 0.0, tf = 0.0;
        for (int k = 0; k < 2; k++) {
            int do_lib = (k == 0) == (count % 2 == 0);
            double t0 = now_s();
            if (do_lib) {
                if (lib_call(ctx, &b, &loss) != VICREG_OK)
                    die("a views call failed during timing");
                tl = now_s() - t0;
            } else {
                floor_call(&b, path);
                tf = now_s() - t0;
            }
        }
        t_lib[count] = tl;
        t_floor[count] = tf;
        ratio[count] = tl / tf;
        lib_total += tl;
        count++;
    }
    long hwm = status_kib("VmHWM");
    if (peak_ok && hwm >= 0)
        r->proc_peak_kib = (double)hwm;

    r->flops = (double)b.views * view_flops(path, sh.n, sh.d);
    r->reps = count;
    r->lib_min = minimum(t_lib, count);
    r->floor_min = minimum(t_floor, count);
    r->lib_median = median(t_lib, count);
    r->floor_median = median(t_floor, count);
    r->pair_ratio = median(ratio, count);

    free(t_lib);
    free(t_floor);
    free(ratio);
    for (size_t v = 0; v < b.views; v++) {
        free(b.z[v]);
        free(b.g[v]);
        free(b.fg[v]);
    }
    free(b.z);
    free(b.g);
    free(b.fg);
    free(b.mat);
    vicreg_ctx_destroy(ctx);
}

/* ---------------------------------------------------------------------
 * Output
 * --------------------------------------------------------------------- */

static const char *precision_name(int p)
{
    return p == VICREG_PRECISION_F64 ? "f64" : "f32";
}

static const char *path_name(int path)
{
    return path == VICREG_PATH_GRAM ? "gram" : "cov";
}

static double mib(double bytes)
{
    return bytes / (1024.0 * 1024.0);
}

/* The load averages of /proc/loadavg, on a line of the header. */
static void print_load(const char *when)
{
    char line[128] = "unknown";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fgets(line, sizeof line, f)) {
            /* the first three fields */
            char *p = line;
            for (int k = 0; k < 3 && p; k++)
                p = strchr(p + 1, ' ');
            if (p)
                *p = '\0';
        }
        fclose(f);
    }
    line[strcspn(line, "\n")] = '\0';
    printf("# load average at %s: %s\n", when, line);
}

static void print_header(const struct options *o, const char *cpu)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("# views-bench: libvicreg %s, one call = vicreg_views_loss with V = %zu views "
           "(G = %zu global): loss + all V gradients\n",
           vicreg_version_string(), o->views, o->global);
    printf("# CPU: %s (%ld online)\n", cpu, cpus);
    print_blas();
    printf("# library threads (VICREG_PARAM_THREADS): %zu\n", o->threads);
    print_load("start");
    printf("# time: median over reps (CLOCK_MONOTONIC) after one warm-up call; library and\n"
           "#   floor calls alternate in one loop. floor = the library's own BLAS calls\n"
           "#   (src/blas.h), per view one SYRK and one SYMM (same shapes, sides, ld, alpha, beta).\n");
    printf("# flops: a multiply-add counts 2; per view, cov path: SYRK d(d+1)n + SYMM 2nd^2,\n"
           "#   gram path: SYRK n(n+1)d + SYMM 2n^2d; GFLOP counts all V views.\n");
    printf("# ratio = lib median / floor median; pair = median over reps of lib/floor of one pair.\n");
    printf("# scratch = vicreg_ctx_views_scratch_bytes; call_pk = extra peak RSS (VmHWM - VmRSS)\n"
           "#   of the first call on a fresh context; proc_pk = process peak RSS (VmHWM) over the\n"
           "#   shape, inputs and all buffers of both sides included. MiB.\n");
    printf("%-10s %-4s %-4s %9s %10s %8s %10s %8s %6s %6s %5s %8s %8s %8s\n", "shape", "prec",
           "path", "GFLOP", "lib_ms", "lib_GF/s", "floor_ms", "flr_GF/s", "ratio", "pair", "reps",
           "scratch", "call_pk", "proc_pk");
}

static void fmt_kib(char *out, size_t size, double kib)
{
    if (kib < 0)
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%.2f", kib / 1024.0);
}

static void print_row(const struct result *r)
{
    char shape[48], call[32], proc[32];
    snprintf(shape, sizeof shape, "%zux%zu", r->shape.n, r->shape.d);
    fmt_kib(call, sizeof call, r->call_peak_kib);
    fmt_kib(proc, sizeof proc, r->proc_peak_kib);
    printf("%-10s %-4s %-4s %9.3f %10.3f %8.1f %10.3f %8.1f %6.3f %6.3f %5zu %8.2f %8s %8s\n",
           shape, precision_name(r->precision), path_name(r->path), r->flops * 1e-9,
           r->lib_median * 1e3, r->flops / r->lib_median * 1e-9, r->floor_median * 1e3,
           r->flops / r->floor_median * 1e-9, r->lib_median / r->floor_median, r->pair_ratio,
           r->reps, mib((double)r->scratch_bytes), call, proc);
    fflush(stdout);
}

static void csv_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void write_csv(const char *file, const struct options *o, const struct result *rs,
                      size_t count, const char *cpu)
{
    FILE *f = fopen(file, "w");
    if (!f) {
        fprintf(stderr, "views-bench: cannot write %s: %s\n", file, strerror(errno));
        exit(2);
    }
    fprintf(f, "shape,n,d,views,global_views,precision,impl,path,flops,median_s,min_s,reps,"
               "gflops,ratio_to_floor,pair_ratio,scratch_bytes,call_peak_kib,proc_peak_kib,"
               "blas_threads,loss,cpu\n");
    for (size_t i = 0; i < count; i++) {
        const struct result *r = &rs[i];
        for (int impl = 0; impl < 2; impl++) {
            double med = impl ? r->floor_median : r->lib_median;
            double mn = impl ? r->floor_min : r->lib_min;
            fprintf(f, "%zux%zu,%zu,%zu,%zu,%zu,%s,%s,%s,%.0f,%.9g,%.9g,%zu,%.4g,%.6g,%.6g,%zu,",
                    r->shape.n, r->shape.d, r->shape.n, r->shape.d, o->views, o->global,
                    precision_name(r->precision), impl ? "blas_floor" : "libvicreg",
                    path_name(r->path), r->flops, med, mn, r->reps, r->flops / med * 1e-9,
                    med / r->floor_median, impl ? 1.0 : r->pair_ratio,
                    impl ? (size_t)0 : r->scratch_bytes);
            if (!impl && r->call_peak_kib >= 0)
                fprintf(f, "%.0f", r->call_peak_kib);
            fputc(',', f);
            if (r->proc_peak_kib >= 0)
                fprintf(f, "%.0f", r->proc_peak_kib);
            fprintf(f, ",%d,", blas_threads());
            if (!impl)
                fprintf(f, "%.17g", r->loss);
            fputc(',', f);
            csv_field(f, cpu);
            fputc('\n', f);
        }
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "views-bench: cannot write %s: %s\n", file, strerror(errno));
        exit(2);
    }
}

/* ---------------------------------------------------------------------
 * Command line
 * --------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: views-bench [options]\n"
            "  --shapes LIST        comma-separated NxD shapes (rows x features) of each\n"
            "                       view; default " DEFAULT_SHAPES "\n"
            "  --views V            views per call, 1 to VICREG_MAX_VIEWS (default 8)\n"
            "  --global G           global views, VICREG_PARAM_GLOBAL_VIEWS: 0 (all) to V\n"
            "  --threads T          the library's VICREG_PARAM_THREADS (default 1)\n"
            "                       (default 2)\n"
            "  --precision P        f32, f64 or both (default f32)\n"
            "  --reps N             exactly N timed repetitions per shape (default:\n"
            "                       adaptive, at least --min-reps and --min-time)\n"
            "  --min-reps N         adaptive mode: at least N repetitions (default 5)\n"
            "  --min-time S         adaptive mode: at least S seconds of library time\n"
            "                       per shape and precision (default 1.0)\n"
            "  --path P             auto (default), covariance or gram: VICREG_PARAM_PATH\n"
            "  --csv FILE           also write the measurements as CSV\n"
            "  --seed N             seed of the input generator (default 1)\n"
            "  --help               this text\n");
}

static const char *next_arg(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "views-bench: %s needs a value\n", argv[*i]);
        exit(2);
    }
    return argv[++*i];
}

int main(int argc, char **argv)
{
    struct options o = { 0 };
    o.views = 8;
    o.global = 2;
    o.min_reps = 5;
    o.min_time = 1.0;
    o.path_param = VICREG_PATH_AUTO;
    o.threads = 1;
    o.seed = 1;
    o.precisions[0] = VICREG_PRECISION_F32;
    o.precision_count = 1;
    o.shape_count = parse_shapes(DEFAULT_SHAPES, o.shapes, MAX_SHAPES);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--shapes") == 0) {
            o.shape_count = parse_shapes(next_arg(argc, argv, &i), o.shapes, MAX_SHAPES);
        } else if (strcmp(a, "--views") == 0) {
            if (!parse_size(next_arg(argc, argv, &i), &o.views) || o.views == 0 ||
                o.views > VICREG_MAX_VIEWS)
                die("--views takes a count from 1 to VICREG_MAX_VIEWS (64)");
        } else if (strcmp(a, "--threads") == 0) {
            if (!parse_size(next_arg(argc, argv, &i), &o.threads) || o.threads < 1 ||
                o.threads > 64)
                die("--threads takes 1 to 64");
        } else if (strcmp(a, "--global") == 0) {
            if (!parse_size(next_arg(argc, argv, &i), &o.global) || o.global > VICREG_MAX_VIEWS)
                die("--global takes a count from 0 to the number of views");
        } else if (strcmp(a, "--precision") == 0) {
            const char *v = next_arg(argc, argv, &i);
            if (strcmp(v, "f32") == 0) {
                o.precisions[0] = VICREG_PRECISION_F32;
                o.precision_count = 1;
            } else if (strcmp(v, "f64") == 0) {
                o.precisions[0] = VICREG_PRECISION_F64;
                o.precision_count = 1;
            } else if (strcmp(v, "both") == 0) {
                o.precisions[0] = VICREG_PRECISION_F32;
                o.precisions[1] = VICREG_PRECISION_F64;
                o.precision_count = 2;
            } else {
                die("--precision takes f32, f64 or both");
            }
        } else if (strcmp(a, "--reps") == 0) {
            if (!parse_size(next_arg(argc, argv, &i), &o.reps) || o.reps == 0 || o.reps > MAX_REPS)
                die("--reps takes a count from 1 to 100000");
        } else if (strcmp(a, "--min-reps") == 0) {
            if (!parse_size(next_arg(argc, argv, &i), &o.min_reps) || o.min_reps == 0 ||
                o.min_reps > MAX_REPS)
                die("--min-reps takes a count from 1 to 100000");
        } else if (strcmp(a, "--min-time") == 0) {
            char *end;
            const char *v = next_arg(argc, argv, &i);
            o.min_time = strtod(v, &end);
            if (end == v || *end || !(o.min_time >= 0.0 && o.min_time <= 3600.0))
                die("--min-time takes seconds from 0 to 3600");
        } else if (strcmp(a, "--path") == 0) {
            const char *v = next_arg(argc, argv, &i);
            if (strcmp(v, "auto") == 0)
                o.path_param = VICREG_PATH_AUTO;
            else if (strcmp(v, "covariance") == 0 || strcmp(v, "cov") == 0)
                o.path_param = VICREG_PATH_COVARIANCE;
            else if (strcmp(v, "gram") == 0)
                o.path_param = VICREG_PATH_GRAM;
            else
                die("--path takes auto, covariance or gram");
        } else if (strcmp(a, "--csv") == 0) {
            o.csv = next_arg(argc, argv, &i);
        } else if (strcmp(a, "--seed") == 0) {
            size_t seed;
            if (!parse_size(next_arg(argc, argv, &i), &seed))
                die("--seed takes a non-negative integer");
            o.seed = (uint64_t)seed;
        } else {
            fprintf(stderr, "views-bench: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (o.global > o.views)
        die("--global must not exceed --views");

#if defined(__GLIBC__)
    /* Fixed thresholds: every large block is a fresh mapping, returned to
     * the system on free (glibc otherwise raises them after the first
     * large free and keeps freed blocks resident). */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024);
#endif

    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    print_header(&o, cpu);

    size_t total = o.shape_count * o.precision_count;
    struct result *results = calloc(total, sizeof *results);
    if (!results)
        die("out of memory");
    size_t done = 0;
    for (size_t p = 0; p < o.precision_count; p++)
        for (size_t s = 0; s < o.shape_count; s++) {
            measure(&o, o.shapes[s], o.precisions[p], &results[done]);
            print_row(&results[done]);
            done++;
        }
    print_load("end");
    if (o.csv)
        write_csv(o.csv, &o, results, done, cpu);
    free(results);
    return 0;
}
