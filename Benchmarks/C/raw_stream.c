/*
 * raw_stream <tcp|unix> <write-size> <total-bytes>
 *
 * Kernel ceiling for a single byte stream, no ZeroMQ involved.  The parent
 * listens (TCP on 127.0.0.1, ephemeral port, or a Unix socket at a temporary
 * path), forks; the child connects and writes <total-bytes> in <write-size>
 * chunks from one buffer; the parent reads with a buffer of
 * max(write-size, 64 KiB) until EOF, timing from the first byte to EOF.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

__attribute__ ((noreturn)) static void fail (const char *what)
{
    fprintf (stderr, "raw_stream: %s failed: %s\n", what, strerror (errno));
    exit (1);
}

static uint64_t now_ns (void)
{
    struct timespec ts;
    if (clock_gettime (CLOCK_MONOTONIC, &ts) != 0)
        fail ("clock_gettime");
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static unsigned long long parse_size (const char *text, const char *what)
{
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull (text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value == 0
        || text[0] == '-') {
        fprintf (stderr, "raw_stream: invalid %s: '%s'\n", what, text);
        exit (1);
    }
    return value;
}

/* Child: connect, write everything, close. */
static void writer (const struct sockaddr *addr, socklen_t addr_len,
                    int family, size_t write_size,
                    unsigned long long total_bytes)
{
    int fd = socket (family, SOCK_STREAM, 0);
    if (fd < 0)
        fail ("child socket");
    if (connect (fd, addr, addr_len) != 0)
        fail ("child connect");
    char *buf = (char *) malloc (write_size);
    if (!buf)
        fail ("child malloc");
    memset (buf, 0, write_size);

    unsigned long long left = total_bytes;
    while (left > 0) {
        size_t chunk = left < write_size ? (size_t) left : write_size;
        size_t done = 0;
        while (done < chunk) {
            ssize_t n = write (fd, buf + done, chunk - done);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                fail ("child write");
            }
            done += (size_t) n;
        }
        left -= chunk;
    }
    if (close (fd) != 0)
        fail ("child close");
    free (buf);
}

int main (int argc, char *argv[])
{
    if (argc != 4
        || (strcmp (argv[1], "tcp") != 0 && strcmp (argv[1], "unix") != 0)) {
        fprintf (stderr,
                 "usage: raw_stream <tcp|unix> <write-size> <total-bytes>\n");
        return 1;
    }
    int is_tcp = strcmp (argv[1], "tcp") == 0;
    unsigned long long write_size_ull = parse_size (argv[2], "write-size");
    unsigned long long total_bytes = parse_size (argv[3], "total-bytes");
    if (write_size_ull > (1ull << 30)) {
        fprintf (stderr, "raw_stream: write-size too large\n");
        return 1;
    }
    size_t write_size = (size_t) write_size_ull;
    size_t read_size = write_size < 65536 ? 65536 : write_size;

    struct sockaddr_in in_addr;
    struct sockaddr_un un_addr;
    struct sockaddr *addr;
    socklen_t addr_len;
    int family = is_tcp ? AF_INET : AF_UNIX;

    int listener = socket (family, SOCK_STREAM, 0);
    if (listener < 0)
        fail ("socket");
    if (is_tcp) {
        memset (&in_addr, 0, sizeof in_addr);
        in_addr.sin_family = AF_INET;
        in_addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        in_addr.sin_port = 0;
        addr = (struct sockaddr *) &in_addr;
        addr_len = sizeof in_addr;
        if (bind (listener, addr, addr_len) != 0)
            fail ("bind");
        if (getsockname (listener, addr, &addr_len) != 0)
            fail ("getsockname");
    } else {
        memset (&un_addr, 0, sizeof un_addr);
        un_addr.sun_family = AF_UNIX;
        const char *tmp = getenv ("TMPDIR");
        if (!tmp || !*tmp)
            tmp = "/tmp";
        int len = snprintf (un_addr.sun_path, sizeof un_addr.sun_path,
                            "%s/raw_stream.%ld.sock", tmp, (long) getpid ());
        if (len < 0 || (size_t) len >= sizeof un_addr.sun_path) {
            fprintf (stderr, "raw_stream: socket path too long\n");
            return 1;
        }
        unlink (un_addr.sun_path);
        addr = (struct sockaddr *) &un_addr;
        addr_len = sizeof un_addr;
        if (bind (listener, addr, addr_len) != 0)
            fail ("bind");
    }
    if (listen (listener, 1) != 0)
        fail ("listen");

    fflush (stdout);
    pid_t child = fork ();
    if (child < 0)
        fail ("fork");
    if (child == 0) {
        close (listener);
        writer (addr, addr_len, family, write_size, total_bytes);
        _exit (0);
    }

    /* Do not wait forever for a child that failed to connect. */
    struct pollfd pfd = {listener, POLLIN, 0};
    int ready = poll (&pfd, 1, 10000);
    if (ready < 0)
        fail ("poll");
    if (ready == 0) {
        fprintf (stderr, "raw_stream: writer did not connect within 10 s\n");
        return 1;
    }
    int fd = accept (listener, NULL, NULL);
    if (fd < 0)
        fail ("accept");
    close (listener);
    if (!is_tcp)
        unlink (un_addr.sun_path);

    char *buf = (char *) malloc (read_size);
    if (!buf)
        fail ("malloc");
    unsigned long long received = 0, timed_bytes = 0;
    uint64_t start = 0;
    for (;;) {
        ssize_t n = read (fd, buf, read_size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail ("read");
        }
        if (n == 0)
            break;
        if (received == 0)
            start = now_ns (); /* clock starts with the first byte in */
        else
            timed_bytes += (unsigned long long) n;
        received += (unsigned long long) n;
    }
    uint64_t elapsed = now_ns () - start;
    if (elapsed == 0)
        elapsed = 1;
    close (fd);
    free (buf);

    int status = 0;
    if (waitpid (child, &status, 0) < 0)
        fail ("waitpid");
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        fprintf (stderr, "raw_stream: writer child failed (status %d)\n",
                 status);
        return 1;
    }
    if (received != total_bytes) {
        fprintf (stderr, "raw_stream: received %llu bytes, expected %llu\n",
                 received, total_bytes);
        return 1;
    }

    /* Bytes after the first read over the time from the first read to EOF. */
    printf ("raw %s stream: %.3f [GB/s]\n", argv[1],
            (double) timed_bytes / ((double) elapsed / 1e9) / 1e9);
    return 0;
}
