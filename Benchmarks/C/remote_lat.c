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

    struct bench_run run =
      bench_ask_all (s, message_size, roundtrip_count, counter);

    bench_close (s);
    bench_ctx_term (ctx);

    bench_print_lat (message_size, roundtrip_count, run.elapsed_us);
    bench_print_allocs (counter, run.allocs_start, run.allocs_end, run.window);
    return 0;
}
