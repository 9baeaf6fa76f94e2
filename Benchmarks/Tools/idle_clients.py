#!/usr/bin/env python3
"""idle_clients.py <endpoint> <connections>

Opens <connections> idle DEALER connections to <endpoint> (linger 0), each of
which sends b"hi" once, prints "clients: N connected" when every send has
returned, then keeps the connections open until standard input reaches EOF
(or the process is killed).

Used as the peer of Benchmarks/C/idle_conns: a driver starts idle_conns,
reads its "bound: <endpoint>" line, starts this script, waits for idle_conns
to exit and then closes this script's standard input.
"""
import os
import resource
import sys

try:
    import zmq
except ImportError:
    # pyzmq is often only installed for the system interpreter (Debian's
    # python3-zmq) while another python3 comes first on PATH.
    system_python = "/usr/bin/python3"
    if (os.path.exists(system_python)
            and os.path.realpath(sys.executable) != os.path.realpath(system_python)):
        os.execv(system_python, [system_python] + sys.argv)
    sys.stderr.write("idle_clients: pyzmq is not installed "
                     "(apt-get install python3-zmq)\n")
    sys.exit(1)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: idle_clients.py <endpoint> <connections>\n")
        return 1
    endpoint = sys.argv[1]
    try:
        connections = int(sys.argv[2])
    except ValueError:
        connections = -1
    if connections < 1:
        sys.stderr.write("idle_clients: invalid connections: %r\n" % sys.argv[2])
        return 1

    # Every DEALER costs a TCP descriptor plus its mailbox's eventfd.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard != resource.RLIM_INFINITY and hard < 2 * connections + 64:
        sys.stderr.write("idle_clients: warning: RLIMIT_NOFILE %d may be too "
                         "low for %d connections\n" % (hard, connections))

    ctx = zmq.Context()
    ctx.MAX_SOCKETS = connections + 64  # must be set before the first socket
    sockets = []
    try:
        for _ in range(connections):
            s = ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.connect(endpoint)
            s.send(b"hi")
            sockets.append(s)
        sys.stdout.write("clients: %d connected\n" % len(sockets))
        sys.stdout.flush()

        # Stay connected until the driver closes our standard input.
        try:
            while sys.stdin.buffer.read(65536):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        for s in sockets:
            s.close(linger=0)
        ctx.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
