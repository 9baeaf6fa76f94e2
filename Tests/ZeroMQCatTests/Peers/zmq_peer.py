#!/usr/bin/python3
"""A libzmq peer for the zmqcat tests: one pyzmq socket (Debian's pyzmq on libzmq 4.3),
set up entirely from the command line.

stdout, one flushed line per fact (frames in lowercase hex, "" for an empty frame):
    BOUND <endpoint>        bound (--bind), the wildcard port resolved
    STARTED                 the socket is set up (bound or connecting)
    RECV <hex>|<hex>|...    a message received (after it was echoed, with --echo)
    SENT                    a --send message went out
    SENDFAIL <reason>       a --send message found no peer within --send-retry seconds
    ZAP <mechanism> <status>   the ZAP handler's answer (--zap)
    NOZMQ <error>           /usr/bin/python3 cannot import zmq (exit status 3)

The --send messages go out in order, each retried without blocking until a peer takes it.
Nothing can hang: the process exits when its stdin closes (the test is gone) or after
--timeout seconds, whatever happens.
"""
import argparse
import os
import signal
import sys
import threading
import time

try:
    import zmq
except Exception as error:
    print("NOZMQ %s: %r" % (sys.executable, error), flush=True)
    sys.exit(3)

LOCK = threading.Lock()


def out(*words):
    with LOCK:
        sys.stdout.write(" ".join(str(w) for w in words) + "\n")
        sys.stdout.flush()


def zap_handler(ctx, ready, user, password):
    """RFC 27 on inproc://zeromq.zap.01: PLAIN needs user/password, the rest pass."""
    sock = ctx.socket(zmq.REP)
    sock.linger = 0
    sock.bind("inproc://zeromq.zap.01")
    ready.set()
    while True:
        frames = sock.recv_multipart()
        version, request_id, _domain, _address, _identity, mechanism = frames[:6]
        status, text = b"200", b"OK"
        if mechanism == b"PLAIN" and frames[6:] != [user.encode(), password.encode()]:
            status, text = b"400", b"Denied"
        out("ZAP", mechanism.decode(), status.decode())
        sock.send_multipart([version, request_id, status, text, b"user", b""])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--type", required=True, help="PUSH, PULL, REQ, REP, ROUTER, ...")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--bind", metavar="ENDPOINT")
    where.add_argument("--connect", metavar="ENDPOINT")
    p.add_argument("--send", action="append", default=[], metavar="HEX|HEX", help="a message to send")
    p.add_argument("--send-retry", type=float, default=10.0, metavar="SECONDS")
    p.add_argument("--send-interval", type=float, default=0.0, metavar="SECONDS",
                   help="pause between --send messages (a PUB publishing while subscribers join)")
    p.add_argument("--echo", action="store_true", help="send every received message back")
    p.add_argument("--subscribe", action="append", default=[], metavar="HEX")
    p.add_argument("--identity", metavar="HEX", help="ZMQ_ROUTING_ID")
    p.add_argument("--curve-server-secret", metavar="Z85", help="be a CURVE server with this secret key")
    p.add_argument("--curve-server-key", metavar="Z85", help="be a CURVE client of this server")
    p.add_argument("--curve-secret", metavar="Z85", help="the CURVE client's secret key (default: a fresh pair)")
    p.add_argument("--plain-server", nargs=2, metavar=("USER", "PASSWORD"), help="be a PLAIN server (with ZAP)")
    p.add_argument("--timeout", type=float, default=20.0, help="hard limit on the process, seconds")
    args = p.parse_args()

    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(max(1, int(args.timeout)))

    ctx = zmq.Context.instance()
    if args.plain_server:
        ready = threading.Event()
        threading.Thread(target=zap_handler, args=(ctx, ready, *args.plain_server), daemon=True).start()
        ready.wait(5)
    sock = ctx.socket(getattr(zmq, args.type))
    sock.linger = 0
    if args.plain_server:
        sock.plain_server = True
    if args.curve_server_secret:
        sock.curve_server = True
        sock.curve_secretkey = args.curve_server_secret.encode()
    if args.curve_server_key:
        if args.curve_secret:
            secret = args.curve_secret.encode()
            public = zmq.curve_public(secret)
        else:
            public, secret = zmq.curve_keypair()
        sock.curve_serverkey = args.curve_server_key.encode()
        sock.curve_publickey = public
        sock.curve_secretkey = secret
    if args.identity is not None:
        sock.setsockopt(zmq.ROUTING_ID, bytes.fromhex(args.identity))
    for topic in args.subscribe:
        sock.setsockopt(zmq.SUBSCRIBE, bytes.fromhex(topic))
    if args.bind:
        sock.bind(args.bind)
        out("BOUND", sock.getsockopt(zmq.LAST_ENDPOINT).decode())
    else:
        sock.connect(args.connect)
    out("STARTED")

    pending = [[bytes.fromhex(part) for part in message.split("|")] for message in args.send]
    deadline = time.monotonic() + args.send_retry
    next_send = time.monotonic()
    poller = zmq.Poller()
    poller.register(sys.stdin.fileno(), zmq.POLLIN)
    if args.type not in ("PUSH", "PUB"):
        poller.register(sock, zmq.POLLIN)
    while True:
        while pending and time.monotonic() >= next_send:
            try:
                sock.send_multipart(pending[0], flags=zmq.DONTWAIT)
            except zmq.ZMQError as error:
                if time.monotonic() < deadline:
                    break
                out("SENDFAIL", str(error).replace(" ", "_"))
            else:
                out("SENT")
            pending.pop(0)
            deadline = time.monotonic() + args.send_retry
            next_send = time.monotonic() + args.send_interval
        for item, _ in poller.poll(20):
            if item is sock:
                frames = sock.recv_multipart()
                if args.echo:
                    sock.send_multipart(frames)
                out("RECV", "|".join(frame.hex() for frame in frames))
            elif not os.read(sys.stdin.fileno(), 4096):
                os._exit(0)


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        import traceback
        traceback.print_exc()
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(1)
