/*
 * curve_handshakes <bind-endpoint> <count>
 *
 * CURVE connection set-up rate.  A server thread runs a ROUTER with the
 * fixed CURVE server keys (always, whatever BENCH_CURVE says) and echoes
 * every [identity, body] message until the body is "STOP".  The main
 * thread, <count> times: creates a DEALER with the client keys and
 * ZMQ_LINGER 0, connects, sends one byte, waits for the echo, closes the
 * socket.  Each iteration therefore is connect + full CURVE handshake + one
 * round trip.
 */
#include <pthread.h>

#include "bench_common.h"

/* Guards against a stalled handshake turning into a silent hang. */
#define ECHO_TIMEOUT_MS 10000

static void *server_main (void *arg)
{
    void *router = arg; /* created and bound by main, owned by us now */
    zmq_msg_t id, body;
    bench_msg_init (&id);
    bench_msg_init (&body);
    for (;;) {
        bench_msg_recv (&id, router);
        int more = 0;
        size_t more_size = sizeof more;
        bench_check (zmq_getsockopt (router, ZMQ_RCVMORE, &more, &more_size),
                     "zmq_getsockopt(ZMQ_RCVMORE)");
        if (!more)
            bench_die ("ROUTER received a message without a body");
        size_t size = bench_msg_recv (&body, router);
        int stop = size == 4 && memcmp (zmq_msg_data (&body), "STOP", 4) == 0;
        bench_msg_send (&id, router, ZMQ_SNDMORE);
        bench_msg_send (&body, router, 0);
        if (stop)
            break;
    }
    bench_msg_close (&id);
    bench_msg_close (&body);
    bench_set_linger (router, 0);
    bench_close (router);
    return NULL;
}

/* One client connection: connect, handshake, send body, await the echo. */
static void one_client (void *ctx, const char *endpoint, const char *body,
                        size_t body_size)
{
    void *dealer = bench_socket (ctx, ZMQ_DEALER, "zmq_socket(ZMQ_DEALER)");
    bench_curve_client (dealer);
    bench_set_linger (dealer, 0);
    bench_setsockopt_int (dealer, ZMQ_RCVTIMEO, ECHO_TIMEOUT_MS,
                          "zmq_setsockopt(ZMQ_RCVTIMEO)");
    bench_connect (dealer, endpoint);

    bench_check (zmq_send (dealer, body, body_size, 0), "zmq_send");
    zmq_msg_t msg;
    bench_msg_init (&msg);
    size_t size = bench_msg_recv (&msg, dealer);
    if (size != body_size || memcmp (zmq_msg_data (&msg), body, size) != 0)
        bench_die ("echo does not match what was sent");
    bench_msg_close (&msg);
    bench_close (dealer);
}

int main (int argc, char *argv[])
{
    bench_set_name ("curve_handshakes");
    if (argc != 3) {
        fprintf (stderr, "usage: curve_handshakes <bind-endpoint> <count>\n");
        return 1;
    }
    int count = bench_parse_int (argv[2], "count", 1);

    void *ctx = bench_ctx_new ();
    void *router = bench_socket (ctx, ZMQ_ROUTER, "zmq_socket(ZMQ_ROUTER)");
    bench_curve_server (router);
    bench_bind (router, argv[1]);
    char endpoint[512];
    bench_last_endpoint (router, endpoint, sizeof endpoint);

    pthread_t server;
    int err = pthread_create (&server, NULL, server_main, router);
    if (err != 0) {
        errno = err;
        bench_fail ("pthread_create");
    }

    uint64_t start = bench_now_us ();
    for (int i = 0; i != count; i++)
        one_client (ctx, endpoint, "x", 1);
    uint64_t elapsed = bench_now_us () - start;
    if (elapsed == 0)
        elapsed = 1;

    one_client (ctx, endpoint, "STOP", 4);
    err = pthread_join (server, NULL);
    if (err != 0) {
        errno = err;
        bench_fail ("pthread_join");
    }
    bench_ctx_term (ctx);

    printf ("handshakes: %d\n", count);
    printf ("mean rate: %.1f [handshakes/s]\n",
            (double) count * 1000000 / (double) elapsed);
    return 0;
}
