/* Multicast throughput over epgm:// with libzmq: the twin of Sources/Tools/epgm_thr (same
 * arguments, same output lines). See that file for the protocol (warm-up "W", end "E"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void check(int rc, const char *what) {
    if (rc != 0) { fprintf(stderr, "epgm_thr: %s: %s\n", what, zmq_strerror(zmq_errno())); exit(1); }
}

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: epgm_thr sub|pub <endpoint> <size> <count> <rate kbit/s>\n"); return 1; }
    const char *role = argv[1], *endpoint = argv[2];
    int size = atoi(argv[3]), count = atoi(argv[4]), rate = atoi(argv[5]);
    int recovery = 1000, zero = 0, ten_s = 10000;
    void *context = zmq_ctx_new();
    if (strcmp(role, "sub") == 0) {
        void *s = zmq_socket(context, ZMQ_SUB);
        check(zmq_setsockopt(s, ZMQ_RATE, &rate, sizeof rate), "RATE");
        check(zmq_setsockopt(s, ZMQ_RECOVERY_IVL, &recovery, sizeof recovery), "RECOVERY_IVL");
        check(zmq_setsockopt(s, ZMQ_RCVHWM, &zero, sizeof zero), "RCVHWM");
        check(zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero), "LINGER");
        check(zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0), "SUBSCRIBE");
        check(zmq_connect(s, endpoint), "connect");
        printf("ready\n");
        fflush(stdout);
        int timeout = 30000, received = 0;
        check(zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout), "RCVTIMEO");
        double start = 0, last = 0;
        char *buffer = malloc(size + 1);
        while (received < count) {
            int n = zmq_recv(s, buffer, size + 1, 0);
            if (n < 0) break;
            if (n == size) {
                if (received == 0) {
                    start = now();
                    timeout = 2000;
                    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
                }
                received++;
                last = now();
            } else if (n == 1 && buffer[0] == 'E' && received > 0) {
                break;
            }
        }
        double seconds = last - start, per = seconds > 0 ? received / seconds : 0;
        printf("message size: %d [B]\nmessage count: %d\nreceived: %d\n", size, count, received);
        printf("mean throughput: %d [msg/s]\nmean throughput: %.3f [Mb/s]\n", (int)per, per * size * 8 / 1e6);
        free(buffer);
        zmq_close(s);
    } else {
        void *s = zmq_socket(context, ZMQ_PUB);
        check(zmq_setsockopt(s, ZMQ_RATE, &rate, sizeof rate), "RATE");
        check(zmq_setsockopt(s, ZMQ_RECOVERY_IVL, &recovery, sizeof recovery), "RECOVERY_IVL");
        check(zmq_setsockopt(s, ZMQ_SNDHWM, &zero, sizeof zero), "SNDHWM");
        check(zmq_setsockopt(s, ZMQ_LINGER, &ten_s, sizeof ten_s), "LINGER");
        check(zmq_connect(s, endpoint), "connect");
        for (int i = 0; i < 100; i++) { zmq_send(s, "W", 1, 0); usleep(10000); }
        char *body = malloc(size);
        memset(body, 0x42, size);
        for (int i = 0; i < count; i++) zmq_send(s, body, size, 0);
        for (int i = 0; i < 20; i++) { zmq_send(s, "E", 1, 0); usleep(10000); }
        free(body);
        zmq_close(s);
    }
    zmq_ctx_term(context);
    return 0;
}
