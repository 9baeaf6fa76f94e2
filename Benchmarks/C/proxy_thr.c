/*
 * proxy_thr <frontend-endpoint> <backend-endpoint> <message-size>
 *           <message-count>
 *
 * Throughput through zmq_proxy_steerable within one process:
 *   publisher thread: PUB --connect--> frontend (XSUB, bound)
 *   proxy thread:     zmq_proxy_steerable (XSUB, XPUB, control PAIR)
 *   main thread:      SUB --connect--> backend (XPUB, bound)
 * The publisher sends 1-byte 'W' warm-up messages every 10 ms until main
 * (over an inproc PAIR) says one arrived, i.e. the subscription has made it
 * through the proxy.  It then sends message-count messages whose first byte
 * is 'D'; main ignores 'W' and times the 'D' stream like local_thr.
 */
#include <pthread.h>

#include "bench_common.h"

#define CONTROL_ENDPOINT "inproc://proxy_thr_control"
#define SIGNAL_ENDPOINT "inproc://proxy_thr_signal"

struct proxy_args
{
    void *ctx;
    void *frontend; /* XSUB, created and bound by main */
    void *backend;  /* XPUB, created and bound by main */
};

struct publisher_args
{
    void *ctx;
    const char *frontend_endpoint;
    int message_size;
    int message_count;
};

static void *proxy_main (void *arg)
{
    const struct proxy_args *args = (const struct proxy_args *) arg;
    void *control = bench_socket (args->ctx, ZMQ_PAIR, "zmq_socket(ZMQ_PAIR)");
    bench_connect (control, CONTROL_ENDPOINT);

    int rc = zmq_proxy_steerable (args->frontend, args->backend, NULL, control);
    bench_check (rc, "zmq_proxy_steerable");

    bench_set_linger (args->frontend, 0);
    bench_set_linger (args->backend, 0);
    bench_set_linger (control, 0);
    bench_close (args->frontend);
    bench_close (args->backend);
    bench_close (control);
    return NULL;
}

