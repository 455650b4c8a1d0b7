/*
 * vicreg_bench.c - how fast is libvicreg, and how close to its BLAS floor?
 *
 * For every shape (n x d) and precision of a sweep this program times one
 * vicreg_loss_f32/f64() call that returns the loss and both gradients, and,
 * interleaved with it in the same loop, the "BLAS floor": exactly the SYRK
 * and SYMM calls that the library issues for that shape and path, through
 * its own BLAS shim (bench/floor.h: one SYRK and one SYMM per branch) and
 * nothing else. The ratio of the two medians is what the library's own
 * passes (centring, variances, invariance, hinge, gradient assembly, NaN
 * check) cost on top of the unavoidable products.
 *
 * Usage: vicreg-bench [--shapes 256x256,1024x1024] [--precision f32|f64|both]
 *                     [--reps N] [--min-time SECONDS] [--path auto|covariance|gram]
 *                     [--threads T] [--peak-size N] [--csv FILE] [--seed N]
 *
 * --threads sets the library's VICREG_PARAM_THREADS (its own threads for
 * the streaming passes; the BLAS keeps its own count, OPENBLAS_NUM_THREADS).
 * Before the sweep it times a square N x N x N GEMM (default N = 4096) in
 * each precision measured, the BLAS's speed on a product that large; each
 * row's GF/s is also given as a fraction of it (lib_peak, flr_peak).
 *
 * The output is a table on stdout; --csv writes the same measurements as one
 * row per (shape, precision, impl), impl being "libvicreg" or "blas_floor",
 * with the columns shape, precision, impl and median_s that bench/plot_svg.py
 * (and the other comparison scripts) share.
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

#include <cblas.h>

#include "vicreg.h"

#define DEFAULT_SHAPES "256x256,256x2048,1024x1024,2048x2048,512x8192,2048x8192,4096x128"
#define MAX_SHAPES 64
#define MAX_REPS 100000

#define BENCH_NAME "vicreg-bench"
#include "benchutil.h"
#include "blasinfo.h"
#include "floor.h"

/* ---------------------------------------------------------------------
 * One measurement: a shape in one precision
 * --------------------------------------------------------------------- */

struct result {
    struct shape shape;
    int precision;        /* VICREG_PRECISION_F32 or _F64 */
    int path;             /* VICREG_PATH_COVARIANCE or _GRAM, as the library took it */
    double flops;         /* of the path's 2 SYRK + 2 SYMM */
    double lib_median, lib_min;
    double floor_median, floor_min;
    double pair_ratio;    /* median over repetitions of lib / floor of the same pair */
    size_t reps;
    size_t scratch_bytes;
    double loss;
};

/* The buffers of one measurement. The floor reads the input batches za and
 * zb in place of the library's centred copies: same shapes, same leading
 * dimension (d; the bench passes packed batches), same element type. */
struct buffers {
    size_t n, d, m; /* m: the side of the SYRK result (d or n) */
    int f64;
    void *za, *zb;           /* inputs, n x d */
    void *ga, *gb;           /* library gradients, n x d */
    void *fga, *fgb;         /* floor gradients (SYMM with beta = 1), n x d */
    void *mat;               /* floor SYRK result, m x m (one, reused, as in the library) */
};

/* Flops of the products of one path, for both branches: a multiply-add is
 * two flops; SYRK with an m x m result over k costs m (m + 1) k, SYMM
 * of an m x n result with an s x s symmetric side costs 2 m n s (as the
 * GEMM it stands for). */
static double path_flops(int path, size_t n, size_t d)
{
    double nn = (double)n, dd = (double)d;
    if (path == VICREG_PATH_GRAM)
        return 2.0 * (nn * (nn + 1.0) * dd + 2.0 * nn * dd * nn);
    return 2.0 * (dd * (dd + 1.0) * nn + 2.0 * nn * dd * dd);
}

/* The BLAS floor: the calls src/products.inc makes for both branches, in
 * the library's order (branch a, then branch b), without anything in
 * between. */
static void floor_call(const struct buffers *b, int path)
{
    const double alpha = floor_alpha(b->n, b->d);
    for (int br = 0; br < 2; br++)
        floor_view(b->f64, path, b->n, b->d, alpha, br ? b->zb : b->za, b->mat,
                   br ? b->fgb : b->fga);
}

static int lib_call(vicreg_ctx *ctx, const struct buffers *b, double *loss)
{
    if (b->f64)
        return vicreg_loss_f64(ctx, b->n, b->d, b->za, b->d, b->zb, b->d, loss,
                               b->ga, b->d, b->gb, b->d);
    return vicreg_loss_f32(ctx, b->n, b->d, b->za, b->d, b->zb, b->d, loss,
                           b->ga, b->d, b->gb, b->d);
}

