/*
 * pass_costs.c - what each streaming pass of one libvicreg call costs, in
 * milliseconds and as a fraction of the same call's BLAS products (the
 * floor), at each shape: the measurement behind docs/performance.md's
 * "Where the time above the floor goes". It compiles the library's own
 * passes (the templates in src/, through pass_costs.inc), so it times the code that
 * ships, one pass at a time, on the caller's thread or, with --threads T,
 * on a team of T threads as VICREG_PARAM_THREADS = T runs them; the
 * products use the BLAS's threads as in a call. Beside them, "traffic":
 * the least streaming any arrangement of the passes needs with the
 * library's scratch (pass_costs.inc), on the same threads, and "in_place":
 * that least traffic run in place, between the products of a call, against
 * the floor alternating with it as in vicreg-bench (the lowest lib / floor
 * ratio any arrangement can reach), and "two_reads": the same with the
 * second read of every view that variances about the means need before
 * anything is written (the lowest for the library's two-pass statistics).
 * Medians over --reps runs.
 *
 *   pass-costs [--shapes 1024x1024,...] [--views V] [--global G]
 *              [--precision f32|f64|both] [--reps N] [--threads T]
 */
#define _POSIX_C_SOURCE 200809L
#define BENCH_NAME "pass-costs"
#include "benchutil.h"
#include "blasinfo.h"

#include "pass_costs.h"
#include "pool.h"
#include "vicreg.h"

double pass_costs_now(void) { return now_s(); }
double pass_costs_median(double *t, int count) { return median(t, (size_t)count); }
double pass_costs_normal(void) { return rng_normal(); }
void *pass_costs_alloc(size_t bytes) { return xalloc(bytes); }
void pass_costs_free(void *p) { free(p); }

enum { MAX_SHAPES = 64 };

static const char *default_shapes =
    "256x256,256x2048,1024x1024,2048x2048,512x8192,2048x8192,4096x128";

static void print_row(const char *shape, const char *prec, const struct pass_costs_result *r)
{
    const double passes = r->scan + r->variances + r->invariance + r->centre +
                          r->product_squares;
    printf("%-10s %-4s %-4s %8.3f %8.3f %8.3f %8.3f %8.3f %9.3f %8.3f %6.3f %8.3f %6.3f %8.3f %9.3f\n",
           shape, prec, r->path == VICREG_PATH_GRAM ? "gram" : "cov", r->scan * 1e3,
           r->variances * 1e3, r->invariance * 1e3, r->centre * 1e3, r->product_squares * 1e3,
           r->floor * 1e3, passes * 1e3, passes / r->floor, r->traffic * 1e3,
           r->traffic / r->floor, r->traffic_in_place, r->two_reads_in_place);
}

int main(int argc, char **argv)
{
    const char *shapes = default_shapes, *precision = "both";
    int threads = 1;
    struct pass_costs_shape sh = { .views = 2, .global = 2, .reps = 9 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--shapes") && next)
            shapes = argv[++i];
        else if (!strcmp(a, "--views") && next)
            sh.views = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(a, "--global") && next)
            sh.global = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(a, "--precision") && next)
            precision = argv[++i];
        else if (!strcmp(a, "--reps") && next)
            sh.reps = atoi(argv[++i]);
        else if (!strcmp(a, "--threads") && next)
            threads = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: pass-costs [--shapes LIST] [--views V] [--global G] "
                            "[--precision f32|f64|both] [--reps N] [--threads T]\n");
            return 2;
        }
    }
    if (sh.views < 1 || sh.views > VICREG_MAX_VIEWS || sh.global < 1 || sh.global > sh.views ||
        sh.reps < 1 || sh.reps > PASS_COSTS_MAX_REPS)
        die("need 1 <= global <= views <= VICREG_MAX_VIEWS and 1 <= reps <= 101");
    if (threads < 1 || threads > VICREG_MAX_THREADS)
        die("need 1 <= threads <= 64 (VICREG_MAX_THREADS)");
    struct shape shape[MAX_SHAPES];
    const size_t shape_count = parse_shapes(shapes, shape, MAX_SHAPES);
    if (threads > 1 && vicreg_pool_create(&sh.pool, threads) != VICREG_OK)
        die("cannot start the threads");
    rng_state = 1;
    print_blas();
    printf("# pass-costs: ms per call (all %zu views, %zu global), median of %d; passes on %d "
           "thread(s); floor = the BLAS products; ratio = passes / floor; traffic = the least "
           "streaming any arrangement needs with one centred copy in scratch (one read of every "
           "view; one sweep reading every view, writing every gradient and the first copy; one "
           "copy per further view), t/floor its share\n"
           "# in_place = the least traffic in place: median over %d pairs of (a call of the least "
           "traffic and the products) / (the floor as vicreg-bench times it), the two alternating: "
           "the lowest lib/floor pair ratio any arrangement can reach here; two_reads = the same "
           "with a second read of every view before the gradients are written (variances about "
           "means the first read gives): the lowest for two-pass statistics\n",
           sh.views, sh.global, sh.reps, threads, sh.reps);
    printf("%-10s %-4s %-4s %8s %8s %8s %8s %8s %9s %8s %6s %8s %6s %8s %9s\n", "shape", "prec",
           "path", "scan", "squares", "invar", "centre", "triangle", "floor", "passes", "ratio",
           "traffic", "t/flr", "in_place", "two_reads");
    for (size_t k = 0; k < shape_count; k++) {
        char name[48];
        snprintf(name, sizeof name, "%zux%zu", shape[k].n, shape[k].d);
        sh.n = shape[k].n;
        sh.d = shape[k].d;
        struct pass_costs_result r;
        if (strcmp(precision, "f64") != 0) {
            if (pass_costs_f32(&sh, &r))
                die("out of memory");
            print_row(name, "f32", &r);
        }
        if (strcmp(precision, "f32") != 0) {
            if (pass_costs_f64(&sh, &r))
                die("out of memory");
            print_row(name, "f64", &r);
        }
        fflush(stdout);
    }
    vicreg_pool_destroy(sh.pool);
    return 0;
}
