/*
 * bench_common.h - shared helpers for the C reference benchmarks that run
 * against libzmq (4.3.x).  Header-only: every function is static inline.
 *
 * Each program calls bench_set_name() first; every failing zmq call then
 * prints "<name>: <what> failed: <zmq_strerror>" to stderr and exits 1.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

/* Fixed CURVE test keys (Z85, 40 characters each). */
#define BENCH_SERVER_PUBLIC "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define BENCH_SERVER_SECRET "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
#define BENCH_CLIENT_PUBLIC "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
#define BENCH_CLIENT_SECRET "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"

static const char *bench_name = "bench";

static inline void bench_set_name (const char *name)
{
    bench_name = name;
}

/* ---- failure reporting ------------------------------------------------ */

__attribute__ ((noreturn)) static inline void bench_fail (const char *what)
{
    int err = zmq_errno ();
    fprintf (stderr, "%s: %s failed: %s\n", bench_name, what,
             zmq_strerror (err));
    exit (1);
}

/* Same, but with a plain message (no errno involved). */
__attribute__ ((noreturn)) static inline void bench_die (const char *message)
{
    fprintf (stderr, "%s: %s\n", bench_name, message);
    exit (1);
}

static inline void bench_check (int rc, const char *what)
{
    if (rc == -1)
        bench_fail (what);
}

/* ---- arguments and time ---------------------------------------------- */

static inline int
bench_parse_int (const char *text, const char *what, long minimum)
{
    char *end = NULL;
    errno = 0;
    long value = strtol (text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < minimum
        || value > INT_MAX) {
        fprintf (stderr, "%s: invalid %s: '%s' (want an integer >= %ld)\n",
                 bench_name, what, text, minimum);
        exit (1);
    }
    return (int) value;
}

static inline uint64_t bench_now_us (void)
{
    struct timespec ts;
    if (clock_gettime (CLOCK_MONOTONIC, &ts) != 0) {
        perror ("clock_gettime");
        exit (1);
    }
    return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* ---- context / socket wrappers --------------------------------------- */

static inline void *bench_ctx_new (void)
{
    void *ctx = zmq_ctx_new ();
    if (!ctx)
        bench_fail ("zmq_ctx_new");
    return ctx;
}

static inline void bench_ctx_term (void *ctx)
{
    bench_check (zmq_ctx_term (ctx), "zmq_ctx_term");
}

static inline void *bench_socket (void *ctx, int type, const char *what)
{
    void *s = zmq_socket (ctx, type);
    if (!s)
        bench_fail (what);
    return s;
}

static inline void bench_close (void *s)
{
    bench_check (zmq_close (s), "zmq_close");
}

static inline void
bench_setsockopt_int (void *s, int option, int value, const char *what)
{
    bench_check (zmq_setsockopt (s, option, &value, sizeof value), what);
}

static inline void bench_set_linger (void *s, int linger)
{
    bench_setsockopt_int (s, ZMQ_LINGER, linger, "zmq_setsockopt(ZMQ_LINGER)");
}

static inline void bench_bind (void *s, const char *endpoint)
{
    char what[600];
    snprintf (what, sizeof what, "zmq_bind(%s)", endpoint);
    bench_check (zmq_bind (s, endpoint), what);
}

static inline void bench_connect (void *s, const char *endpoint)
{
    char what[600];
    snprintf (what, sizeof what, "zmq_connect(%s)", endpoint);
    bench_check (zmq_connect (s, endpoint), what);
}

/* Copies the socket's ZMQ_LAST_ENDPOINT (NUL-terminated) into buf. */
static inline void bench_last_endpoint (void *s, char *buf, size_t len)
{
    size_t size = len;
    bench_check (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &size),
                 "zmq_getsockopt(ZMQ_LAST_ENDPOINT)");
    if (size == 0 || size > len)
        bench_die ("ZMQ_LAST_ENDPOINT has an unexpected length");
    buf[size - 1] = '\0';
}

/* ---- CURVE ------------------------------------------------------------ */

static inline int bench_curve_enabled (void)
{
    const char *v = getenv ("BENCH_CURVE");
    return v != NULL && strcmp (v, "1") == 0;
}

static inline void bench_curve_server (void *s)
{
    bench_setsockopt_int (s, ZMQ_CURVE_SERVER, 1,
                          "zmq_setsockopt(ZMQ_CURVE_SERVER)");
    bench_check (zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, BENCH_SERVER_SECRET,
                                 40),
                 "zmq_setsockopt(ZMQ_CURVE_SECRETKEY)");
}

static inline void bench_curve_client (void *s)
{
    bench_check (zmq_setsockopt (s, ZMQ_CURVE_SERVERKEY, BENCH_SERVER_PUBLIC,
                                 40),
                 "zmq_setsockopt(ZMQ_CURVE_SERVERKEY)");
    bench_check (zmq_setsockopt (s, ZMQ_CURVE_PUBLICKEY, BENCH_CLIENT_PUBLIC,
                                 40),
                 "zmq_setsockopt(ZMQ_CURVE_PUBLICKEY)");
    bench_check (zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, BENCH_CLIENT_SECRET,
                                 40),
                 "zmq_setsockopt(ZMQ_CURVE_SECRETKEY)");
}

/* Applied by the binding side when BENCH_CURVE=1. */
static inline void bench_maybe_curve_server (void *s)
{
    if (bench_curve_enabled ())
        bench_curve_server (s);
}

/* Applied by the connecting side when BENCH_CURVE=1. */
static inline void bench_maybe_curve_client (void *s)
{
    if (bench_curve_enabled ())
        bench_curve_client (s);
}

/* ---- messages --------------------------------------------------------- */

