#!/usr/bin/python3
"""A scriptable libzmq peer for the Swift interop tests (Tests/InteropTests).

Runs one real libzmq socket (Debian's pyzmq on libzmq 4.3.4) and talks to the test over lines:

stdout (every line flushed at once; binary values are lowercase hex, "" for empty):
    PORT <n>                      the ephemeral port bound (with --bind)
    BOUND <endpoint>              the endpoint bound, wildcards resolved (with --bind-endpoint)
    STARTED                       the socket is set up (bound or connecting)
    SERVERKEY <z85> / CLIENTKEY <z85>   CURVE public keys this peer uses
    META <name> <hex>             a property of the next received message (printed before RECV)
    RECV <hex>|<hex>|...          one multipart message, every frame
    SENT                          a SEND command was queued by libzmq
    SUBSCRIBED / UNSUBSCRIBED     a SUBSCRIBE / UNSUBSCRIBE command was applied
    ECHOED                        with --echo: a received message was sent back (printed before
                                  its META and RECV lines)
    SENDFAIL <errno> <reason>     a SEND command failed (after retrying EAGAIN/EHOSTUNREACH for
                                  --send-retry seconds, 2 by default)
    MONEVENT <NAME> <value> <ep>  with --monitor-reader: a message of a monitor stream, parsed by
                                  pyzmq's parse_monitor_message
    EVENT <NAME> <value>          a monitor event (value in decimal: a protocol-error code,
                                  a ZAP status such as 400, an fd, ...)
    ZAP <mechanism> <status> <hex>|<hex>   the ZAP handler's answer and the credentials it saw
    COUNT <n>                     messages received so far (answer to COUNT)
    BYE                           the answer to QUIT, just before exiting
    NOZMQ <error>                 /usr/bin/python3 cannot import zmq (exit status 3)

Options (see --help) pick the socket type, bind or connect, heartbeats, PLAIN/CURVE roles and
keys, a ZAP handler, subscriptions, ZMQ_METADATA, a routing id (and ZMQ_CONNECT_ROUTING_ID for
the connect), an arbitrary bind endpoint (ipc://...), echoing, and monitor events. Properties
printed as META: Socket-Type, Identity, User-Id, Peer-Address, X-Origin.

With --echo every received message is sent straight back, frame for frame (a REP's reply, a
ROUTER's message back to its sender, a DEALER's or PAIR's message back), before it is printed:
a test waiting for the echo is never blocked by a peer stuck writing a long RECV line.

stdin commands, one per line:
    SEND <hex>|<hex>|...          send one multipart message (a ROUTER's first frame is the routing id)
    COUNT                         print COUNT
    SUBSCRIBE <hex>               ZMQ_SUBSCRIBE on a SUB now (prints SUBSCRIBED)
    UNSUBSCRIBE <hex>             ZMQ_UNSUBSCRIBE on a SUB now (prints UNSUBSCRIBED)
    QUIT                          exit at once

Nothing can hang: an alarm kills the process after --timeout seconds, every socket has
RCVTIMEO/SNDTIMEO and LINGER 0, every poll has a timeout, and EOF on stdin (the test is gone)
ends the process. The process exits with os._exit so that no context termination can block.
"""
import argparse
import os
import signal
import struct
import sys
import threading
import time

try:
    import zmq
except Exception as error:  # the test reports this line as a clear failure
    print("NOZMQ %s: %r" % (sys.executable, error), flush=True)
    sys.exit(3)

PRINT_LOCK = threading.Lock()


def out(*words):
    with PRINT_LOCK:
        sys.stdout.write(" ".join(str(w) for w in words) + "\n")
        sys.stdout.flush()


def hexjoin(frames):
    return "|".join(bytes(f).hex() for f in frames)


