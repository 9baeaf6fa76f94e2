/*
 * idle_conns <bind-endpoint> <connections>
 *
 * Memory cost of idle connections on a ROUTER.  Binds, prints
 * "bound: <last endpoint>" (flushed, for a driver to read), waits until
 * <connections> messages arrived (each peer sends one), waits 500 ms and
 * reports VmRSS / VmHWM from /proc/self/status against the baseline taken
 * right after binding.
 */
#include <sys/resource.h>
#include <unistd.h>

#include "bench_common.h"

/* Reads a "<key>: <n> kB" line of /proc/self/status, in KiB. */
static long read_status_kib (const char *key)
{
    FILE *f = fopen ("/proc/self/status", "r");
    if (!f) {
        perror ("idle_conns: /proc/self/status");
        exit (1);
    }
    char line[256];
    size_t key_len = strlen (key);
    long value = -1;
    while (fgets (line, sizeof line, f)) {
        if (strncmp (line, key, key_len) == 0 && line[key_len] == ':') {
            value = strtol (line + key_len + 1, NULL, 10);
            break;
        }
    }
    fclose (f);
    if (value < 0) {
        fprintf (stderr, "idle_conns: no %s in /proc/self/status\n", key);
        exit (1);
    }
    return value;
}

/* Identities packed into 64 bits: exact for ids up to 7 bytes (the 5-byte
   ids libzmq generates), FNV-1a hashed beyond that. */
static uint64_t id_key (const unsigned char *data, size_t size)
{
    uint64_t key = 0;
    if (size <= 7) {
        for (size_t i = 0; i != size; i++)
            key |= (uint64_t) data[i] << (8 * i);
        return key | ((uint64_t) size << 56);
    }
    key = 1469598103934665603ull;
    for (size_t i = 0; i != size; i++) {
        key ^= data[i];
        key *= 1099511628211ull;
    }
    return key | (1ull << 63);
}

static int compare_u64 (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

int main (int argc, char *argv[])
{
    bench_set_name ("idle_conns");
    if (argc != 3) {
        fprintf (stderr, "usage: idle_conns <bind-endpoint> <connections>\n");
        return 1;
    }
    int connections = bench_parse_int (argv[2], "connections", 1);

    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) != 0) {
        perror ("idle_conns: getrlimit");
        return 1;
    }
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit (RLIMIT_NOFILE, &rl) != 0) {
        perror ("idle_conns: setrlimit");
        return 1;
    }

    /* Reserved up front; only the 8 bytes per peer actually written become
       resident. */
    uint64_t *keys = (uint64_t *) malloc ((size_t) connections * sizeof *keys);
    if (!keys)
        bench_die ("out of memory");

    void *ctx = bench_ctx_new ();
    void *router = bench_socket (ctx, ZMQ_ROUTER, "zmq_socket(ZMQ_ROUTER)");
    bench_bind (router, argv[1]);
    char endpoint[512];
    bench_last_endpoint (router, endpoint, sizeof endpoint);
    long baseline = read_status_kib ("VmRSS");
    printf ("bound: %s\n", endpoint);
    fflush (stdout);

    zmq_msg_t id, body;
    bench_msg_init (&id);
    bench_msg_init (&body);
    for (int i = 0; i != connections; i++) {
        size_t id_size = bench_msg_recv (&id, router);
        keys[i] = id_key ((const unsigned char *) zmq_msg_data (&id), id_size);
        int more = 1;
        while (more) { /* drop the body frame(s) */
            size_t more_size = sizeof more;
            bench_check (
              zmq_getsockopt (router, ZMQ_RCVMORE, &more, &more_size),
              "zmq_getsockopt(ZMQ_RCVMORE)");
            if (more)
                bench_msg_recv (&body, router);
        }
    }
    bench_msg_close (&id);
    bench_msg_close (&body);

    usleep (500 * 1000);
    long rss = read_status_kib ("VmRSS");
    long peak = read_status_kib ("VmHWM");

    qsort (keys, (size_t) connections, sizeof *keys, compare_u64);
    int distinct = connections > 0 ? 1 : 0;
    for (int i = 1; i < connections; i++)
        distinct += keys[i] != keys[i - 1];
    free (keys);
    if (distinct != connections)
        fprintf (stderr, "idle_conns: %d messages came from only %d peers\n",
                 connections, distinct);

    printf ("connections: %d\n", distinct);
    printf ("baseline rss: %ld [KiB]\n", baseline);
    printf ("rss: %ld [KiB]\n", rss);
    printf ("peak rss: %ld [KiB]\n", peak);
    printf ("per connection: %.1f [KiB]\n",
            (double) (rss - baseline) / (double) connections);
    fflush (stdout);

    bench_set_linger (router, 0);
    bench_close (router);
    bench_ctx_term (ctx);
    return 0;
}
