/*
 * inproc_lat <message-size> <roundtrip-count>
 *
 * Latency over inproc://lat_test within one process: a REP in a worker
 * thread echoes, the REQ in the main thread times the round trips (same
 * output as remote_lat).
 */
#include <pthread.h>

#include "bench_common.h"

struct echo_args
{
    void *socket; /* REP, bound by main before the thread starts */
    int message_size;
    int roundtrip_count;
};

static void *echo_main (void *arg)
{
    const struct echo_args *args = (const struct echo_args *) arg;
    zmq_msg_t msg;
    bench_msg_init (&msg);
    for (int i = 0; i != args->roundtrip_count; i++) {
        bench_msg_recv_sized (&msg, args->socket, args->message_size);
        bench_msg_send (&msg, args->socket, 0);
    }
    bench_msg_close (&msg);
    bench_close (args->socket);
    return NULL;
}

int main (int argc, char *argv[])
{
    bench_set_name ("inproc_lat");
    if (argc != 3) {
        fprintf (stderr, "usage: inproc_lat <message-size> <roundtrip-count>\n");
        return 1;
    }
    int message_size = bench_parse_int (argv[1], "message-size", 0);
    int roundtrip_count = bench_parse_int (argv[2], "roundtrip-count", 1);
    bench_alloc_fn counter = bench_alloc_counter ();

    void *ctx = bench_ctx_new ();

    /* The REP is created and bound here, then handed to the echo thread
       (pthread_create is a full memory barrier, so the migration is safe);
       from then on only the echo thread touches it. */
    void *rep = bench_socket (ctx, ZMQ_REP, "zmq_socket(ZMQ_REP)");
    bench_bind (rep, "inproc://lat_test");
    struct echo_args args = {rep, message_size, roundtrip_count};
    pthread_t echo;
    int err = pthread_create (&echo, NULL, echo_main, &args);
    if (err != 0) {
        errno = err;
        bench_fail ("pthread_create");
    }

    void *s = bench_socket (ctx, ZMQ_REQ, "zmq_socket(ZMQ_REQ)");
    bench_connect (s, "inproc://lat_test");

    struct bench_run run =
      bench_ask_all (s, message_size, roundtrip_count, counter);

    err = pthread_join (echo, NULL);
    if (err != 0) {
        errno = err;
        bench_fail ("pthread_join");
    }
    bench_close (s);
    bench_ctx_term (ctx);

    bench_print_lat (message_size, roundtrip_count, run.elapsed_us);
    bench_print_allocs (counter, run.allocs_start, run.allocs_end, run.window);
    return 0;
}
