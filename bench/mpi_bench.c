/*
 * mpi_bench.c - time per step of vicreg_mpi_loss_* and the bytes each
 * strategy moves, on however many processes mpirun starts.
 *
 * Every process holds an equal shard (the first N mod P processes one row
 * more) of a global batch of N rows and d columns, makes the step (loss and
 * both gradients) with the strategy asked for, and the step's time is the
 * slowest process's, after a barrier. Steps repeat until --min-time
 * seconds or --max-reps steps have passed (at least 3), after one warm-up
 * step; the median is reported. A warm-up step slower than --heavy seconds
 * is the only step timed (reps = 1): at such sizes the first call's
 * allocation is a negligible part of the step, and repeating it would not
 * fit the benchmark's time budget. Then, with the context freed, the same
 * strategy's collectives alone are timed on buffers of the same sizes
 * (REDUCE: MPI_Allreduce of 2 + 2d and of d (d + 1) doubles; GATHER:
 * MPI_Allgatherv of N rows of 2d elements), which separates what the
 * machine spends moving bytes from what it spends computing.
 *
 * Usage: mpirun -n P mpi-bench --n N --d D [--precision f32|f64]
 *            [--strategy auto|reduce|gather] [--min-time S] [--max-reps R]
 *            [--heavy S] [--csv FILE] [--header]
 *
 * Rank 0 prints one table row (--header: the header first) and appends the
 * same to the CSV file. Not installed, not a test.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vicreg_mpi.h"

struct options {
    size_t n, d;
    int precision, strategy;
    double min_time, heavy;
    int max_reps;
    const char *csv;
    int header;
};

static int rank, nprocs;

static void die(const char *what)
{
    if (rank == 0)
        fprintf(stderr, "mpi-bench: %s\n", what);
    MPI_Abort(MPI_COMM_WORLD, 2);
}

static void *xalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        die("out of memory");
    memset(p, 0, bytes); /* touch every page before timing */
    return p;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int count)
{
    qsort(v, (size_t)count, sizeof *v, cmp_double);
    return count % 2 ? v[count / 2] : 0.5 * (v[count / 2 - 1] + v[count / 2]);
}

static const char *strategy_name(int s)
{
    return s == VICREG_MPI_STRATEGY_REDUCE ? "reduce"
           : s == VICREG_MPI_STRATEGY_GATHER ? "gather"
                                              : "auto";
}

static void parse(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof *o);
    o->precision = VICREG_PRECISION_F32;
    o->min_time = 2.0;
    o->max_reps = 20;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--header")) {
            o->header = 1;
            continue;
        }
        if (!v)
            die("an option lacks its value");
        i++;
        if (!strcmp(a, "--n"))
            o->n = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--d"))
            o->d = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--precision"))
            o->precision = !strcmp(v, "f64") ? VICREG_PRECISION_F64 : VICREG_PRECISION_F32;
        else if (!strcmp(a, "--strategy"))
            o->strategy = !strcmp(v, "reduce")   ? VICREG_MPI_STRATEGY_REDUCE
                          : !strcmp(v, "gather") ? VICREG_MPI_STRATEGY_GATHER
                                                 : VICREG_MPI_STRATEGY_AUTO;
        else if (!strcmp(a, "--min-time"))
            o->min_time = strtod(v, NULL);
        else if (!strcmp(a, "--heavy"))
            o->heavy = strtod(v, NULL);
        else if (!strcmp(a, "--max-reps"))
            o->max_reps = atoi(v);
        else if (!strcmp(a, "--csv"))
            o->csv = v;
        else
            die("unknown option");
    }
    if (o->n < 2 || o->d == 0 || o->max_reps < 3)
        die("need --n >= 2, --d >= 1, --max-reps >= 3");
}

/* Uniform in [-1, 1) from a splitmix64 state. */
static double uniform(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-52 - 1.0;
}

/* One call of fn on every process: the slowest process's time. */
static double once(void (*fn)(void *), void *arg)
{
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    fn(arg);
    double dt = MPI_Wtime() - t0;
    MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return dt;
}

/* Repeats fn until min_time has passed (the same decision on every
 * process: rank 0's clock) or max_reps; returns the median of the slowest
 * process's times, in seconds, and the count in *reps. */
static double timed(const struct options *o, void (*fn)(void *), void *arg, int *reps)
{
    /* Warm-up: the first step allocates. */
    double first = once(fn, arg);
    if (o->heavy > 0.0 && first > o->heavy) {
        *reps = 1;
        return first;
    }
    double *t = xalloc((size_t)o->max_reps * sizeof *t), spent = 0.0;
    int k = 0, more = 1;
    while (more) {
        double dt = once(fn, arg);
        t[k++] = dt;
        spent += dt;
        more = k < o->max_reps && (k < 3 || spent < o->min_time);
        MPI_Bcast(&more, 1, MPI_INT, 0, MPI_COMM_WORLD);
    }
    double m = median(t, k);
    free(t);
    *reps = k;
    return m;
}

struct step {
    vicreg_ctx *ctx;
    int precision;
    size_t rows, d;
    void *za, *zb, *ga, *gb;
};

static void run_step(void *arg)
{
    struct step *s = arg;
    double loss;
    int status = s->precision == VICREG_PRECISION_F32
                     ? vicreg_mpi_loss_f32(s->ctx, MPI_COMM_WORLD, s->rows, s->d, s->za, s->d,
                                           s->zb, s->d, &loss, s->ga, s->d, s->gb, s->d)
                     : vicreg_mpi_loss_f64(s->ctx, MPI_COMM_WORLD, s->rows, s->d, s->za, s->d,
                                           s->zb, s->d, &loss, s->ga, s->d, s->gb, s->d);
    if (status != VICREG_OK)
        die(vicreg_mpi_strerror(status));
}