def unhex_parts(text):
    return [bytes.fromhex(part) for part in text.split("|")]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--type", required=True, help="ROUTER, DEALER, SUB, PUB, XPUB, PUSH, PULL, ...")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--bind", action="store_true", help="bind tcp://127.0.0.1:* and print PORT")
    where.add_argument("--connect", metavar="ENDPOINT")
    where.add_argument("--bind-endpoint", metavar="ENDPOINT",
                       help="bind ENDPOINT (tcp://127.0.0.1:*, ipc:///tmp/x, ...) and print BOUND")
    p.add_argument("--identity", help="ZMQ_ROUTING_ID (text)")
    p.add_argument("--connect-routing-id", help="ZMQ_CONNECT_ROUTING_ID (text) for the --connect")
    p.add_argument("--echo", action="store_true", help="send every received message back (ECHOED)")
    p.add_argument("--send-retry", type=float, default=2.0, metavar="SECONDS",
                   help="how long SEND and --echo retry EAGAIN/EHOSTUNREACH (default 2)")
    p.add_argument("--metadata", action="append", default=[], help="ZMQ_METADATA property, NAME:VALUE")
    p.add_argument("--monitor", action="store_true", help="print monitor events")
    p.add_argument("--monitor-reader", action="store_true",
                   help="the socket reads a monitor stream: print each message as MONEVENT <name> <value> <endpoint>")
    p.add_argument("--timeout", type=float, default=20.0, help="hard limit on the process, seconds")
    p.add_argument("--subscribe", action="append", default=[], help="SUB topic (hex)")
    p.add_argument("--heartbeat-ivl", type=int)
    p.add_argument("--heartbeat-timeout", type=int)
    p.add_argument("--heartbeat-ttl", type=int)
    p.add_argument("--send", action="append", default=[], help="a message to queue at start (hex|hex)")
    p.add_argument("--zap", action="store_true",
                   help="run a ZAP handler: PLAIN accepts admin/password, CURVE and NULL accept all")
    p.add_argument("--zap-domain", default="")
    p.add_argument("--plain-server", action="store_true")
    p.add_argument("--plain-username")
    p.add_argument("--plain-password")
    p.add_argument("--curve-server-secret", metavar="Z85", help="be a CURVE server with this secret key")
    p.add_argument("--curve-server-key", metavar="Z85", help="be a CURVE client of this server key")
    p.add_argument("--curve-secret", metavar="Z85", help="the CURVE client's secret key (default: a fresh pair)")
    return p.parse_args()


def send_with_retry(sock, parts, limit=2.0, report="SENT"):
    """Sends without blocking, retrying for up to `limit` seconds while libzmq has no pipe for
    the peer yet (EAGAIN) or a ROUTER does not know the routing id yet (EHOSTUNREACH): the
    test may ask for a send right after its own side of the handshake completed."""
    deadline = time.monotonic() + limit
    while True:
        try:
            sock.send_multipart(parts, flags=zmq.DONTWAIT)
            out(report)
            return
        except zmq.ZMQError as error:
            retry = error.errno in (zmq.EAGAIN, zmq.EHOSTUNREACH)
            if not retry or time.monotonic() >= deadline:
                out("SENDFAIL", error.errno, str(error).replace(" ", "_"))
                return
            time.sleep(0.01)


def zap_handler(ctx, ready):
    """RFC 27 handler on inproc://zeromq.zap.01: PLAIN needs admin/password, the rest pass."""
    sock = ctx.socket(zmq.REP)
    sock.linger = 0
    sock.rcvtimeo = 200
    sock.bind("inproc://zeromq.zap.01")
    ready.set()
    while True:
        try:
            frames = sock.recv_multipart()
        except zmq.Again:
            continue
        except zmq.ZMQError:
            return
        # version, request id, domain, address, identity, mechanism, credentials...
        version, request_id, domain, address, identity, mechanism = frames[:6]
        credentials = frames[6:]
        status, text, user = b"200", b"OK", b""
        if mechanism == b"PLAIN":
            if credentials == [b"admin", b"password"]:
                user = b"admin"
            else:
                status, text = b"400", b"Invalid username or password"
        elif mechanism == b"CURVE":
            user = b"curve-client"
        out("ZAP", mechanism.decode(), status.decode(), hexjoin(credentials))
        sock.send_multipart([version, request_id, status, text, user, b""])