/* Fills za with N(0, 1) values and zb with a second view of it:
 * zb = 0.8 za + 0.6 noise, also of unit variance. */
static void fill_inputs(struct buffers *b, uint64_t seed)
{
    rng_state = seed ^ ((uint64_t)b->n << 32) ^ (uint64_t)b->d;
    fill_two_views(b->f64, b->n * b->d, b->za, b->zb);
}

struct options {
    struct shape shapes[MAX_SHAPES];
    size_t shape_count;
    int precisions[2];
    size_t precision_count;
    size_t reps;          /* 0: adaptive */
    size_t min_reps;
    double min_time;
    int path_param;
    int threads;          /* VICREG_PARAM_THREADS */
    size_t peak_size;     /* side of the reference GEMM; 0: none */
    double peak_gflops[2]; /* its GF/s in f32, f64 (0: not measured) */
    const char *csv;
    uint64_t seed;
};

static void measure(const struct options *o, struct shape sh, int precision, struct result *r)
{
    struct buffers b = { 0 };
    b.n = sh.n;
    b.d = sh.d;
    b.f64 = precision == VICREG_PRECISION_F64;
    size_t elem = b.f64 ? sizeof(double) : sizeof(float);

    vicreg_ctx *ctx;
    if (vicreg_ctx_create(&ctx) != VICREG_OK)
        die("vicreg_ctx_create failed");
    if (vicreg_ctx_set_param(ctx, VICREG_PARAM_PATH, o->path_param) != VICREG_OK)
        die("cannot set the path parameter");
    if (vicreg_ctx_set_param(ctx, VICREG_PARAM_THREADS, o->threads) != VICREG_OK)
        die("cannot set VICREG_PARAM_THREADS");
    int status = vicreg_ctx_scratch_bytes(ctx, sh.n, sh.d, precision, &r->scratch_bytes);
    if (status != VICREG_OK) {
        fprintf(stderr, "vicreg-bench: %zux%zu: %s\n", sh.n, sh.d, vicreg_strerror(status));
        exit(2);
    }

    size_t nd = sh.n * sh.d;
    b.za = xalloc(nd * elem);
    b.zb = xalloc(nd * elem);
    b.ga = xalloc(nd * elem);
    b.gb = xalloc(nd * elem);
    b.fga = xalloc(nd * elem);
    b.fgb = xalloc(nd * elem);
    fill_inputs(&b, o->seed);

    /* Warm-up: the library allocates its scratch; both sides fault in their
     * pages and start the BLAS threads. It also tells which path was taken. */
    double loss = 0.0, path_used = 0.0;
    status = lib_call(ctx, &b, &loss);
    if (status != VICREG_OK) {
        fprintf(stderr, "vicreg-bench: %zux%zu: %s\n", sh.n, sh.d, vicreg_strerror(status));
        exit(2);
    }
    if (vicreg_ctx_get_term(ctx, VICREG_TERM_PATH_USED, &path_used) != VICREG_OK)
        die("vicreg_ctx_get_term(PATH_USED) failed");
    r->path = (int)path_used;
    r->loss = loss;
    b.m = r->path == VICREG_PATH_GRAM ? sh.n : sh.d;
    b.mat = xalloc(b.m * b.m * elem);
    floor_call(&b, r->path);

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
        /* Library and floor alternate, and which of them goes first
         * alternates too, so that noise and cache state hit both alike. */
        double tl = 0.0, tf = 0.0;
        for (int k = 0; k < 2; k++) {
            int do_lib = (k == 0) == (count % 2 == 0);
            double t0 = now_s();
            if (do_lib) {
                if (lib_call(ctx, &b, &loss) != VICREG_OK)
                    die("a loss call failed during timing");
                tl = now_s() - t0;
            } else {
                floor_call(&b, r->path);
                tf = now_s() - t0;
            }
        }
        t_lib[count] = tl;
        t_floor[count] = tf;
        ratio[count] = tl / tf;
        lib_total += tl;
        count++;
    }

    r->shape = sh;
    r->precision = precision;
    r->flops = path_flops(r->path, sh.n, sh.d);
    r->reps = count;
    r->lib_min = minimum(t_lib, count);
    r->floor_min = minimum(t_floor, count);
    r->lib_median = median(t_lib, count);
    r->floor_median = median(t_floor, count);
    r->pair_ratio = median(ratio, count);

    free(t_lib);
    free(t_floor);
    free(ratio);
    free(b.za);
    free(b.zb);
    free(b.ga);
    free(b.gb);
    free(b.fga);
    free(b.fgb);
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

/* GF/s of a square size^3 GEMM (beta = 0), median of 3 after a warm-up:
 * the reference for what the BLAS reaches on a large product. */