/* The strategy's collectives alone, on buffers of the step's sizes. */
struct comm {
    int strategy;
    double *sums, *scatter;
    size_t sums_len, scatter_len;
    void *rows;
    int *counts, *displs;
    MPI_Datatype row;
};

static void run_comm(void *arg)
{
    struct comm *c = arg;
    if (c->strategy == VICREG_MPI_STRATEGY_REDUCE) {
        MPI_Allreduce(MPI_IN_PLACE, c->sums, (int)c->sums_len, MPI_DOUBLE, MPI_SUM,
                      MPI_COMM_WORLD);
        MPI_Allreduce(MPI_IN_PLACE, c->scatter, (int)c->scatter_len, MPI_DOUBLE, MPI_SUM,
                      MPI_COMM_WORLD);
    } else {
        MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, c->rows, c->counts, c->displs, c->row,
                       MPI_COMM_WORLD);
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nprocs);
    struct options o;
    parse(argc, argv, &o);
    size_t n = o.n, d = o.d;
    size_t elem = o.precision == VICREG_PRECISION_F32 ? sizeof(float) : sizeof(double);

    /* Equal shards. */
    size_t rows = n / (size_t)nprocs + ((size_t)rank < n % (size_t)nprocs ? 1 : 0);
    struct step s = { NULL, o.precision, rows, d, NULL, NULL, NULL, NULL };
    s.za = xalloc(rows * d * elem);
    s.zb = xalloc(rows * d * elem);
    s.ga = xalloc(rows * d * elem);
    s.gb = xalloc(rows * d * elem);
    uint64_t seed = 12345 + (uint64_t)rank;
    for (size_t k = 0; k < rows * d; k++) {
        double a = uniform(&seed), b = a + 0.2 * uniform(&seed);
        if (elem == sizeof(float)) {
            ((float *)s.za)[k] = (float)a;
            ((float *)s.zb)[k] = (float)b;
        } else {
            ((double *)s.za)[k] = a;
            ((double *)s.zb)[k] = b;
        }
    }
    if (vicreg_ctx_create(&s.ctx) != VICREG_OK || vicreg_mpi_set_strategy(s.ctx, o.strategy))
        die("context");

    int reps = 0;
    double step_s = timed(&o, run_step, &s, &reps);
    double used = 0, br = 0, bg = 0;
    vicreg_mpi_get_info(s.ctx, VICREG_MPI_INFO_STRATEGY, &used);
    vicreg_mpi_get_info(s.ctx, VICREG_MPI_INFO_BYTES_REDUCE, &br);
    vicreg_mpi_get_info(s.ctx, VICREG_MPI_INFO_BYTES_GATHER, &bg);
    vicreg_ctx_destroy(s.ctx);
    free(s.ga);
    free(s.gb);

    /* The collectives alone. */
    struct comm c;
    memset(&c, 0, sizeof c);
    c.strategy = (int)used;
    if (c.strategy == VICREG_MPI_STRATEGY_REDUCE) {
        if (vicreg_shard_sizes(d, &c.sums_len, &c.scatter_len) != VICREG_OK
            || c.scatter_len > INT_MAX)
            die("sizes");
        c.sums = xalloc(c.sums_len * sizeof(double));
        c.scatter = xalloc(c.scatter_len * sizeof(double));
    } else {
        c.rows = xalloc(n * 2 * d * elem);
        c.counts = xalloc((size_t)nprocs * sizeof(int));
        c.displs = xalloc((size_t)nprocs * sizeof(int));
        for (int p = 0, at = 0; p < nprocs; p++) {
            c.counts[p] = (int)(n / (size_t)nprocs + ((size_t)p < n % (size_t)nprocs ? 1 : 0));
            c.displs[p] = at;
            at += c.counts[p];
        }
        MPI_Type_contiguous((int)(2 * d), elem == sizeof(float) ? MPI_FLOAT : MPI_DOUBLE, &c.row);
        MPI_Type_commit(&c.row);
    }
    int comm_reps = 0;
    double comm_s = timed(&o, run_comm, &c, &comm_reps);
    if (c.strategy == VICREG_MPI_STRATEGY_GATHER)
        MPI_Type_free(&c.row);
    free(c.sums);
    free(c.scatter);
    free(c.rows);
    free(c.counts);
    free(c.displs);
    free(s.za);
    free(s.zb);

    if (rank == 0) {
        const char *head = "processes,n_global,d,precision,strategy,asked,step_ms,reps,"
                           "comm_ms,bytes_per_process,bytes_reduce,bytes_gather";
        char line[512];
        snprintf(line, sizeof line, "%d,%zu,%zu,%s,%s,%s,%.3f,%d,%.3f,%.0f,%.0f,%.0f", nprocs, n,
                 d, o.precision == VICREG_PRECISION_F32 ? "f32" : "f64", strategy_name((int)used),
                 strategy_name(o.strategy), 1e3 * step_s, reps, 1e3 * comm_s,
                 used == VICREG_MPI_STRATEGY_REDUCE ? br : bg, br, bg);
        if (o.header)
            printf("%s\n", head);
        printf("%s\n", line);
        if (o.csv) {
            FILE *f = fopen(o.csv, "a");
            if (!f)
                die("cannot open the CSV file");
            if (o.header)
                fprintf(f, "%s\n", head);
            fprintf(f, "%s\n", line);
            fclose(f);
        }
    }
    MPI_Finalize();
    return 0;
}
