/*
 * local_lat <bind-to> <message-size> <roundtrip-count>
 *
 * REP side of the latency test: binds and echoes roundtrip-count messages.
 */
#include "bench_common.h"

int main (int argc, char *argv[])
{
    bench_set_name ("local_lat");
    if (argc != 4) {
        fprintf (stderr,
                 "usage: local_lat <bind-to> <message-size> <roundtrip-count>\n");
        return 1;
    }
    const char *bind_to = argv[1];
    int message_size = bench_parse_int (argv[2], "message-size", 0);
    int roundtrip_count = bench_parse_int (argv[3], "roundtrip-count", 1);
    bench_alloc_fn counter = bench_alloc_counter ();

    void *ctx = bench_ctx_new ();
    void *s = bench_socket (ctx, ZMQ_REP, "zmq_socket(ZMQ_REP)");
    bench_maybe_curve_server (s);
    bench_bind (s, bind_to);

    zmq_msg_t msg;
    bench_msg_init (&msg);

    int window_from = roundtrip_count / 10;
    unsigned long long allocs_start = 0;
    for (int i = 0; i != roundtrip_count; i++) {
        if (i == window_from)
            allocs_start = bench_alloc_read (counter);
        bench_msg_recv_sized (&msg, s, message_size);
        /* zmq_msg_send hands the content over and leaves msg empty, ready
           for the next receive. */
        bench_msg_send (&msg, s, 0);
    }
    unsigned long long allocs_end = bench_alloc_read (counter);

    bench_msg_close (&msg);
    bench_close (s);
    bench_ctx_term (ctx);

    bench_print_allocs (counter, allocs_start, allocs_end,
                        (long long) roundtrip_count - window_from);
    return 0;
}
