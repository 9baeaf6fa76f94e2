#!/usr/bin/python3
"""A libzmq PGM peer for the multicast tests (pyzmq on Debian's libzmq 4.3.4, built with PGM).

    pgm_peer.py pub ENDPOINT RATE     reads "SEND <hex>|<hex>..." lines from stdin and publishes them
    pgm_peer.py sub ENDPOINT RATE     prints "RECV <hex>|<hex>..." for every message received

Prints READY once connected. Ends on EOF of stdin, QUIT, or after 60 s.

Standard output carries these lines and nothing else: libpgm writes its warnings ("Warn: Interface
lo reports as a loopback device.") to file descriptor 1 from libzmq's I/O thread, at moments and
with buffering of its own, so the peer keeps the original stdout for itself and points descriptor 1
at stderr before libpgm can write anything.
"""
import os
import signal
import sys

PROTOCOL = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)


def say(line):
    PROTOCOL.write(line + "\n")
    PROTOCOL.flush()


try:
    import zmq
except ImportError as error:
    say("NOZMQ %s" % error)
    sys.exit(3)


def main():
    role, endpoint, rate = sys.argv[1], sys.argv[2], int(sys.argv[3])
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(60)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUB if role == "pub" else zmq.SUB)
    sock.linger = 2000 if role == "pub" else 0
    sock.setsockopt(zmq.RATE, rate)
    sock.setsockopt(zmq.RECOVERY_IVL, 2000)
    if role == "sub":
        sock.setsockopt(zmq.SUBSCRIBE, b"")
    sock.connect(endpoint)
    say("READY")
    stdin = sys.stdin.fileno()
    poller = zmq.Poller()
    poller.register(stdin, zmq.POLLIN)
    if role == "sub":
        poller.register(sock, zmq.POLLIN)
    pending = b""
    while True:
        for item, _ in poller.poll(100):
            if item == stdin:
                data = os.read(stdin, 65536)
                if not data:
                    os._exit(0)
                pending += data
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    text = line.decode()
                    if text == "QUIT":
                        sock.close()
                        os._exit(0)
                    if text.startswith("SEND "):
                        parts = [bytes.fromhex(p) for p in text[5:].split("|")]
                        sock.send_multipart(parts)
            else:
                parts = sock.recv_multipart()
                say("RECV " + "|".join(p.hex() for p in parts))


main()
