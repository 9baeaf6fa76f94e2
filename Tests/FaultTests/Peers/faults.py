#!/usr/bin/python3
"""The libzmq twin of Tests/FaultPeer (fault-peer): one pyzmq socket (libzmq 4.3.4) in a process
of its own, driven by Tests/FaultTests over the same lines.

    faults.py receive ENDPOINT [options]   bind a PULL (SUB with --sub), check every message
    faults.py send ENDPOINT [options]      connect a PUSH (PUB with --pub), send numbered messages

stdout: ENDPOINT <endpoint>, STATUS <key=value ...> (answer to MARK), SENT <n> (every --report
messages), DONE <key=value ...> (answer to QUIT). stdin: MARK, QUIT; EOF counts as QUIT.
Connection figures come from a libzmq monitor (zmq_socket_monitor): accepted, handshakes,
handshake_failures and disconnected are counts of those events, and errors counts the handshake
failures by event name (libzmq reports a heartbeat timeout as a bare DISCONNECTED).

A numbered message: run(8, big-endian) seq(8, big-endian), then octet i = (seq + i) mod 256 for
i in 16..<size. The receiver counts gaps, reordered and damaged messages per run. Figures a
libzmq socket does not expose (a PUB's drops, the monitor's own losses) are printed as -.
"""
import argparse
import os
import struct
import sys
import threading

try:
    import zmq
    from zmq.utils.monitor import recv_monitor_message
except Exception as error:
    print("NOZMQ %s: %r" % (sys.executable, error), flush=True)
    sys.exit(3)


def arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["receive", "send"])
    parser.add_argument("endpoint")
    parser.add_argument("--sub", action="store_true")
    parser.add_argument("--pub", action="store_true")
    parser.add_argument("--hwm", type=int)
    parser.add_argument("--handshake-ms", type=int)
    parser.add_argument("--heartbeat-ms", type=int)
    parser.add_argument("--heartbeat-timeout-ms", type=int)
    parser.add_argument("--max-message-size", type=int)
    parser.add_argument("--delay-us", type=int, default=0)
    parser.add_argument("--run", type=int, default=1)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--report", type=int, default=256)
    parser.add_argument("--linger-ms", type=int, default=5000)
    return parser.parse_args()


def configure(socket, options):
    socket.setsockopt(zmq.LINGER, options.linger_ms)
    if options.hwm is not None:
        socket.setsockopt(zmq.SNDHWM, options.hwm)
        socket.setsockopt(zmq.RCVHWM, options.hwm)
    if options.handshake_ms is not None:
        socket.setsockopt(zmq.HANDSHAKE_IVL, options.handshake_ms)
    if options.heartbeat_ms is not None:
        socket.setsockopt(zmq.HEARTBEAT_IVL, options.heartbeat_ms)
    if options.heartbeat_timeout_ms is not None:
        socket.setsockopt(zmq.HEARTBEAT_TIMEOUT, options.heartbeat_timeout_ms)
    if options.max_message_size is not None:
        socket.setsockopt(zmq.MAXMSGSIZE, options.max_message_size)


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Commands:
    """stdin lines, read by a thread, picked up by the socket's thread between messages."""

    def __init__(self):
        self.lines = []
        self.lock = threading.Lock()
        thread = threading.Thread(target=self.read, daemon=True)
        thread.start()

    def read(self):
        for line in sys.stdin:
            with self.lock:
                self.lines.append(line.strip())
        with self.lock:
            self.lines.append("QUIT")

    def take(self):
        if not self.lines:
            return []
        with self.lock:
            taken, self.lines = self.lines, []
        return taken


RUN_LIMIT = 1 << 16

FAILURES = {
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: "HANDSHAKE_FAILED_NO_DETAIL",
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: "HANDSHAKE_FAILED_PROTOCOL",
    zmq.EVENT_HANDSHAKE_FAILED_AUTH: "HANDSHAKE_FAILED_AUTH",
}

# The body of a numbered message depends only on seq mod 256: 256 precomputed tails.
TAILS = {}


def tail(seq, size):
    key = (seq & 0xFF, size)
    body = TAILS.get(key)
    if body is None:
        body = bytes(((seq + i) & 0xFF) for i in range(16, size))
        TAILS[key] = body
    return body


