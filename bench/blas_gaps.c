/*
 * blas_gaps.c - what a short pause between BLAS calls costs the calls
 * themselves: the floor of one two-view call (per view a SYRK and its
 * symmetric product, bench/floor.h) timed with the calls back to back, and
 * with the caller's thread busy for G microseconds before each call, as it
 * is while the library runs a pass between two products. Only the BLAS
 * calls are timed. With OPENBLAS_THREAD_TIMEOUT small, OpenBLAS's idle
 * threads sleep almost at once, and a call after a pause first wakes
 * them; with the default they spin on the other cores instead.
 *
 *   blas-gaps [--shapes LIST] [--gaps LIST] [--precision f32|f64|both] [--reps N]
 *
 * Prints, per shape, precision and gap, the median milliseconds of the four
 * calls and their ratio to the gap-0 median.
 */
#define _POSIX_C_SOURCE 200809L
#define BENCH_NAME "blas-gaps"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "blasinfo.h"
#include "floor.h"

enum { MAX_LIST = 16, MAX_REPS = 2001 };

/* Spins the caller's thread for us microseconds. */
static void busy_wait(double us)
{
    const double until = now_s() + us * 1e-6;
    while (now_s() < until) {
    }
}

/* Median seconds of the four BLAS calls of one two-view floor, with a
 * pause of gap_us before each. */
static double time_floor(int f64, int path, size_t n, size_t d, double gap_us, int reps,
                         void *const zc[2], void *mat, void *const grad[2])
{
    static double t[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        double total = 0.0;
        for (int v = 0; v < 2; v++) {
            busy_wait(gap_us);
            double t0 = now_s();
            floor_syrk(f64, path, n, d, zc[v], mat);
            total += now_s() - t0;
            busy_wait(gap_us);
            t0 = now_s();
            floor_product(f64, path, n, d, 1e-6, zc[v], mat, grad[v]);
            total += now_s() - t0;
        }
        if (r >= 0)
            t[r] = total;
    }
    return median(t, (size_t)reps);
}

static size_t parse_list(const char *s, double *out)
{
    size_t count = 0;
    char *end;
    while (*s && count < MAX_LIST) {
        out[count++] = strtod(s, &end);
        if (end == s)
            die("bad number in a list");
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            die("bad separator in a list");
    }
    return count;
}

int main(int argc, char **argv)
{
    const char *shapes = "256x256,256x2048,4096x128,1024x1024";
    const char *gaps = "0,5,20,50";
    const char *precision = "both";
    int reps = 201;
    for (int i = 1; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--shapes") && next)
            shapes = argv[++i];
        else if (!strcmp(argv[i], "--gaps") && next)
            gaps = argv[++i];
        else if (!strcmp(argv[i], "--precision") && next)
            precision = argv[++i];
        else if (!strcmp(argv[i], "--reps") && next)
            reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: blas-gaps [--shapes LIST] [--gaps LIST] "
                            "[--precision f32|f64|both] [--reps N]\n");
            return !strcmp(argv[i], "--help") ? 0 : 2;
        }
    }
    if (reps < 1 || reps > MAX_REPS)
        die("--reps must be 1 to 2001");
    double gap[MAX_LIST];
    const size_t gap_count = parse_list(gaps, gap);
    struct shape shape[MAX_LIST];
    const size_t shape_count = parse_shapes(shapes, shape, MAX_LIST);
    char cpu[128];
    cpu_model(cpu, sizeof cpu);
    printf("# blas-gaps: the four BLAS calls of a two-view floor (bench/floor.h), "
           "median of %d, with the caller busy G us before each call (untimed)\n",
           reps);
    printf("# CPU: %s\n", cpu);
    print_blas();
    printf("%-10s %-4s %-5s %8s %9s %6s\n", "shape", "prec", "path", "gap_us", "blas_ms",
           "ratio");
    for (size_t si = 0; si < shape_count; si++) {
        const size_t n = shape[si].n, d = shape[si].d;
        const int path = n < d ? VICREG_PATH_GRAM : VICREG_PATH_COVARIANCE;
        const size_t m = path == VICREG_PATH_GRAM ? n : d;
        for (int f64 = 0; f64 < 2; f64++) {
            if ((f64 && !strcmp(precision, "f32")) || (!f64 && !strcmp(precision, "f64")))
                continue;
            const size_t size = f64 ? sizeof(double) : sizeof(float);
            void *zc[2], *grad[2], *mat = xalloc(m * m * size);
            for (int v = 0; v < 2; v++) {
                zc[v] = xalloc(n * d * size);
                grad[v] = xalloc(n * d * size);
                for (size_t k = 0; k < n * d; k++) {
                    double x = rng_normal();
                    if (f64)
                        ((double *)zc[v])[k] = x;
                    else
                        ((float *)zc[v])[k] = (float)x;
                }
            }
            double base = 0.0;
            for (size_t g = 0; g < gap_count; g++) {
                double t = time_floor(f64, path, n, d, gap[g], reps, zc, mat, grad);
                if (g == 0)
                    base = t;
                char shape[48];
                snprintf(shape, sizeof shape, "%zux%zu", n, d);
                printf("%-10s %-4s %-5s %8.0f %9.3f %6.3f\n", shape, f64 ? "f64" : "f32",
                       path == VICREG_PATH_GRAM ? "gram" : "cov", gap[g], t * 1e3, t / base);
                fflush(stdout);
            }
            for (int v = 0; v < 2; v++) {
                free(zc[v]);
                free(grad[v]);
            }
            free(mat);
        }
    }
    return 0;
}