static inline void bench_msg_init (zmq_msg_t *msg)
{
    bench_check (zmq_msg_init (msg), "zmq_msg_init");
}

static inline void bench_msg_init_size (zmq_msg_t *msg, size_t size)
{
    bench_check (zmq_msg_init_size (msg, size), "zmq_msg_init_size");
}

static inline void bench_msg_close (zmq_msg_t *msg)
{
    bench_check (zmq_msg_close (msg), "zmq_msg_close");
}

static inline void bench_msg_send (zmq_msg_t *msg, void *s, int flags)
{
    bench_check (zmq_msg_send (msg, s, flags), "zmq_msg_send");
}

/* Receives one message and returns its size. */
static inline size_t bench_msg_recv (zmq_msg_t *msg, void *s)
{
    int rc = zmq_msg_recv (msg, s, 0);
    if (rc == -1)
        bench_fail ("zmq_msg_recv");
    return zmq_msg_size (msg);
}

/* Receives one message and checks it has exactly `size` bytes. */
static inline void bench_msg_recv_sized (zmq_msg_t *msg, void *s, int size)
{
    size_t got = bench_msg_recv (msg, s);
    if (got != (size_t) size) {
        fprintf (stderr, "%s: message of wrong size: got %zu, expected %d\n",
                 bench_name, got, size);
        exit (1);
    }
}

/* ---- output ----------------------------------------------------------- */

static inline void
bench_print_thr (int message_size, int message_count, uint64_t elapsed_us)
{
    if (elapsed_us == 0)
        elapsed_us = 1;
    unsigned long throughput =
      (unsigned long) ((double) message_count * 1000000 / (double) elapsed_us);
    double megabits = (double) throughput * message_size * 8 / 1000000;
    printf ("message size: %d [B]\n", message_size);
    printf ("message count: %d\n", message_count);
    printf ("mean throughput: %lu [msg/s]\n", throughput);
    printf ("mean throughput: %.3f [Mb/s]\n", megabits);
}

static inline void
bench_print_lat (int message_size, int roundtrip_count, uint64_t elapsed_us)
{
    double latency = (double) elapsed_us / ((double) roundtrip_count * 2);
    printf ("message size: %d [B]\n", message_size);
    printf ("roundtrip count: %d\n", roundtrip_count);
    printf ("average latency: %.3f [us]\n", latency);
}

/* ---- allocation counting (malloc_count.so shim) ------------------------ */

typedef unsigned long long (*bench_alloc_fn) (void);

/* Returns the shim's counter function, or NULL when it is not preloaded. */
static inline bench_alloc_fn bench_alloc_counter (void)
{
    void *sym = dlsym (RTLD_DEFAULT, "zbench_allocations");
    bench_alloc_fn fn = NULL;
    if (sym)
        memcpy (&fn, &sym, sizeof fn);
    return fn;
}

static inline unsigned long long bench_alloc_read (bench_alloc_fn fn)
{
    return fn ? fn () : 0;
}

static inline void bench_print_allocs (bench_alloc_fn fn,
                                       unsigned long long start,
                                       unsigned long long end,
                                       long long messages)
{
    if (!fn)
        return;
    if (messages < 1)
        messages = 1;
    printf ("allocations per message: %.3f\n",
            (double) (end - start) / (double) messages);
}

/* ---- the measured loops, shared by the tools ----------------------------- */

/* What a measured loop took, and the allocation counter around its steady state. */
struct bench_run {
    uint64_t elapsed_us;
    unsigned long long allocs_start, allocs_end;
    long long window; /* messages or round trips in the counted window */
};

/* Receives message_count messages of message_size on s; the clock starts once the first is in
   (libzmq's local_thr); the counted window starts at message message_count / 10. */
static inline struct bench_run bench_receive_all (void *s,
                                                  int message_size,
                                                  int message_count,
                                                  bench_alloc_fn counter)
{
    struct bench_run run = {0, 0, 0, 0};
    int window_from = message_count / 10;
    zmq_msg_t msg;
    bench_msg_init (&msg);
    bench_msg_recv_sized (&msg, s, message_size);
    uint64_t start = bench_now_us ();
    if (window_from == 0)
        run.allocs_start = bench_alloc_read (counter);
    for (int i = 1; i != message_count; i++) {
        bench_msg_recv_sized (&msg, s, message_size);
        if (i == window_from)
            run.allocs_start = bench_alloc_read (counter);
    }
    run.elapsed_us = bench_now_us () - start;
    run.allocs_end = bench_alloc_read (counter);
    run.window = (long long) message_count - 1 - window_from;
    bench_msg_close (&msg);
    return run;
}

/* Makes roundtrip_count request/reply round trips of message_size on s (libzmq's remote_lat:
   one message, sent and received back each time). */
static inline struct bench_run bench_ask_all (void *s,
                                              int message_size,
                                              int roundtrip_count,
                                              bench_alloc_fn counter)
{
    struct bench_run run = {0, 0, 0, 0};
    int window_from = roundtrip_count / 10;
    zmq_msg_t msg;
    bench_msg_init_size (&msg, (size_t) message_size);
    uint64_t start = bench_now_us ();
    for (int i = 0; i != roundtrip_count; i++) {
        if (i == window_from)
            run.allocs_start = bench_alloc_read (counter);
        bench_msg_send (&msg, s, 0);
        bench_msg_recv_sized (&msg, s, message_size);
    }
    run.elapsed_us = bench_now_us () - start;
    run.allocs_end = bench_alloc_read (counter);
    run.window = (long long) roundtrip_count - window_from;
    bench_msg_close (&msg);
    return run;
}

#endif