static double peak_gflops(size_t size, int f64)
{
    const size_t count = size * size, elem = f64 ? sizeof(double) : sizeof(float);
    void *a = xalloc(count * elem), *b = xalloc(count * elem), *c = xalloc(count * elem);
    for (size_t i = 0; i < count; i++) {
        if (f64) {
            ((double *)a)[i] = rng_normal();
            ((double *)b)[i] = rng_normal();
        } else {
            ((float *)a)[i] = (float)rng_normal();
            ((float *)b)[i] = (float)rng_normal();
        }
    }
    const int m = (int)size;
    double t[4];
    for (int r = 0; r < 4; r++) {
        double t0 = now_s();
        if (f64)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0, a, m, b, m,
                        0.0, c, m);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0f, a, m, b, m,
                        0.0f, c, m);
        t[r] = now_s() - t0;
    }
    free(a);
    free(b);
    free(c);
    return 2.0 * (double)size * (double)size * (double)size / median(t + 1, 3) * 1e-9;
}

static void print_header(const char *cpu, const struct options *o)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("# vicreg-bench: libvicreg %s, one call = loss + dL/dZa + dL/dZb\n",
           vicreg_version_string());
    printf("# CPU: %s (%ld online)\n", cpu, cpus);
    print_blas();
    printf("# time: median over reps (CLOCK_MONOTONIC) after one warm-up call; library and\n"
           "#   floor calls alternate in one loop. floor = the library's own BLAS calls\n"
           "#   (src/blas.h), per branch one SYRK and one SYMM (same shapes, sides, ld, alpha, beta).\n");
    printf("# flops: a multiply-add counts 2; SYRK m x m over k = m(m+1)k, SYMM m x n with an s x s side = 2mns;\n"
           "#   per branch, cov path: SYRK d(d+1)n + SYMM 2nd^2, gram path: SYRK n(n+1)d + SYMM 2n^2d;\n"
           "#   GFLOP counts both branches. GF/s = GFLOP / median time.\n");
    printf("# ratio = lib median / floor median; pair = median over reps of lib/floor of one pair.\n");
    printf("# library threads (VICREG_PARAM_THREADS): %d\n", o->threads);
    if (o->peak_size)
        printf("# large GEMM %zu^3 (lib_peak, flr_peak = GF/s / its GF/s): sgemm %.1f GF/s, "
               "dgemm %.1f GF/s (0: precision not measured)\n",
               o->peak_size, o->peak_gflops[0], o->peak_gflops[1]);
    printf("%-10s %-4s %-4s %9s %11s %8s %11s %8s %6s %6s %6s %11s %8s %8s\n",
           "shape", "prec", "path", "GFLOP", "lib_ms", "lib_GF/s", "floor_ms", "flr_GF/s",
           "ratio", "pair", "reps", "scratch_MiB", "lib_peak", "flr_peak");
}

static void print_row(const struct result *r, const struct options *o)
{
    char shape[48];
    snprintf(shape, sizeof shape, "%zux%zu", r->shape.n, r->shape.d);
    const double peak = o->peak_gflops[r->precision == VICREG_PRECISION_F64];
    const double lib_gf = r->flops / r->lib_median * 1e-9;
    const double floor_gf = r->flops / r->floor_median * 1e-9;
    printf("%-10s %-4s %-4s %9.3f %11.3f %8.1f %11.3f %8.1f %6.3f %6.3f %6zu %11.2f %8.3f %8.3f\n",
           shape, precision_name(r->precision), path_name(r->path), r->flops * 1e-9,
           r->lib_median * 1e3, lib_gf, r->floor_median * 1e3, floor_gf,
           r->lib_median / r->floor_median, r->pair_ratio, r->reps,
           (double)r->scratch_bytes / (1024.0 * 1024.0), peak > 0 ? lib_gf / peak : 0.0,
           peak > 0 ? floor_gf / peak : 0.0);
    fflush(stdout);
}

/* Writes s as one CSV field (quoted when it needs to be). */
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

