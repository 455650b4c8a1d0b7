/*
 * blas_in_situ.c - where a two-view call's time above its BLAS floor goes.
 * The library's products are timed inside the call itself: this program
 * defines the four cblas routines the library calls (the SYRK and SYMM of
 * each precision), so that the library's calls come here; each is timed
 * and handed on to the BLAS's own routine (dlsym, RTLD_NEXT). The floor's
 * calls (bench/floor.h) are timed the same way, and library and floor
 * alternate in one loop. Per shape and precision, medians over the reps:
 *
 *   lib_ms    the whole call
 *   blas_ms   its four BLAS calls, summed
 *   rest_ms   lib_ms - blas_ms: the passes and everything between them
 *   floor_ms  the same four calls back to back
 *   slow      blas_ms / floor_ms: how much slower the same products run
 *             between the library's passes than back to back
 *   rest      rest_ms / floor_ms, to hold against pass-costs' passes/floor
 *   c1..c4    each call (SYRK a, SYMM a, SYRK b, SYMM b) in the library
 *             over the same call in the floor
 *   pre_ms    the library call's start to its first BLAS call: the scan,
 *             the variances, the checks, the invariance sweep and view a's
 *             centred copy
 *   mid_ms    SYMM a's end to SYRK b's start: view a's triangle and view
 *             b's centred copy
 *   post_ms   SYMM b's end to the call's end: view b's triangle and the
 *             terms
 *
 * so lib / floor = slow + rest, and rest_ms = pre_ms + mid_ms + post_ms +
 * the two short gaps between each view's SYRK and SYMM (medians each, so
 * the sum is close, not exact). Built against OpenBLAS only (it defines
 * OpenBLAS's prototypes).
 *
 *   blas-in-situ [--shapes LIST] [--precision f32|f64|both] [--threads T]
 *                [--min-time S] [--min-reps N]
 */
#define _GNU_SOURCE
#define BENCH_NAME "blas-in-situ"

#include <cblas.h>
#include <dlfcn.h>

#include "benchutil.h"
#include "blasinfo.h"
#include "floor.h"

enum { CALLS = 4, MAX_SHAPES = 64, MAX_REPS = 4001 };

/* The BLAS seconds of each call since the last reset, in call order, and
 * when each began and ended. */
static double call_s[CALLS], call_begin[CALLS], call_end[CALLS];
static int call_count;

static void record(double t0)
{
    double t1 = now_s();
    if (call_count < CALLS) {
        call_s[call_count] = t1 - t0;
        call_begin[call_count] = t0;
        call_end[call_count] = t1;
    }
    call_count++;
}

/* The BLAS's own routine called `name` (POSIX's way to store a function
 * pointer from dlsym). */
static void find_next(void *fn_slot, const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f)
        die("a cblas routine is not found after this program (is the BLAS OpenBLAS?)");
    memcpy(fn_slot, &f, sizeof f);
}

