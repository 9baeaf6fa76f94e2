/*
 * remote_lat <connect-to> <message-size> <roundtrip-count>
 *
 * REQ side of the latency test: times roundtrip-count send/receive pairs and
 * reports half the mean round trip.
 */
#include "bench_common.h"

int main (int argc, char *argv[])
{
    bench_set_name ("remote_lat");
    if (argc != 4) {
        fprintf (
          stderr,
          "usage: remote_lat <connect-to> <message-size> <roundtrip-count>\n");
        return 1;
    }
    const char *connect_to = argv[1];
    int message_size = bench_parse_int (argv[2], "message-size", 0);
    int roundtrip_count = bench_parse_int (argv[3], "roundtrip-count", 1);
    bench_alloc_fn counter = bench_alloc_counter ();

    void *ctx = bench_ctx_new ();
    void *s = bench_socket (ctx, ZMQ_REQ, "zmq_socket(ZMQ_REQ)");
    bench_maybe_curve_client (s);
    bench_connect (s, connect_to);

    zmq_msg_t msg;
    bench_msg_init_size (&msg, (size_t) message_size);

    int window_from = roundtrip_count / 10;
    unsigned long long allocs_start = 0;
    uint64_t start = bench_now_us ();
    for (int i = 0; i != roundtrip_count; i++) {
        if (i == window_from)
            allocs_start = bench_alloc_read (counter);
        bench_msg_send (&msg, s, 0);
        bench_msg_recv_sized (&msg, s, message_size);
    }
    uint64_t elapsed = bench_now_us () - start;
    unsigned long long allocs_end = bench_alloc_read (counter);

    bench_msg_close (&msg);
    bench_close (s);
    bench_ctx_term (ctx);

    bench_print_lat (message_size, roundtrip_count, elapsed);
    bench_print_allocs (counter, allocs_start, allocs_end,
                        (long long) roundtrip_count - window_from);
    return 0;
}