def main():
    args = parse_args()
    signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the default action kills the process
    signal.alarm(max(1, int(args.timeout)))

    ctx = zmq.Context.instance()
    if args.zap:
        ready = threading.Event()
        threading.Thread(target=zap_handler, args=(ctx, ready), daemon=True).start()
        ready.wait(5)

    sock = ctx.socket(getattr(zmq, args.type))
    sock.linger = 0
    sock.rcvtimeo = 2000
    sock.sndtimeo = 2000
    if args.type == "ROUTER":
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
    if args.identity is not None:
        sock.setsockopt(zmq.ROUTING_ID, args.identity.encode())
    for prop in args.metadata:
        sock.setsockopt(zmq.METADATA, prop.encode())
    if args.heartbeat_ivl is not None:
        sock.setsockopt(zmq.HEARTBEAT_IVL, args.heartbeat_ivl)
    if args.heartbeat_timeout is not None:
        sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, args.heartbeat_timeout)
    if args.heartbeat_ttl is not None:
        sock.setsockopt(zmq.HEARTBEAT_TTL, args.heartbeat_ttl)
    if args.zap_domain:
        sock.setsockopt(zmq.ZAP_DOMAIN, args.zap_domain.encode())
    if args.plain_server:
        sock.setsockopt(zmq.PLAIN_SERVER, 1)
    if args.plain_username is not None:
        sock.setsockopt(zmq.PLAIN_USERNAME, args.plain_username.encode())
        sock.setsockopt(zmq.PLAIN_PASSWORD, (args.plain_password or "").encode())
    if args.curve_server_secret:
        secret = args.curve_server_secret.encode()
        sock.setsockopt(zmq.CURVE_SERVER, 1)
        sock.setsockopt(zmq.CURVE_SECRETKEY, secret)
        out("SERVERKEY", zmq.curve_public(secret).decode())
    if args.curve_server_key:
        if args.curve_secret:
            secret = args.curve_secret.encode()
            public = zmq.curve_public(secret)
        else:
            public, secret = zmq.curve_keypair()
        sock.setsockopt(zmq.CURVE_SERVERKEY, args.curve_server_key.encode())
        sock.setsockopt(zmq.CURVE_PUBLICKEY, public)
        sock.setsockopt(zmq.CURVE_SECRETKEY, secret)
        out("CLIENTKEY", public.decode())
    for topic in args.subscribe:
        sock.setsockopt(zmq.SUBSCRIBE, bytes.fromhex(topic))

    monitor = sock.get_monitor_socket() if args.monitor else None
    if monitor is not None:
        monitor.linger = 0

    if args.bind:
        sock.bind("tcp://127.0.0.1:*")
        endpoint = sock.getsockopt(zmq.LAST_ENDPOINT).decode()
        out("PORT", endpoint.rsplit(":", 1)[1])
    elif args.bind_endpoint:
        sock.bind(args.bind_endpoint)
        out("BOUND", sock.getsockopt(zmq.LAST_ENDPOINT).decode())
    else:
        if args.connect_routing_id is not None:
            sock.setsockopt(zmq.CONNECT_ROUTING_ID, args.connect_routing_id.encode())
        sock.connect(args.connect)
    for message in args.send:
        sock.send_multipart(unhex_parts(message))
    out("STARTED")

    stdin = sys.stdin.fileno()
    poller = zmq.Poller()
    poller.register(stdin, zmq.POLLIN)
    if args.type not in ("PUB", "PUSH"):
        poller.register(sock, zmq.POLLIN)
    if monitor is not None:
        poller.register(monitor, zmq.POLLIN)

    received = 0
    pending = b""
    while True:
        for item, _ in poller.poll(100):
            if monitor is not None and item is monitor:
                event = monitor.recv_multipart()
                number, value = struct.unpack("=HI", event[0][:6])
                try:
                    name = zmq.Event(number).name
                except ValueError:
                    name = "UNKNOWN_%d" % number
                out("EVENT", name, value)
            elif item is sock:
                frames = sock.recv_multipart(copy=False)
                if args.monitor_reader:
                    # libzmq's own parser of its monitor format (two frames, v1 layout).
                    from zmq.utils.monitor import parse_monitor_message
                    event = parse_monitor_message([f.bytes for f in frames])
                    try:
                        name = zmq.Event(event["event"]).name
                    except ValueError:
                        name = "UNKNOWN_%d" % event["event"]
                    endpoint = event["endpoint"]
                    out("MONEVENT", name, int(event["value"]), endpoint.decode() if isinstance(endpoint, bytes) else endpoint)
                    continue
                if args.echo:
                    send_with_retry(sock, [f.bytes for f in frames], args.send_retry, report="ECHOED")
                for name in ("Socket-Type", "Identity", "User-Id", "Peer-Address", "X-Origin"):
                    try:
                        value = frames[-1].get(name)
                    except zmq.ZMQError:
                        continue
                    if value is not None:
                        out("META", name, (value.encode() if isinstance(value, str) else value).hex())
                received += 1
                out("RECV", hexjoin(f.bytes for f in frames))
            elif item == stdin:
                chunk = os.read(stdin, 65536)
                if not chunk:
                    os._exit(0)
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    command, _, rest = line.decode().strip().partition(" ")
                    if command == "QUIT":
                        out("BYE")
                        os._exit(0)
                    elif command == "COUNT":
                        out("COUNT", received)
                    elif command in ("SUBSCRIBE", "UNSUBSCRIBE"):
                        sock.setsockopt(getattr(zmq, command), bytes.fromhex(rest))
                        out(command + "D")
                    elif command == "SEND":
                        send_with_retry(sock, unhex_parts(rest), args.send_retry)
                    elif command:
                        out("UNKNOWN", command)


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        import traceback
        traceback.print_exc()
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(1)