#define SYRK_WRAPPER(NAME, T)                                                                  \
    void NAME(OPENBLAS_CONST enum CBLAS_ORDER o, OPENBLAS_CONST enum CBLAS_UPLO u,              \
              OPENBLAS_CONST enum CBLAS_TRANSPOSE t, OPENBLAS_CONST blasint n,                   \
              OPENBLAS_CONST blasint k, OPENBLAS_CONST T alpha, OPENBLAS_CONST T *a,             \
              OPENBLAS_CONST blasint lda, OPENBLAS_CONST T beta, T *c,                           \
              OPENBLAS_CONST blasint ldc)                                                        \
    {                                                                                            \
        static void (*next)(enum CBLAS_ORDER, enum CBLAS_UPLO, enum CBLAS_TRANSPOSE, blasint,    \
                            blasint, T, const T *, blasint, T, T *, blasint);                    \
        if (!next)                                                                               \
            find_next(&next, #NAME);                                                             \
        double t0 = now_s();                                                                     \
        next(o, u, t, n, k, alpha, a, lda, beta, c, ldc);                                        \
        record(t0);                                                                              \
    }

#define SYMM_WRAPPER(NAME, T)                                                                  \
    void NAME(OPENBLAS_CONST enum CBLAS_ORDER o, OPENBLAS_CONST enum CBLAS_SIDE s,              \
              OPENBLAS_CONST enum CBLAS_UPLO u, OPENBLAS_CONST blasint m,                        \
              OPENBLAS_CONST blasint n, OPENBLAS_CONST T alpha, OPENBLAS_CONST T *a,             \
              OPENBLAS_CONST blasint lda, OPENBLAS_CONST T *b, OPENBLAS_CONST blasint ldb,       \
              OPENBLAS_CONST T beta, T *c, OPENBLAS_CONST blasint ldc)                           \
    {                                                                                            \
        static void (*next)(enum CBLAS_ORDER, enum CBLAS_SIDE, enum CBLAS_UPLO, blasint,         \
                            blasint, T, const T *, blasint, const T *, blasint, T, T *,          \
                            blasint);                                                            \
        if (!next)                                                                               \
            find_next(&next, #NAME);                                                             \
        double t0 = now_s();                                                                     \
        next(o, s, u, m, n, alpha, a, lda, b, ldb, beta, c, ldc);                                \
        record(t0);                                                                              \
    }

SYRK_WRAPPER(cblas_ssyrk, float)
SYRK_WRAPPER(cblas_dsyrk, double)
SYMM_WRAPPER(cblas_ssymm, float)
SYMM_WRAPPER(cblas_dsymm, double)

/* One side's figures over the reps: the whole time, and each call's. */
struct side {
    double total[MAX_REPS], blas[MAX_REPS], rest[MAX_REPS], call[CALLS][MAX_REPS];
    double pre[MAX_REPS], mid[MAX_REPS], post[MAX_REPS];
};

static struct side lib_side, floor_side;

/* Stores the time t of rep r on side s (which began at t0) and its calls;
 * exits when the side did not make exactly the four timed calls (the
 * library took another route than this program times). */
static void store(struct side *s, int r, double t0, double t)
{
    if (call_count != CALLS)
        die("a call made other BLAS calls than the 4 this program times");
    double blas = 0.0;
    for (int k = 0; k < CALLS; k++) {
        s->call[k][r] = call_s[k];
        blas += call_s[k];
    }
    s->total[r] = t;
    s->blas[r] = blas;
    s->rest[r] = t - blas;
    s->pre[r] = call_begin[0] - t0;
    s->mid[r] = call_begin[2] - call_end[1];
    s->post[r] = t0 + t - call_end[3];
}

struct inputs {
    size_t n, d;
    int f64, path;
    void *z[2], *grad[2], *floor_grad[2], *mat;
};

static int lib_call(vicreg_ctx *ctx, const struct inputs *in)
{
    double loss;
    if (in->f64)
        return vicreg_loss_f64(ctx, in->n, in->d, in->z[0], in->d, in->z[1], in->d, &loss,
                               in->grad[0], in->d, in->grad[1], in->d);
    return vicreg_loss_f32(ctx, in->n, in->d, in->z[0], in->d, in->z[1], in->d, &loss,
                           in->grad[0], in->d, in->grad[1], in->d);
}

/* The floor of vicreg-bench: both views' products on the inputs in place
 * of the centred copies. */
static void floor_call(const struct inputs *in)
{
    const double alpha = floor_alpha(in->n, in->d);
    for (int v = 0; v < 2; v++)
        floor_view(in->f64, in->path, in->n, in->d, alpha, in->z[v], in->mat,
                   in->floor_grad[v]);
}

/* Seconds of one library call (ctx) or one floor call (ctx NULL), which
 * began at *t0; the wrappers above record its BLAS calls. */
static double timed(vicreg_ctx *ctx, const struct inputs *in, double *t0_out)
{
    call_count = 0;
    double t0 = now_s();
    *t0_out = t0;
    if (!ctx)
        floor_call(in);
    else if (lib_call(ctx, in) != VICREG_OK)
        die("a loss call failed");
    return now_s() - t0;
}

static void measure(struct shape sh, int f64, int threads, double min_time, int min_reps)
{
    const size_t elem = f64 ? sizeof(double) : sizeof(float), nd = sh.n * sh.d;
    struct inputs in = { .n = sh.n, .d = sh.d, .f64 = f64 };
    rng_state = 0x5eed ^ ((uint64_t)sh.n << 32) ^ (uint64_t)sh.d;
    for (int v = 0; v < 2; v++) {
        in.z[v] = xalloc(nd * elem);
        in.grad[v] = xalloc(nd * elem);
        in.floor_grad[v] = xalloc(nd * elem);
    }
    fill_two_views(f64, nd, in.z[0], in.z[1]);
    vicreg_ctx *ctx;
    double path = 0.0;
    if (vicreg_ctx_create(&ctx) != VICREG_OK ||
        vicreg_ctx_set_param(ctx, VICREG_PARAM_THREADS, threads) != VICREG_OK)
        die("cannot make a context");
    double t0;
    timed(ctx, &in, &t0); /* warm-up: scratch, pages, BLAS threads */
    if (vicreg_ctx_get_term(ctx, VICREG_TERM_PATH_USED, &path) != VICREG_OK)
        die("cannot read the path");
    in.path = (int)path;
    const size_t m = in.path == VICREG_PATH_GRAM ? sh.n : sh.d;
    in.mat = xalloc(m * m * elem);
    timed(NULL, &in, &t0);

    int reps = 0;
    double spent = 0.0;
    while (reps < MAX_REPS && (reps < min_reps || spent < min_time)) {
        /* Which side goes first alternates, as in vicreg-bench. */
        for (int k = 0; k < 2; k++) {
            int do_lib = (k == 0) == (reps % 2 == 0);
            double t = timed(do_lib ? ctx : NULL, &in, &t0);
            store(do_lib ? &lib_side : &floor_side, reps, t0, t);
            spent += t;
        }
        reps++;
    }

    const size_t count = (size_t)reps;
    const double lib = median(lib_side.total, count), blas = median(lib_side.blas, count);
    const double rest = median(lib_side.rest, count), flr = median(floor_side.total, count);
    char name[32];
    snprintf(name, sizeof name, "%zux%zu", sh.n, sh.d);
    printf("%-10s %-4s %-4s %9.3f %9.3f %9.3f %9.3f %6.3f %6.3f %6.3f", name,
           f64 ? "f64" : "f32", in.path == VICREG_PATH_GRAM ? "gram" : "cov", lib * 1e3,
           blas * 1e3, rest * 1e3, flr * 1e3, lib / flr, blas / flr, rest / flr);
    for (int k = 0; k < CALLS; k++)
        printf(" %6.3f", median(lib_side.call[k], count) / median(floor_side.call[k], count));
    printf(" %8.3f %8.3f %8.3f %6d\n", median(lib_side.pre, count) * 1e3,
           median(lib_side.mid, count) * 1e3, median(lib_side.post, count) * 1e3, reps);
    fflush(stdout);

    vicreg_ctx_destroy(ctx);
    for (int v = 0; v < 2; v++) {
        free(in.z[v]);
        free(in.grad[v]);
        free(in.floor_grad[v]);
    }
    free(in.mat);
}

int main(int argc, char **argv)
{
    const char *shapes = "256x256,256x2048,1024x1024,2048x2048,512x8192,2048x8192,4096x128";
    const char *precision = "both";
    int threads = 2, min_reps = 7;
    double min_time = 1.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        size_t value;
        if (!strcmp(a, "--shapes") && next)
            shapes = argv[++i];
        else if (!strcmp(a, "--precision") && next)
            precision = argv[++i];
        else if (!strcmp(a, "--threads") && next && parse_size(next, &value) && value >= 1 &&
                 value <= 64)
            threads = (int)value, i++;
        else if (!strcmp(a, "--min-reps") && next && parse_size(next, &value) && value >= 1 &&
                 value <= MAX_REPS)
            min_reps = (int)value, i++;
        else if (!strcmp(a, "--min-time") && next)
            min_time = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: blas-in-situ [--shapes LIST] [--precision f32|f64|both] "
                            "[--threads T] [--min-time S] [--min-reps N]\n");
            return 2;
        }
    }
    const int want_f32 = strcmp(precision, "f64") != 0, want_f64 = strcmp(precision, "f32") != 0;
    if (!want_f32 && !want_f64)
        die("--precision is f32, f64 or both");
    struct shape list[MAX_SHAPES];
    const size_t count = parse_shapes(shapes, list, MAX_SHAPES);

    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    printf("# blas-in-situ: a two-view call's BLAS calls timed inside the call, against the "
           "same calls back to back (the floor); library passes on %d thread(s); medians\n",
           threads);
    printf("# CPU: %s\n", cpu);
    print_blas();
    printf("# lib/floor = slow + rest; slow = the call's BLAS time / the floor's; rest = the "
           "rest of the call / the floor; c1..c4 = SYRK a, SYMM a, SYRK b, SYMM b, in the "
           "call / in the floor; pre, mid, post = the call's time before its first BLAS call, "
           "between view a's SYMM and view b's SYRK, after its last\n");
    printf("%-10s %-4s %-4s %9s %9s %9s %9s %6s %6s %6s %6s %6s %6s %6s %8s %8s %8s %6s\n",
           "shape", "prec", "path", "lib_ms", "blas_ms", "rest_ms", "floor_ms", "ratio", "slow",
           "rest", "c1", "c2", "c3", "c4", "pre_ms", "mid_ms", "post_ms", "reps");
    for (int p = 0; p < 2; p++) {
        if (!(p ? want_f64 : want_f32))
            continue;
        for (size_t s = 0; s < count; s++)
            measure(list[s], p, threads, min_time, min_reps);
    }
    return 0;
}
