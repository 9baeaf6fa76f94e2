/*
 * inproc_thr <message-size> <message-count>
 *
 * Throughput over inproc://thr_test within one process: a PUSH in a worker
 * thread sends, the PULL in the main thread receives and times from the
 * first message on (same output as local_thr).
 */
#include <pthread.h>

#include "bench_common.h"

struct sender_args
{
    void *ctx;
    int message_size;
    int message_count;
};

static void *sender_main (void *arg)
{
    const struct sender_args *args = (const struct sender_args *) arg;
    void *s = bench_socket (args->ctx, ZMQ_PUSH, "zmq_socket(ZMQ_PUSH)");
    bench_connect (s, "inproc://thr_test");

    zmq_msg_t msg;
    for (int i = 0; i != args->message_count; i++) {
        bench_msg_init_size (&msg, (size_t) args->message_size);
        bench_msg_send (&msg, s, 0);
    }
    bench_close (s);
    return NULL;
}

int main (int argc, char *argv[])
{
    bench_set_name ("inproc_thr");
    if (argc != 3) {
        fprintf (stderr, "usage: inproc_thr <message-size> <message-count>\n");
        return 1;
    }
    int message_size = bench_parse_int (argv[1], "message-size", 0);
    int message_count = bench_parse_int (argv[2], "message-count", 1);
    bench_alloc_fn counter = bench_alloc_counter ();

    void *ctx = bench_ctx_new ();
    void *s = bench_socket (ctx, ZMQ_PULL, "zmq_socket(ZMQ_PULL)");
    bench_bind (s, "inproc://thr_test");

    struct sender_args args = {ctx, message_size, message_count};
    pthread_t sender;
    int err = pthread_create (&sender, NULL, sender_main, &args);
    if (err != 0) {
        errno = err;
        bench_fail ("pthread_create");
    }

    struct bench_run run =
      bench_receive_all (s, message_size, message_count, counter);

    err = pthread_join (sender, NULL);
    if (err != 0) {
        errno = err;
        bench_fail ("pthread_join");
    }
    bench_close (s);
    bench_ctx_term (ctx);

    bench_print_thr (message_size, message_count, run.elapsed_us);
    bench_print_allocs (counter, run.allocs_start, run.allocs_end, run.window);
    return 0;
}
