/*
 * pool.c - the fork-join team of pool.h: POSIX threads, one mutex and two
 * condition variables, a job counter the workers watch and a claim word
 * from which every thread takes the job's chunks.
 *
 * A job is published by writing its fields, then the claim word (job
 * number, taking parts, chunks, next chunk: release), then incrementing
 * `generation`. A worker that sees the new generation takes chunks by
 * compare-and-swap on the claim word while it still names that job; each
 * finished chunk is counted in `finished`, and the caller returns when
 * every chunk is. The caller takes chunks too and never waits for a
 * worker that has not started: a worker still waking from its sleep (tens
 * of microseconds on a virtual machine) finds the job taken and done, so
 * a short job costs the caller at most its own share. The fields are read
 * only under a claimed chunk, which the caller waits for before it writes
 * the next job's.
 *
 * Each side spins for a few microseconds before it sleeps on its
 * condition variable, because the passes of one call come a few
 * microseconds to milliseconds apart. Sleeping and waking both check
 * their condition under the mutex, so no wake-up is lost.
 */
#define _POSIX_C_SOURCE 200809L

#include "pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "context.h"
#include "vicreg.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define VICREG_CPU_RELAX() _mm_pause()
#else
#define VICREG_CPU_RELAX() ((void)0)
#endif

/* About 10-50 microseconds of spinning before a thread sleeps. */
enum { SPIN_ROUNDS = 2000 };

/* Jobs smaller than this many element operations run on one thread: a
 * worker's wake-up costs about as much (2^15, not 2^17: at 256 x 256 the
 * larger threshold kept four of a call's five jobs on the caller's thread,
 * and 2^15 took 0.04-0.07 off the ratio to the floor; bench/results/
 * before_after/threshold.txt). A job is cut into chunks of at
 * least MIN_CHUNK_WORK, up to the caller's chunks per thread, which the
 * threads take in turn: a thread that shares its core with another
 * program (a BLAS worker spinning after its product, say) then does fewer
 * chunks instead of holding the others up. Who computes a chunk does not
 * change its bits. */
enum { MIN_PART_WORK = 1 << 15, MIN_CHUNK_WORK = 1 << 15 };

/* The claim word: bits 63-32 the job's number (the low bits of its
 * generation), 31-24 the parts that take chunks, 23-12 the chunks, 11-0
 * the next chunk to take. */
enum { MAX_CHUNKS = (1 << 12) - 1 };

static uint64_t claim_word(unsigned long job, size_t parts, size_t chunks)
{
    return (uint64_t)(uint32_t)job << 32 | (uint64_t)parts << 24 | (uint64_t)chunks << 12;
}

struct worker_start {
    struct vicreg_pool *pool;
    int part;
};

struct vicreg_pool {
    int threads; /* the caller's thread and threads - 1 workers */
    pthread_t workers[VICREG_MAX_THREADS - 1];
    struct worker_start starts[VICREG_MAX_THREADS - 1];
    double *temp; /* (threads - 1) x VICREG_POOL_TEMP_DOUBLES */
    pthread_mutex_t lock;
    pthread_cond_t wake; /* a new job or stop, for the workers */
    pthread_cond_t done; /* the last chunk finished, for the caller */
    atomic_ulong generation;
    _Atomic uint64_t claim;
    atomic_size_t finished; /* chunks of the job done */
    atomic_int stopping;
    /* The job, written before the claim word. */
    vicreg_part_fn *fn;
    void *arg;
    size_t count;
};

/* Takes chunks of job `job` while it has some for this part (part: the
 * taker's temporaries). */
static void take_chunks(struct vicreg_pool *p, unsigned long job, int part)
{
    uint64_t c = atomic_load_explicit(&p->claim, memory_order_acquire);
    for (;;) {
        const size_t parts = (size_t)(c >> 24 & 0xff), chunks = (size_t)(c >> 12 & 0xfff);
        const size_t k = (size_t)(c & 0xfff);
        if ((uint32_t)(c >> 32) != (uint32_t)job || (size_t)part >= parts || k >= chunks)
            return;
        if (!atomic_compare_exchange_weak_explicit(&p->claim, &c, c + 1, memory_order_acquire,
                                                   memory_order_acquire))
            continue;
        /* Chunk k is ours: the job cannot end, nor its fields change,
         * before it is counted finished. */
        size_t begin = p->count * k / chunks, end = p->count * (k + 1) / chunks;
        p->fn(p->arg, begin, end, part);
        if (atomic_fetch_add_explicit(&p->finished, 1, memory_order_release) + 1 == chunks &&
            part != 0) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
        c = atomic_load_explicit(&p->claim, memory_order_acquire);
    }
}

