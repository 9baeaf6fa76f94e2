/*
 * local_thr <bind-to> <message-size> <message-count>
 *
 * PULL side of the throughput test: binds, waits for the first message,
 * then times the reception of the remaining message-count - 1 messages.
 */
#include "bench_common.h"

int main (int argc, char *argv[])
{
    bench_set_name ("local_thr");
    if (argc != 4) {
        fprintf (stderr,
                 "usage: local_thr <bind-to> <message-size> <message-count>\n");
        return 1;
    }
    const char *bind_to = argv[1];
    int message_size = bench_parse_int (argv[2], "message-size", 0);
    int message_count = bench_parse_int (argv[3], "message-count", 1);
    bench_alloc_fn counter = bench_alloc_counter ();

    void *ctx = bench_ctx_new ();
    void *s = bench_socket (ctx, ZMQ_PULL, "zmq_socket(ZMQ_PULL)");
    bench_maybe_curve_server (s);
    bench_bind (s, bind_to);

    /* The clock starts once the first message is in. */
    struct bench_run run =
      bench_receive_all (s, message_size, message_count, counter);

    bench_close (s);
    bench_ctx_term (ctx);

    bench_print_thr (message_size, message_count, run.elapsed_us);
    bench_print_allocs (counter, run.allocs_start, run.allocs_end, run.window);
    return 0;
}
