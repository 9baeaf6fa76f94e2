/*
 * remote_thr <connect-to> <message-size> <message-count>
 *
 * PUSH side of the throughput test: connects and sends message-count
 * messages of message-size bytes, then closes with the default linger so
 * that everything is delivered before the context terminates.
 */
#include "bench_common.h"

int main (int argc, char *argv[])
{
    bench_set_name ("remote_thr");
    if (argc != 4) {
        fprintf (
          stderr,
          "usage: remote_thr <connect-to> <message-size> <message-count>\n");
        return 1;
    }
    const char *connect_to = argv[1];
    int message_size = bench_parse_int (argv[2], "message-size", 0);
    int message_count = bench_parse_int (argv[3], "message-count", 1);
    bench_alloc_fn counter = bench_alloc_counter ();

    void *ctx = bench_ctx_new ();
    void *s = bench_socket (ctx, ZMQ_PUSH, "zmq_socket(ZMQ_PUSH)");
    bench_maybe_curve_client (s);
    bench_connect (s, connect_to);

    int window_from = message_count / 10;
    unsigned long long allocs_start = 0;
    zmq_msg_t msg;
    for (int i = 0; i != message_count; i++) {
        if (i == window_from)
            allocs_start = bench_alloc_read (counter);
        bench_msg_init_size (&msg, (size_t) message_size);
        bench_msg_send (&msg, s, 0);
    }
    unsigned long long allocs_end = bench_alloc_read (counter);

    /* BENCH_HOLD=1 (set by Benchmarks/run): keep the connection open until stdin closes,
       which the runner does once the receiver has everything. A libzmq receiver over ipc
       loses what is still queued when the sender closes first (libzmq issue #4660). */
    const char *hold = getenv ("BENCH_HOLD");
    if (hold != NULL && strcmp (hold, "1") == 0)
        while (fgetc (stdin) != EOF) {
        }
    bench_close (s);
    bench_ctx_term (ctx);

    bench_print_allocs (counter, allocs_start, allocs_end,
                        (long long) message_count - window_from);
    return 0;
}