static void *worker_main(void *start_arg)
{
    struct worker_start *start = start_arg;
    struct vicreg_pool *p = start->pool;
    const int part = start->part;
    unsigned long seen = 0;
    for (;;) {
        unsigned long g = atomic_load_explicit(&p->generation, memory_order_acquire);
        for (int s = 0; g == seen && s < SPIN_ROUNDS; s++) {
            VICREG_CPU_RELAX();
            g = atomic_load_explicit(&p->generation, memory_order_acquire);
        }
        if (g == seen) {
            pthread_mutex_lock(&p->lock);
            while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen)
                pthread_cond_wait(&p->wake, &p->lock);
            pthread_mutex_unlock(&p->lock);
        }
        seen = g;
        if (atomic_load_explicit(&p->stopping, memory_order_acquire))
            return NULL;
        take_chunks(p, g, part);
    }
}

/* Publishes a job of `chunks` chunks for `parts` parts (or, with none,
 * the stop) to every worker; returns its number. Only the caller's
 * thread publishes. */
static unsigned long publish(struct vicreg_pool *p, size_t parts, size_t chunks)
{
    const unsigned long job = atomic_load_explicit(&p->generation, memory_order_relaxed) + 1;
    atomic_store_explicit(&p->finished, 0, memory_order_relaxed);
    atomic_store_explicit(&p->claim, claim_word(job, parts, chunks), memory_order_release);
    atomic_store_explicit(&p->generation, job, memory_order_release);
    pthread_mutex_lock(&p->lock);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    return job;
}

/* Returns when every chunk of the job is finished. */
static void wait_for_chunks(struct vicreg_pool *p, size_t chunks)
{
    for (int s = 0; s < SPIN_ROUNDS; s++) {
        if (atomic_load_explicit(&p->finished, memory_order_acquire) == chunks)
            return;
        VICREG_CPU_RELAX();
    }
    pthread_mutex_lock(&p->lock);
    while (atomic_load_explicit(&p->finished, memory_order_acquire) != chunks)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

/* Stops and joins the first `started` workers, frees the pool. */
static void stop_and_free(struct vicreg_pool *p, int started)
{
    atomic_store_explicit(&p->stopping, 1, memory_order_release);
    p->threads = started + 1;
    publish(p, 0, 0);
    for (int k = 0; k < started; k++)
        pthread_join(p->workers[k], NULL);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    vicreg_free(p->temp);
    vicreg_free(p);
}

int vicreg_pool_create(struct vicreg_pool **out, int threads)
{
    if (threads < 2 || threads > VICREG_MAX_THREADS)
        return VICREG_ERR_INVALID_ARGUMENT;
    struct vicreg_pool *p = vicreg_alloc_aligned(sizeof *p);
    if (!p)
        return VICREG_ERR_NO_MEMORY;
    memset(p, 0, sizeof *p);
    p->threads = threads;
    p->temp = vicreg_alloc_aligned((size_t)(threads - 1) * VICREG_POOL_TEMP_DOUBLES *
                                   sizeof(double));
    if (!p->temp || pthread_mutex_init(&p->lock, NULL) != 0) {
        vicreg_free(p->temp);
        vicreg_free(p);
        return VICREG_ERR_NO_MEMORY;
    }
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    /* The workers block every signal: they belong to the caller's
     * threads, which choose how signals are handled. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int started = 0;
    for (; started < threads - 1; started++) {
        p->starts[started] = (struct worker_start){ p, started + 1 };
        if (pthread_create(&p->workers[started], NULL, worker_main, &p->starts[started]) != 0)
            break;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started < threads - 1) {
        stop_and_free(p, started);
        return VICREG_ERR_NO_MEMORY;
    }
    *out = p;
    return VICREG_OK;
}

void vicreg_pool_destroy(struct vicreg_pool *pool)
{
    if (pool)
        stop_and_free(pool, pool->threads - 1);
}

/* How many threads share a job of `work` element operations: 1 when it is
 * too small for a worker's wake-up to pay, at most one per thread. */
static size_t parts_for(const struct vicreg_pool *pool, size_t work)
{
    size_t parts = work / MIN_PART_WORK;
    if (parts > (size_t)pool->threads)
        parts = (size_t)pool->threads;
    return parts < 1 ? 1 : parts;
}

void vicreg_pool_run(struct vicreg_pool *pool, size_t count, size_t item_work,
                     size_t chunks_per_thread, vicreg_part_fn *fn, void *arg)
{
    const size_t work =
        item_work && count > SIZE_MAX / item_work ? SIZE_MAX : count * item_work;
    const size_t parts = pool && count > 1 ? parts_for(pool, work) : 1;
    if (parts == 1) {
        fn(arg, 0, count, 0);
        return;
    }
    size_t chunks = parts * (chunks_per_thread ? chunks_per_thread : 1);
    if (chunks > work / MIN_CHUNK_WORK)
        chunks = work / MIN_CHUNK_WORK;
    if (chunks > count)
        chunks = count;
    if (chunks > MAX_CHUNKS)
        chunks = MAX_CHUNKS;
    pool->fn = fn;
    pool->arg = arg;
    pool->count = count;
    take_chunks(pool, publish(pool, parts, chunks), 0);
    wait_for_chunks(pool, chunks);
}

double *vicreg_pool_temp(struct vicreg_pool *pool, int part)
{
    return pool->temp + (size_t)(part - 1) * VICREG_POOL_TEMP_DOUBLES;
}
