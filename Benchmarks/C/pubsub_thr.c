/*
 * pubsub_thr <endpoint> <message-size> <message-count> <subscribers>
 *
 * Fan-out throughput within one process.  An XPUB (SNDHWM 0, XPUB_VERBOSE)
 * binds <endpoint>; <subscribers> threads each run a SUB (RCVHWM 0) that
 * connects to the XPUB's ZMQ_LAST_ENDPOINT, subscribes to everything and
 * receives <message-count> messages.  The main thread waits for one
 * subscription per subscriber on the XPUB (no slow-joiner loss), then
 * publishes and reports the rate from the first send until the last
 * subscriber received its last message.
 */
#include <pthread.h>

#include "bench_common.h"

struct subscriber
{
    pthread_t thread;
    void *ctx;
    const char *endpoint;
    int message_size;
    int message_count;
    pthread_barrier_t *done; /* all subscribers + main */
    uint64_t finished_us;    /* written by the thread before the barrier */
};

static void *subscriber_main (void *arg)
{
    struct subscriber *sub = (struct subscriber *) arg;
    void *s = bench_socket (sub->ctx, ZMQ_SUB, "zmq_socket(ZMQ_SUB)");
    bench_setsockopt_int (s, ZMQ_RCVHWM, 0, "zmq_setsockopt(ZMQ_RCVHWM)");
    bench_maybe_curve_client (s);
    bench_connect (s, sub->endpoint);
    bench_check (zmq_setsockopt (s, ZMQ_SUBSCRIBE, "", 0),
                 "zmq_setsockopt(ZMQ_SUBSCRIBE)");

    zmq_msg_t msg;
    bench_msg_init (&msg);
    for (int i = 0; i != sub->message_count; i++)
        bench_msg_recv_sized (&msg, s, sub->message_size);
    sub->finished_us = bench_now_us ();
    bench_msg_close (&msg);

    /* Hold the socket open until main has read the allocation counter, so
       teardown is not counted. */
    pthread_barrier_wait (sub->done);

    bench_set_linger (s, 0);
    bench_close (s);
    return NULL;
}

int main (int argc, char *argv[])
{
    bench_set_name ("pubsub_thr");
    if (argc != 5) {
        fprintf (stderr, "usage: pubsub_thr <endpoint> <message-size> "
                         "<message-count> <subscribers>\n");
        return 1;
    }
    const char *endpoint = argv[1];
    int message_size = bench_parse_int (argv[2], "message-size", 0);
    int message_count = bench_parse_int (argv[3], "message-count", 1);
    int subscribers = bench_parse_int (argv[4], "subscribers", 1);
    bench_alloc_fn counter = bench_alloc_counter ();

    void *ctx = bench_ctx_new ();
    void *pub = bench_socket (ctx, ZMQ_XPUB, "zmq_socket(ZMQ_XPUB)");
    bench_setsockopt_int (pub, ZMQ_SNDHWM, 0, "zmq_setsockopt(ZMQ_SNDHWM)");
    bench_setsockopt_int (pub, ZMQ_XPUB_VERBOSE, 1,
                          "zmq_setsockopt(ZMQ_XPUB_VERBOSE)");
    bench_maybe_curve_server (pub);
    bench_bind (pub, endpoint);
    char last_endpoint[512];
    bench_last_endpoint (pub, last_endpoint, sizeof last_endpoint);

    pthread_barrier_t done;
    int err = pthread_barrier_init (&done, NULL, (unsigned) subscribers + 1);
    if (err != 0) {
        errno = err;
        bench_fail ("pthread_barrier_init");
    }

    struct subscriber *subs =
      (struct subscriber *) calloc ((size_t) subscribers, sizeof *subs);
    if (!subs)
        bench_die ("out of memory");
    for (int i = 0; i != subscribers; i++) {
        subs[i].ctx = ctx;
        subs[i].endpoint = last_endpoint;
        subs[i].message_size = message_size;
        subs[i].message_count = message_count;
        subs[i].done = &done;
        err = pthread_create (&subs[i].thread, NULL, subscriber_main, &subs[i]);
        if (err != 0) {
            errno = err;
            bench_fail ("pthread_create");
        }
    }

    /* One subscription message ("\x01" + topic) per subscriber. */
    zmq_msg_t msg;
    bench_msg_init (&msg);
    for (int i = 0; i != subscribers; i++) {
        size_t size = bench_msg_recv (&msg, pub);
        if (size < 1 || ((const unsigned char *) zmq_msg_data (&msg))[0] != 1)
            bench_die ("unexpected message on the XPUB (not a subscription)");
    }
    bench_msg_close (&msg);

    int window_from = message_count / 10;
    unsigned long long allocs_start = 0;
    uint64_t start = bench_now_us ();
    for (int i = 0; i != message_count; i++) {
        if (i == window_from)
            allocs_start = bench_alloc_read (counter);
        bench_msg_init_size (&msg, (size_t) message_size);
        bench_msg_send (&msg, pub, 0);
    }

    pthread_barrier_wait (&done);
    unsigned long long allocs_end = bench_alloc_read (counter);

    uint64_t finished = start;
    for (int i = 0; i != subscribers; i++) {
        err = pthread_join (subs[i].thread, NULL);
        if (err != 0) {
            errno = err;
            bench_fail ("pthread_join");
        }
        if (subs[i].finished_us > finished)
            finished = subs[i].finished_us;
    }
    pthread_barrier_destroy (&done);
    free (subs);

    bench_set_linger (pub, 0);
    bench_close (pub);
    bench_ctx_term (ctx);

    bench_print_thr (message_size, message_count, finished - start);
    printf ("subscribers: %d\n", subscribers);
    bench_print_allocs (counter, allocs_start, allocs_end,
                        (long long) message_count - window_from);
    return 0;
}
