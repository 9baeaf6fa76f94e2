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

    zmq_msg_t msg;
    bench_msg_init (&msg);

    /* The clock starts once the first message is in. */
    int window_from = message_count / 10;
    unsigned long long allocs_start = 0;
    bench_msg_recv_sized (&msg, s, message_size);
    uint64_t start = bench_now_us ();
    if (window_from == 0)
        allocs_start = bench_alloc_read (counter);

    for (int i = 1; i != message_count; i++) {
        bench_msg_recv_sized (&msg, s, message_size);
        if (i == window_from)
            allocs_start = bench_alloc_read (counter);
    }

    uint64_t elapsed = bench_now_us () - start;
    unsigned long long allocs_end = bench_alloc_read (counter);

    bench_msg_close (&msg);
    bench_close (s);
    bench_ctx_term (ctx);

    bench_print_thr (message_size, message_count, elapsed);
    bench_print_allocs (counter, allocs_start, allocs_end,
                        (long long) message_count - 1 - window_from);
    return 0;
}
