#!/usr/bin/python3
"""zmtp-conformance shim for libzmq, through pyzmq (Debian's python3-zmq on libzmq 4.3.4).

One socket, set up from the command line, connected to the runner. The contract (arguments,
stdin and stdout lines) is in Vectors/README.md, "Live runs"; this file is its reference
implementation. Frames are lowercase hex, "-" for an empty frame.

stdin, one command a line:          stdout, one fact a line:
    send <frame> <frame> ...            recv <frame> <frame> ...
    subscribe <prefix>                  event handshake-succeeded | disconnected
    unsubscribe <prefix>                event handshake-failed-auth <status>
    (end of input: close and exit)      event handshake-failed-protocol <libzmq error name>
                                        send-failed <reason>
                                        event handshake-failed-no-detail
                                        zap <mechanism> <domain> <identity> <credential> ...
                                        unsupported <reason>
"""
import argparse
import os
import select
import sys

try:
    import zmq
    from zmq.utils.monitor import recv_monitor_message
except ImportError as error:
    print("unsupported this python3 cannot import zmq (%s)" % error, flush=True)
    sys.exit(0)

TYPES = ["PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH", "XPUB", "XSUB", "STREAM"]
PROTOCOL_ERRORS = {getattr(zmq, name): name[len("PROTOCOL_ERROR_"):]
                   for name in dir(zmq) if name.startswith("PROTOCOL_ERROR_") and "_WS_" not in name}
# The limit on one stdin line (a message of this shim is never larger).
MAX_LINE = 1 << 20


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def show(frame):
    return frame.hex() if frame else "-"


def frame(word):
    return b"" if word == "-" else bytes.fromhex(word)


def arguments():
    parser = argparse.ArgumentParser(description="zmtp-conformance shim for libzmq (pyzmq)")
    parser.add_argument("--type", required=True)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--connect")
    # --bind: not used by the runner's shim mode; it makes the shim a running endpoint for
    # `zmtp-conformance --endpoint` (the runner connects to it).
    where.add_argument("--bind")
    parser.add_argument("--identity")
    parser.add_argument("--mechanism", default="null",
                        choices=["null", "plain-client", "plain-server", "curve-client", "curve-server"])
    parser.add_argument("--plain-username", default="-")
    parser.add_argument("--plain-password", default="-")
    parser.add_argument("--curve-public")
    parser.add_argument("--curve-secret")
    parser.add_argument("--curve-serverkey")
    parser.add_argument("--zap-domain")
    parser.add_argument("--zap-reply")
    parser.add_argument("--zap-user-id", default="")
    parser.add_argument("--heartbeat-ivl", type=int)
    parser.add_argument("--heartbeat-ttl", type=int)
    parser.add_argument("--heartbeat-timeout", type=int)
    parser.add_argument("--handshake-ivl", type=int)
    parser.add_argument("--maxmsgsize", type=int)
    return parser.parse_args()


def configure(socket, args):
    socket.linger = 0
    if args.identity:
        socket.setsockopt(zmq.ROUTING_ID, frame(args.identity))
    if args.mechanism == "plain-client":
        socket.plain_username = frame(args.plain_username)
        socket.plain_password = frame(args.plain_password)
    elif args.mechanism == "plain-server":
        socket.plain_server = True
    elif args.mechanism == "curve-server":
        socket.curve_secretkey = args.curve_secret.encode()
        socket.curve_publickey = args.curve_public.encode()
        socket.curve_server = True
    elif args.mechanism == "curve-client":
        socket.curve_secretkey = args.curve_secret.encode()
        socket.curve_publickey = args.curve_public.encode()
        socket.curve_serverkey = args.curve_serverkey.encode()
    # libzmq 4.3.4 refuses an empty ZAP_DOMAIN (EINVAL); empty is its default anyway.
    if args.zap_domain is not None and frame(args.zap_domain):
        socket.zap_domain = frame(args.zap_domain)
    for option, value in [(zmq.HEARTBEAT_IVL, args.heartbeat_ivl), (zmq.HEARTBEAT_TTL, args.heartbeat_ttl),
                          (zmq.HEARTBEAT_TIMEOUT, args.heartbeat_timeout), (zmq.HANDSHAKE_IVL, args.handshake_ivl),
                          (zmq.MAXMSGSIZE, args.maxmsgsize)]:
        if value is not None:
            socket.setsockopt(option, value)