class Tally:
    def __init__(self):
        self.runs = {}
        self.received = 0
        self.gaps = 0
        self.reordered = 0
        self.damaged = 0
        self.foreign = 0
        self.events = {}
        self.errors = {}

    def check(self, message):
        self.received += 1
        if len(message) < 16:
            self.foreign += 1
            return
        run, seq = struct.unpack_from(">QQ", message)
        # Runs are numbered from 1; anything else is a hostile peer's bytes delivered as a message.
        if run == 0 or run >= RUN_LIMIT:
            self.foreign += 1
            return
        if message[16:] != tail(seq, len(message)):
            self.damaged += 1
            return
        previous = self.runs.get(run)
        if previous is None:
            self.gaps += seq
            self.runs[run] = [1, seq]
        else:
            if seq <= previous[1]:
                self.reordered += 1
            else:
                self.gaps += seq - previous[1] - 1
                previous[1] = seq
            previous[0] += 1

    def take(self, monitor):
        """Counts the monitor's waiting events."""
        while monitor.poll(0):
            event = recv_monitor_message(monitor)["event"]
            self.events[event] = self.events.get(event, 0) + 1
            if event in FAILURES:
                self.errors[FAILURES[event]] = self.errors.get(FAILURES[event], 0) + 1

    def line(self, sent="-"):
        runs = ",".join("%d:%d:%d" % (run, value[0], value[1]) for run, value in sorted(self.runs.items()))
        errors = ",".join("%s:%d" % item for item in sorted(self.errors.items()))
        count = lambda event: self.events.get(event, 0)
        return ("received=%d gaps=%d reordered=%d damaged=%d foreign=%d accepted=%d handshakes=%d handshake_failures=%d "
                "disconnected=%d sent=%s pub_dropped=- events_dropped=- runs=%s errors=%s"
                % (self.received, self.gaps, self.reordered, self.damaged, self.foreign, count(zmq.EVENT_ACCEPTED),
                   count(zmq.EVENT_HANDSHAKE_SUCCEEDED), sum(self.errors.values()), count(zmq.EVENT_DISCONNECTED),
                   sent, runs or "-", errors or "-"))


def receive(options, context):
    socket = context.socket(zmq.SUB if options.sub else zmq.PULL)
    configure(socket, options)
    if options.sub:
        socket.setsockopt(zmq.SUBSCRIBE, b"")
    socket.setsockopt(zmq.RCVTIMEO, 20)
    monitor = socket.get_monitor_socket()
    endpoint = options.endpoint.replace(":0", ":*") if options.endpoint.endswith(":0") else options.endpoint
    socket.bind(endpoint)
    say("ENDPOINT %s" % socket.getsockopt_string(zmq.LAST_ENDPOINT))
    commands = Commands()
    tally = Tally()
    since = 0
    delay = options.delay_us / 1e6
    while True:
        try:
            tally.check(socket.recv(copy=True))
            if delay:
                threading.Event().wait(delay)
            since += 1
            if since < 512:
                continue
        except zmq.Again:
            pass
        since = 0
        tally.take(monitor)
        for command in commands.take():
            if command == "MARK":
                say("STATUS " + tally.line())
            elif command == "QUIT":
                say("DONE " + tally.line())
                os._exit(0)


def send(options, context):
    socket = context.socket(zmq.PUB if options.pub else zmq.PUSH)
    configure(socket, options)
    socket.setsockopt(zmq.SNDTIMEO, 20)
    monitor = socket.get_monitor_socket()
    socket.connect(options.endpoint)
    say("ENDPOINT %s" % options.endpoint)
    commands = Commands()
    tally = Tally()
    seq = 0
    header = struct.Struct(">QQ")
    quitting = False
    while not quitting and (options.count == 0 or seq < options.count):
        try:
            socket.send(header.pack(options.run, seq) + tail(seq, options.size), copy=True)
            seq += 1
            if seq % options.report == 0:
                say("SENT %d" % seq)
            if seq % 512:
                continue
        except zmq.Again:
            pass
        tally.take(monitor)
        for command in commands.take():
            if command == "MARK":
                say("STATUS sent_seq=%d %s" % (seq, tally.line(sent=seq)))
            elif command == "QUIT":
                quitting = True
    say("SENT %d" % seq)
    tally.take(monitor)
    monitor.close()
    socket.close()
    context.term()
    say("DONE sent_seq=%d %s" % (seq, tally.line(sent=seq)))
    os._exit(0)


def die_with_parent():
    """PR_SET_PDEATHSIG: a killed test leaves no peer behind."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except Exception:
        pass


def main():
    die_with_parent()
    options = arguments()
    context = zmq.Context()
    if options.role == "receive":
        receive(options, context)
    else:
        send(options, context)


if __name__ == "__main__":
    main()