static void write_csv(const char *file, const struct result *rs, size_t count, const char *cpu,
                      const struct options *o)
{
    FILE *f = fopen(file, "w");
    if (!f) {
        fprintf(stderr, "vicreg-bench: cannot write %s: %s\n", file, strerror(errno));
        exit(2);
    }
    fprintf(f, "shape,n,d,precision,impl,path,flops,median_s,min_s,reps,gflops,"
               "ratio_to_floor,pair_ratio,scratch_bytes,blas_threads,lib_threads,peak_gflops,"
               "cpu\n");
    for (size_t i = 0; i < count; i++) {
        const struct result *r = &rs[i];
        for (int impl = 0; impl < 2; impl++) {
            double med = impl ? r->floor_median : r->lib_median;
            double mn = impl ? r->floor_min : r->lib_min;
            fprintf(f, "%zux%zu,%zu,%zu,%s,%s,%s,%.0f,%.9g,%.9g,%zu,%.4g,%.6g,%.6g,%zu,%d,%d,%.4g,",
                    r->shape.n, r->shape.d, r->shape.n, r->shape.d,
                    precision_name(r->precision), impl ? "blas_floor" : "libvicreg",
                    path_name(r->path), r->flops, med, mn, r->reps, r->flops / med * 1e-9,
                    med / r->floor_median, impl ? 1.0 : r->pair_ratio,
                    impl ? (size_t)0 : r->scratch_bytes, blas_threads(), o->threads,
                    o->peak_gflops[r->precision == VICREG_PRECISION_F64]);
            csv_field(f, cpu);
            fputc('\n', f);
        }
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "vicreg-bench: cannot write %s: %s\n", file, strerror(errno));
        exit(2);
    }
}

/* ---------------------------------------------------------------------
 * Command line
 * --------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vicreg-bench [options]\n"
            "  --shapes LIST        comma-separated NxD shapes (rows x features);\n"
            "                       default " DEFAULT_SHAPES "\n"
            "  --precision P        f32, f64 or both (default both)\n"
            "  --reps N             exactly N timed repetitions per shape (default:\n"
            "                       adaptive, at least --min-reps and --min-time)\n"
            "  --min-reps N         adaptive mode: at least N repetitions (default 5)\n"
            "  --min-time S         adaptive mode: at least S seconds of library time\n"
            "                       per shape and precision (default 1.0)\n"
            "  --path P             auto (default), covariance or gram: the library's\n"
            "                       VICREG_PARAM_PATH\n"
            "  --threads T          the library's VICREG_PARAM_THREADS (default 1)\n"
            "  --peak-size N        side of the reference GEMM timed first (default\n"
            "                       4096; 0: none)\n"
            "  --csv FILE           also write the measurements as CSV\n"
            "  --seed N             seed of the input generator (default 1)\n"
            "  --print-blas-core    print OpenBLAS's kernel set (none: another BLAS), exit\n"
            "  --help               this text\n");
}

static const char *next_arg(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "vicreg-bench: %s needs a value\n", argv[*i]);
        exit(2);
    }
    return argv[++*i];
}

int main(int argc, char **argv)
{
    struct options o = { 0 };
    o.min_reps = 5;
    o.min_time = 1.0;
    o.path_param = VICREG_PATH_AUTO;
    o.threads = 1;
    o.peak_size = 4096;
    o.seed = 1;
    o.precisions[0] = VICREG_PRECISION_F32;
    o.precisions[1] = VICREG_PRECISION_F64;
    o.precision_count = 2;
    o.shape_count = parse_shapes(DEFAULT_SHAPES, o.shapes, MAX_SHAPES);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--print-blas-core") == 0) {
            puts(blas_core());
            return 0;
        } else if (strcmp(a, "--shapes") == 0) {
            o.shape_count = parse_shapes(next_arg(argc, argv, &i), o.shapes, MAX_SHAPES);
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
        } else if (strcmp(a, "--threads") == 0) {
            size_t t;
            if (!parse_size(next_arg(argc, argv, &i), &t) || t < 1 || t > 64)
                die("--threads takes 1 to 64");
            o.threads = (int)t;
        } else if (strcmp(a, "--peak-size") == 0) {
            if (!parse_size(next_arg(argc, argv, &i), &o.peak_size) || o.peak_size > 16384)
                die("--peak-size takes 0 to 16384");
        } else if (strcmp(a, "--csv") == 0) {
            o.csv = next_arg(argc, argv, &i);
        } else if (strcmp(a, "--seed") == 0) {
            size_t seed;
            if (!parse_size(next_arg(argc, argv, &i), &seed))
                die("--seed takes a non-negative integer");
            o.seed = (uint64_t)seed;
        } else {
            fprintf(stderr, "vicreg-bench: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }

    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    rng_state = o.seed;
    for (size_t p = 0; p < o.precision_count && o.peak_size; p++)
        o.peak_gflops[o.precisions[p] == VICREG_PRECISION_F64] =
            peak_gflops(o.peak_size, o.precisions[p] == VICREG_PRECISION_F64);
    print_header(cpu, &o);

    size_t total = o.shape_count * o.precision_count;
    struct result *results = calloc(total, sizeof *results);
    if (!results)
        die("out of memory");
    size_t done = 0;
    for (size_t p = 0; p < o.precision_count; p++)
        for (size_t s = 0; s < o.shape_count; s++) {
            measure(&o, o.shapes[s], o.precisions[p], &results[done]);
            print_row(&results[done], &o);
            done++;
        }
    if (o.csv)
        write_csv(o.csv, results, done, cpu, &o);
    free(results);
    return 0;
}