def report(event):
    kind, value = event["event"], event["value"]
    if kind == zmq.EVENT_HANDSHAKE_SUCCEEDED:
        say("event handshake-succeeded")
    elif kind == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
        say("event handshake-failed-auth %d" % value)
    elif kind == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
        say("event handshake-failed-protocol %s" % PROTOCOL_ERRORS.get(value, str(value)))
    elif kind == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        say("event handshake-failed-no-detail")
    elif kind == zmq.EVENT_DISCONNECTED:
        say("event disconnected")


def answer_zap(zap, args):
    # RFC 27: version, request id, domain, address, identity, mechanism, credentials...
    request = zap.recv_multipart()
    if len(request) < 6:
        return
    domain, identity, mechanism, credentials = request[2], request[4], request[5], request[6:]
    say("zap %s %s %s %s" % (mechanism.decode("ascii", "replace"), show(domain), show(identity),
                             " ".join(show(c) for c in credentials)))
    if args.zap_reply != "hold":
        zap.send_multipart([b"1.0", request[1], args.zap_reply.encode(), b"", args.zap_user_id.encode(), b""])


def main():
    args = arguments()
    if args.type not in TYPES:
        say("unsupported pyzmq on libzmq 4.3.4 has no %s socket (draft)" % args.type)
        return
    context = zmq.Context()
    zap = None
    if args.zap_reply is not None:
        zap = context.socket(zmq.REP)
        zap.linger = 0
        zap.bind("inproc://zeromq.zap.01")
    socket = context.socket(getattr(zmq, args.type))
    configure(socket, args)
    monitor = socket.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH
                                        | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
                                        | zmq.EVENT_DISCONNECTED)
    if args.bind:
        socket.bind(args.bind)
    else:
        socket.connect(args.connect)
    poller = zmq.Poller()
    poller.register(socket, zmq.POLLIN)
    poller.register(monitor, zmq.POLLIN)
    if zap is not None:
        poller.register(zap, zmq.POLLIN)
    stdin = sys.stdin.fileno()
    poller.register(stdin, zmq.POLLIN)
    pending = b""
    while True:
        ready = dict(poller.poll())
        if monitor in ready:
            report(recv_monitor_message(monitor))
        if zap is not None and zap in ready:
            answer_zap(zap, args)
        if socket in ready:
            while socket.poll(0, zmq.POLLIN):
                say("recv " + " ".join(show(part) for part in socket.recv_multipart()))
        if stdin in ready:
            chunk = os.read(stdin, 65536)
            if not chunk:
                break
            pending += chunk
            if len(pending) > MAX_LINE and b"\n" not in pending:
                say("unsupported a stdin line over %d bytes" % MAX_LINE)
                break
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                words = line.decode("ascii").split()
                if not words:
                    continue
                try:
                    if words[0] == "send":
                        socket.send_multipart([frame(word) for word in words[1:]])
                    elif words[0] == "subscribe":
                        socket.setsockopt(zmq.SUBSCRIBE, frame(words[1] if len(words) > 1 else "-"))
                    elif words[0] == "unsubscribe":
                        socket.setsockopt(zmq.UNSUBSCRIBE, frame(words[1] if len(words) > 1 else "-"))
                except zmq.ZMQError as error:
                    say("send-failed %s" % error)
    socket.disable_monitor()
    context.destroy(linger=0)


if __name__ == "__main__":
    main()
