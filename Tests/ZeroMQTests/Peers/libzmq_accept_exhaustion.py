"""libzmq's side of AcceptExhaustionTests: the same descriptor exhaustion against a pyzmq PULL.

Run by Debian's /usr/bin/python3 (pyzmq 24 on libzmq 4.3.4) as a child of the test, so its
lowered RLIMIT_NOFILE touches nothing else. A good PUSH (another context) keeps sending while
400 raw connections, their sockets numbered above the limit, wait in the PULL's backlog for 200
rounds of 10 ms; then they close, and a new PUSH must be served. Prints one line:

    LIBZMQ I/O thread CPU <percent>% of a core over <seconds> s; good messages <count>

The CPU share sums the PULL context's own threads (its I/O thread and its idle reaper; this
libzmq build leaves them unnamed), read from /proc/self/task/<tid>/stat. No monitor is attached:
libzmq 4.3.4 sends monitor events with a blocking send from the I/O thread, so a monitor nobody
reads stops the I/O thread (the good client is then not served at all) and a slow reader paces it.
"""
import fcntl
import os
import resource
import signal
import socket
import sys
import time

import zmq

HOSTILE, FREE, ROUNDS = 400, 16, 200


def tasks():
    return set(os.listdir("/proc/self/task"))


def cpu(stat_fds):
    # The stat files are opened before the limit is lowered: opening one afterwards would fail.
    ticks = 0
    for fd in stat_fds:
        fields = os.pread(fd, 4096, 0).decode().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks, time.monotonic()


def main():
    signal.alarm(120)  # never outlive a stuck run
    before = tasks()
    server = zmq.Context()
    pull = server.socket(zmq.PULL)
    pull.linger = 0
    pull.rcvtimeo = 10000
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    stats = [os.open(f"/proc/self/task/{t}/stat", os.O_RDONLY) for t in tasks() - before]
    client = zmq.Context()
    push = client.socket(zmq.PUSH)
    push.linger = 0
    push.connect(f"tcp://127.0.0.1:{port}")
    newcomer = client.socket(zmq.PUSH)  # made now: a socket needs descriptors
    newcomer.linger = 0
    sequence = 0

    def deliver():
        nonlocal sequence
        push.send_string(f"good {sequence}")
        received = pull.recv_string()
        assert received == f"good {sequence}", received
        sequence += 1

    deliver()
    limit = max(int(fd) for fd in os.listdir("/proc/self/fd")) + 1 + FREE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    clients = []
    for _ in range(HOSTILE):
        made = socket.socket()
        moved = fcntl.fcntl(made.fileno(), fcntl.F_DUPFD_CLOEXEC, limit + 64)
        made.close()
        clients.append(socket.socket(fileno=moved))
        clients[-1].setblocking(False)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    start = cpu(stats)
    for each in clients:
        try:
            each.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
    for _ in range(ROUNDS):
        deliver()
        time.sleep(0.01)
    end = cpu(stats)
    for each in clients:
        each.close()
    newcomer.connect(f"tcp://127.0.0.1:{port}")
    newcomer.send_string("newcomer")
    assert pull.recv_string() == "newcomer"
    deliver()
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    seconds = end[1] - start[1]
    share = 100 * (end[0] - start[0]) / os.sysconf("SC_CLK_TCK") / seconds
    print(f"LIBZMQ I/O thread CPU {share:.1f}% of a core over {seconds:.1f} s; good messages {sequence}", flush=True)
    for each in (push, newcomer, pull):
        each.close(linger=0)
    client.term()
    server.term()


if __name__ == "__main__":
    sys.exit(main())