static void *publisher_main (void *arg)
{
    const struct publisher_args *args = (const struct publisher_args *) arg;
    void *pub = bench_socket (args->ctx, ZMQ_PUB, "zmq_socket(ZMQ_PUB)");
    bench_setsockopt_int (pub, ZMQ_SNDHWM, 0, "zmq_setsockopt(ZMQ_SNDHWM)");
    bench_maybe_curve_client (pub);
    bench_connect (pub, args->frontend_endpoint);

    void *go_pair = bench_socket (args->ctx, ZMQ_PAIR, "zmq_socket(ZMQ_PAIR)");
    bench_connect (go_pair, SIGNAL_ENDPOINT);

    /* Warm-up until main reports that a 'W' arrived. */
    zmq_msg_t msg;
    for (;;) {
        bench_msg_init_size (&msg, 1);
        *(char *) zmq_msg_data (&msg) = 'W';
        bench_msg_send (&msg, pub, 0);

        zmq_pollitem_t item = {go_pair, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll (&item, 1, 10);
        bench_check (rc, "zmq_poll");
        if (rc > 0 && (item.revents & ZMQ_POLLIN)) {
            bench_msg_init (&msg);
            bench_msg_recv (&msg, go_pair);
            bench_msg_close (&msg);
            break;
        }
    }

    for (int i = 0; i != args->message_count; i++) {
        bench_msg_init_size (&msg, (size_t) args->message_size);
        if (args->message_size > 0)
            *(char *) zmq_msg_data (&msg) = 'D';
        bench_msg_send (&msg, pub, 0);
    }

    /* Default linger on the PUB: main only finishes once every message
       went through, so nothing is left to flush when it is closed. */
    bench_close (pub);
    bench_close (go_pair);
    return NULL;
}

/* 1 = warm-up message, 0 = data message (size checked), exits otherwise. */
static int classify (zmq_msg_t *msg, int message_size)
{
    size_t size = zmq_msg_size (msg);
    const char *data = (const char *) zmq_msg_data (msg);
    if (size == 1 && data[0] == 'W')
        return 1;
    if (size != (size_t) message_size) {
        fprintf (stderr, "%s: message of wrong size: got %zu, expected %d\n",
                 bench_name, size, message_size);
        exit (1);
    }
    if (size > 0 && data[0] != 'D')
        bench_die ("data message does not start with 'D'");
    return 0;
}

static void start_thread (pthread_t *thread, void *(*fn) (void *), void *arg)
{
    int err = pthread_create (thread, NULL, fn, arg);
    if (err != 0) {
        errno = err;
        bench_fail ("pthread_create");
    }
}

static void join_thread (pthread_t thread)
{
    int err = pthread_join (thread, NULL);
    if (err != 0) {
        errno = err;
        bench_fail ("pthread_join");
    }
}

int main (int argc, char *argv[])
{
    bench_set_name ("proxy_thr");
    if (argc != 5) {
        fprintf (stderr, "usage: proxy_thr <frontend-endpoint> "
                         "<backend-endpoint> <message-size> <message-count>\n");
        return 1;
    }
    int message_size = bench_parse_int (argv[3], "message-size", 0);
    int message_count = bench_parse_int (argv[4], "message-count", 1);
    bench_alloc_fn counter = bench_alloc_counter ();

    void *ctx = bench_ctx_new ();

    /* Proxy sockets: bound here so their last endpoints are known, then
       handed to the proxy thread. */
    void *frontend = bench_socket (ctx, ZMQ_XSUB, "zmq_socket(ZMQ_XSUB)");
    void *backend = bench_socket (ctx, ZMQ_XPUB, "zmq_socket(ZMQ_XPUB)");
    void *both[2] = {frontend, backend};
    for (int i = 0; i != 2; i++) {
        bench_setsockopt_int (both[i], ZMQ_SNDHWM, 0,
                              "zmq_setsockopt(ZMQ_SNDHWM)");
        bench_setsockopt_int (both[i], ZMQ_RCVHWM, 0,
                              "zmq_setsockopt(ZMQ_RCVHWM)");
        bench_maybe_curve_server (both[i]);
    }
    bench_bind (frontend, argv[1]);
    bench_bind (backend, argv[2]);
    char frontend_endpoint[512], backend_endpoint[512];
    bench_last_endpoint (frontend, frontend_endpoint, sizeof frontend_endpoint);
    bench_last_endpoint (backend, backend_endpoint, sizeof backend_endpoint);

    void *control = bench_socket (ctx, ZMQ_PAIR, "zmq_socket(ZMQ_PAIR)");
    bench_bind (control, CONTROL_ENDPOINT);
    void *go_pair = bench_socket (ctx, ZMQ_PAIR, "zmq_socket(ZMQ_PAIR)");
    bench_bind (go_pair, SIGNAL_ENDPOINT);

    struct proxy_args proxy_args = {ctx, frontend, backend};
    pthread_t proxy;
    start_thread (&proxy, proxy_main, &proxy_args);

    void *sub = bench_socket (ctx, ZMQ_SUB, "zmq_socket(ZMQ_SUB)");
    bench_setsockopt_int (sub, ZMQ_RCVHWM, 0, "zmq_setsockopt(ZMQ_RCVHWM)");
    bench_maybe_curve_client (sub);
    bench_connect (sub, backend_endpoint);
    bench_check (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0),
                 "zmq_setsockopt(ZMQ_SUBSCRIBE)");

    struct publisher_args publisher_args = {ctx, frontend_endpoint,
                                            message_size, message_count};
    pthread_t publisher;
    start_thread (&publisher, publisher_main, &publisher_args);

    zmq_msg_t msg;
    bench_msg_init (&msg);

    /* Warm-up: the first 'W' releases the publisher; later ones (already in
       flight) are skipped until the first 'D'. */
    int signalled = 0;
    for (;;) {
        bench_msg_recv (&msg, sub);
        if (classify (&msg, message_size) == 0)
            break;
        if (!signalled) {
            zmq_msg_t go;
            bench_msg_init_size (&go, 2);
            memcpy (zmq_msg_data (&go), "go", 2);
            bench_msg_send (&go, go_pair, 0);
            signalled = 1;
        }
    }
    if (!signalled)
        bench_die ("data arrived before any warm-up message");

    /* First 'D' is in: start the clock like local_thr. */
    int window_from = message_count / 10;
    unsigned long long allocs_start = 0;
    uint64_t start = bench_now_us ();
    if (window_from == 0)
        allocs_start = bench_alloc_read (counter);
    for (int i = 1; i != message_count; i++) {
        bench_msg_recv (&msg, sub);
        if (classify (&msg, message_size) != 0)
            bench_die ("warm-up message inside the data stream");
        if (i == window_from)
            allocs_start = bench_alloc_read (counter);
    }
    uint64_t elapsed = bench_now_us () - start;
    unsigned long long allocs_end = bench_alloc_read (counter);
    bench_msg_close (&msg);

    join_thread (publisher);

    bench_msg_init_size (&msg, 9);
    memcpy (zmq_msg_data (&msg), "TERMINATE", 9);
    bench_msg_send (&msg, control, 0);
    join_thread (proxy);

    bench_set_linger (sub, 0);
    bench_close (sub);
    bench_close (control);
    bench_close (go_pair);
    bench_ctx_term (ctx);

    bench_print_thr (message_size, message_count, elapsed);
    bench_print_allocs (counter, allocs_start, allocs_end,
                        (long long) message_count - 1 - window_from);
    return 0;
}
