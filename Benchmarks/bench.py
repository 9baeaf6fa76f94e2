#!/usr/bin/env python3
"""Runs swift-zeromq and libzmq side by side and prints one table with their ratios.

Both implementations run the same scenarios through programs with the same command lines
(libzmq's perf tools: local_thr/remote_thr, local_lat/remote_lat, inproc_thr/inproc_lat; and
pubsub_thr, proxy_thr, curve_handshakes, idle_conns), alternately (A B A B ...), and the table
quotes the median of the runs with their spread, and the ratio swift/libzmq of the medians.

    Benchmarks/run            full mode (a few minutes per table section)
    Benchmarks/run --quick    one short run of a subset; checks that everything builds and runs

Latency runs pin both processes to one CPU (taskset -c 0): unpinned, waking a thread on the
other vCPU of a small VM costs tens of microseconds and the figures mean nothing.
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

SIZES = [1, 64, 1024, 65536, 1048576]
# Messages per throughput run, per size: each run lasts roughly a second.
THR_COUNTS = {1: 3_000_000, 8: 2_000_000, 32: 2_000_000, 64: 2_000_000, 1024: 500_000,
              65536: 20_000, 1048576: 1_500}
LAT_COUNTS = {1: 20_000, 64: 20_000, 1024: 10_000, 65536: 2_000, 1048576: 200}
QUICK_DIVISOR = 20


class Failure(Exception):
    pass


class Runner:
    def __init__(self, swift_dir, c_dir, quick, runs, verbose):
        self.bin = {"swift": swift_dir, "libzmq": c_dir}
        self.quick = quick
        self.runs = runs
        self.verbose = verbose
        self.rows = []
        self.tmp = tempfile.mkdtemp(prefix="zmq-bench-")

    # -- processes ---------------------------------------------------------------------------

    def tool(self, impl, name):
        return os.path.join(self.bin[impl], name)

    def run(self, argv, env=None, timeout=300):
        if self.verbose:
            print("  $ " + " ".join(argv), file=sys.stderr)
        result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
        if result.returncode != 0:
            raise Failure(f"{' '.join(argv)} exited {result.returncode}: {result.stderr.strip()}")
        return result.stdout

    def pair(self, server_argv, client_argv, env=None, pin=False, timeout=180):
        """Starts the binding side, then the connecting side; returns both outputs.

        The connecting side runs with BENCH_HOLD=1: a remote_thr keeps its connection until its
        stdin closes, which happens once the receiver has finished (libzmq issue #4660: a libzmq
        receiver over ipc loses what is still queued when the sender closes first).
        """
        prefix = ["taskset", "-c", "0"] if pin else []
        if self.verbose:
            print("  $ " + " ".join(prefix + server_argv) + " & " + " ".join(prefix + client_argv), file=sys.stderr)
        client_env = dict(env or os.environ, BENCH_HOLD="1")
        server = subprocess.Popen(prefix + server_argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env)
        client = None
        try:
            time.sleep(0.2)
            client = subprocess.Popen(prefix + client_argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=client_env)
            out, err = server.communicate(timeout=timeout)
            if server.returncode != 0:
                # Its own error, not the sender's timeout: a held sender would wait forever.
                client.kill()
                client.communicate()
                raise Failure(f"{' '.join(server_argv)} exited {server.returncode}: {err.strip()}")
            client_out, client_err = client.communicate(input="", timeout=timeout)
        except subprocess.TimeoutExpired:
            for process in (server, client):
                if process:
                    process.kill()
                    process.communicate()
            raise Failure(f"timed out: {' '.join(server_argv)} / {' '.join(client_argv)}")
        if client.returncode != 0:
            raise Failure(f"{' '.join(client_argv)} exited {client.returncode}: {client_err.strip()}")
        return out, client_out

    # -- endpoints ---------------------------------------------------------------------------

    def endpoint(self, transport):
        if transport == "tcp":
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            return f"tcp://127.0.0.1:{port}"
        if transport == "ipc":
            return f"ipc://{self.tmp}/bench-{time.monotonic_ns()}.ipc"
        raise ValueError(transport)

    # -- parsing -----------------------------------------------------------------------------

    @staticmethod
    def value(pattern, text, what):
        match = re.search(pattern, text)
        if not match:
            raise Failure(f"no '{what}' line in output:\n{text}")
        return float(match.group(1))

    def throughput(self, text):
        return self.value(r"mean throughput: (\d+) \[msg/s\]", text, "mean throughput")

    def latency(self, text):
        return self.value(r"average latency: ([\d.]+) \[us\]", text, "average latency")

    # -- scenarios ---------------------------------------------------------------------------

    def count(self, table, size):
        n = table[size]
        return max(n // QUICK_DIVISOR, 10) if self.quick else n

    def thr_once(self, sender, receiver, transport, size, env=None):
        n = self.count(THR_COUNTS, size)
        if transport == "inproc":
            return self.throughput(self.run([self.tool(receiver, "inproc_thr"), str(size), str(n)], env=env))
        ep = self.endpoint(transport)
        out, _ = self.pair([self.tool(receiver, "local_thr"), ep, str(size), str(n)],
                           [self.tool(sender, "remote_thr"), ep, str(size), str(n)], env=env)
        return self.throughput(out)

    def lat_once(self, impl, transport, size, env=None, client=None):
        n = self.count(LAT_COUNTS, size)
        if transport == "inproc":
            out = self.run(["taskset", "-c", "0", self.tool(impl, "inproc_lat"), str(size), str(n)], env=env)
            return self.latency(out)
        ep = self.endpoint(transport)
        _, out = self.pair([self.tool(impl, "local_lat"), ep, str(size), str(n)],
                           [self.tool(client or impl, "remote_lat"), ep, str(size), str(n)], env=env, pin=True)
        return self.latency(out)

    def stripped(self, tool):
        """A copy of `tool` without debug information, for valgrind: 3.19 gives up on the DWARF 5
        that clang writes for SwiftNIO's C modules ("possibly corrupted debuginfo file"), and
        instruction counts need none of it (function names stay in the symbol table)."""
        # Both implementations' tools have the same names: the copy is named after the whole path.
        copy = os.path.join(self.tmp, tool.strip("/").replace("/", "_") + ".stripped")
        if not os.path.exists(copy):
            subprocess.run(["objcopy", "--strip-debug", tool, copy], check=True)
        return copy

    def instructions_once(self, impl, path, size, n):
        """Instructions per message of one process under callgrind (whole process, start-up
        included, divided by the messages), the other side always libzmq's own tool."""
        out_file = os.path.join(self.tmp, f"callgrind-{impl}-{path}-{size}-{time.monotonic_ns()}.out")
        grind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}"]
        if path == "inproc":
            self.run(grind + [self.stripped(self.tool(impl, "inproc_thr")), str(size), str(n)], timeout=900)
        else:
            ep = self.endpoint("tcp")
            receiver = [self.tool(impl if path == "receive" else "libzmq", "local_thr"), ep, str(size), str(n)]
            sender = [self.tool(impl if path == "send" else "libzmq", "remote_thr"), ep, str(size), str(n)]
            if path == "receive":
                receiver = grind + [self.stripped(receiver[0])] + receiver[1:]
            else:
                sender = grind + [self.stripped(sender[0])] + sender[1:]
            self.pair(receiver, sender, timeout=900)
        with open(out_file) as f:
            totals = [int(m.group(2)) for m in re.finditer(r"^(summary|totals): (\d+)", f.read(), re.M)]
        if not totals:
            raise Failure(f"no callgrind totals in {out_file}")
        return max(totals) / n

    def alternate(self, measure):
        """Runs measure('libzmq') and measure('swift') alternately; returns their samples."""
        samples = {"libzmq": [], "swift": []}
        for _ in range(self.runs):
            for impl in ("libzmq", "swift"):
                samples[impl].append(measure(impl))
        return samples

    def add(self, section, scenario, unit, samples, higher_is_better=True, note="", size=None):
        row = {"section": section, "scenario": scenario, "unit": unit, "samples": samples,
               "higher": higher_is_better, "note": note, "size": size}
        self.rows.append(row)
        print(self.format_row(row), flush=True)

    # -- the table ---------------------------------------------------------------------------

    @staticmethod
    def human(value, unit):
        if unit == "msg/s":
            return f"{value / 1e6:.2f} M" if value >= 1e5 else f"{value / 1e3:.1f} k"
        if unit in ("us", "KiB", "allocs/msg", "handshakes/s"):
            return f"{value:.3f}" if unit == "allocs/msg" else f"{value:.1f}"
        if unit == "instr/msg":
            return f"{value:,.0f}"
        if unit == "GB/s":
            return f"{value:.2f}"
        return f"{value:.3g}"

    def cell(self, values, unit, size=None):
        if not values:
            return "-"
        median = statistics.median(values)
        text = self.human(median, unit)
        if size:
            text += f" ({median * size / 1e6:,.0f} MB/s)"
        if len(values) > 1:
            spread = (max(values) - min(values)) / median * 100 if median else 0
            text += f" ±{spread / 2:.0f}%"
        return text

    def format_row(self, row):
        s = row["samples"]
        lib, swift = s.get("libzmq", []), s.get("swift", [])
        ratio = "-"
        if lib and swift and statistics.median(lib) > 0:
            ratio = f"{statistics.median(swift) / statistics.median(lib):.2f}x"
        size = row.get("size")
        return (f"| {row['section']} | {row['scenario']} | {row['unit']} | {self.cell(lib, row['unit'], size)} | "
                f"{self.cell(swift, row['unit'], size)} | {ratio} | {row['note']} |")

    def header(self):
        return ("| section | scenario | unit | libzmq 4.3.4 | swift-zeromq | swift/libzmq | note |\n"
                "|---|---|---|---|---|---|---|")


def size_label(size):
    if size >= 1048576:
        return f"{size // 1048576} MiB"
    if size >= 1024:
        return f"{size // 1024} KiB"
    return f"{size} B"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one short run of a subset (CI)")
    parser.add_argument("--runs", type=int, default=None, help="runs per implementation (default 3, quick 1)")
    parser.add_argument("--swift-bin", required=True)
    parser.add_argument("--c-bin", required=True)
    parser.add_argument("--only", default="", help="comma-separated sections: thr,cross,lat,fanout,curve,memory,allocs,"
                                                   "multicast,raw,caller,nio,instructions (not in the default set: callgrind, slow)")
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 3)
    r = Runner(args.swift_bin, args.c_bin, args.quick, runs, args.verbose)
    sections = set(filter(None, args.only.split(","))) or {"thr", "cross", "lat", "fanout", "curve", "memory", "allocs",
                                                           "multicast", "raw", "caller", "nio"}
    started = time.monotonic()
    mode = "quick" if args.quick else "full"
    print(f"swift-zeromq vs libzmq, {mode} mode, {runs} run(s) each, alternated; medians ±half the spread\n")
    print(r.header(), flush=True)

    sizes = [64, 65536] if args.quick else SIZES
    failures = []

    def attempt(fn):
        try:
            fn()
        except Exception as error:  # a failed scenario is reported, and the others still run
            failures.append(str(error))
            print(f"| FAILED | {error} |", flush=True)

    if "thr" in sections:
        for transport in ("tcp", "ipc", "inproc"):
            for size in sizes:
                attempt(lambda: r.add("throughput", f"{transport} {size_label(size)}", "msg/s",
                                      r.alternate(lambda impl: r.thr_once(impl, impl, transport, size)),
                                      size=size))
    if "cross" in sections:
        for size in ([64] if args.quick else [64, 1024, 65536]):
            def cross(size=size):
                samples = {"libzmq": [], "swift": []}
                for _ in range(runs):
                    samples["libzmq"].append(r.thr_once("libzmq", "swift", "tcp", size))
                    samples["swift"].append(r.thr_once("swift", "libzmq", "tcp", size))
                r.add("cross", f"tcp {size_label(size)}", "msg/s", samples, size=size,
                      note="libzmq column: libzmq sends, Swift receives; swift column: Swift sends, libzmq receives")
            attempt(cross)
    if "lat" in sections:
        for transport in ("tcp", "ipc", "inproc"):
            for size in ([1] if args.quick else SIZES):
                attempt(lambda: r.add("latency", f"{transport} {size_label(size)}", "us",
                                      r.alternate(lambda impl: r.lat_once(impl, transport, size)),
                                      higher_is_better=False, note="half round trip, pinned to one CPU"))
    if "caller" in sections:
        # Caller-driven I/O (SWIFT_ZEROMQ_IO=caller): the Swift tools run their sockets' I/O on
        # the calling thread; libzmq's tools ignore the variable. Target: latency at most 0.5x
        # libzmq's, throughput at least the default (threads) mode's row above.
        caller_env = dict(os.environ, SWIFT_ZEROMQ_IO="caller")
        for transport in ("tcp", "ipc"):
            for size in ([1] if args.quick else [1, 64, 1024]):
                attempt(lambda: r.add("latency, caller mode", f"{transport} {size_label(size)}", "us",
                                      r.alternate(lambda impl: r.lat_once(impl, transport, size, env=caller_env)),
                                      higher_is_better=False, note="half round trip, pinned to one CPU; Swift in caller mode"))
        for size in [64]:
            attempt(lambda: r.add("throughput, caller mode", f"tcp {size_label(size)}", "msg/s",
                                  r.alternate(lambda impl: r.thr_once(impl, impl, "tcp", size, env=caller_env)),
                                  size=size, note="Swift in caller mode; compare with the throughput row"))
    if "nio" in sections:
        # Sockets on one SwiftNIO event loop (SWIFT_ZEROMQ_IO=nio): every connection a NIO
        # channel whose handler pushes its reads to the engine. libzmq's tools ignore the variable.
        nio_env = dict(os.environ, SWIFT_ZEROMQ_IO="nio")
        for transport in ("tcp", "ipc"):
            for size in ([64] if args.quick else [1, 64, 1024, 65536]):
                attempt(lambda: r.add("throughput, NIO event loop", f"{transport} {size_label(size)}", "msg/s",
                                      r.alternate(lambda impl: r.thr_once(impl, impl, transport, size, env=nio_env)),
                                      size=size, note="Swift on a NIO event loop; compare with the throughput row"))
        for transport in ("tcp", "ipc"):
            for size in ([1] if args.quick else [1, 64, 1024]):
                attempt(lambda: r.add("latency, NIO event loop", f"{transport} {size_label(size)}", "us",
                                      r.alternate(lambda impl: r.lat_once(impl, transport, size, env=nio_env)),
                                      higher_is_better=False, note="half round trip, pinned to one CPU; Swift on a NIO event loop"))
    if "fanout" in sections:
        def fanout():
            n = r.count(THR_COUNTS, 64) // 4
            r.add("fan-out", "PUB/SUB tcp 64 B, 10 subscribers", "msg/s", r.alternate(lambda impl: r.throughput(
                r.run([r.tool(impl, "pubsub_thr"), "tcp://127.0.0.1:*", "64", str(n), "10"]))),
                note="published msg/s, each to all 10")
        def proxy():
            n = r.count(THR_COUNTS, 64) // 2
            r.add("proxy", "PUB → XSUB/XPUB proxy → SUB tcp 64 B", "msg/s", r.alternate(lambda impl: r.throughput(
                r.run([r.tool(impl, "proxy_thr"), "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "64", str(n)]))))
        attempt(fanout)
        attempt(proxy)
    if "curve" in sections:
        curve_env = dict(os.environ, BENCH_CURVE="1")
        for size in (64, 65536):
            n = r.count(THR_COUNTS, size) // (4 if size == 64 else 1)
            def curve_thr(size=size, n=n):
                def once(impl):
                    ep = r.endpoint("tcp")
                    out, _ = r.pair([r.tool(impl, "local_thr"), ep, str(size), str(n)],
                                    [r.tool(impl, "remote_thr"), ep, str(size), str(n)], env=curve_env)
                    return r.throughput(out)
                r.add("CURVE", f"throughput tcp {size_label(size)}", "msg/s", r.alternate(once), size=size)
            attempt(curve_thr)
        def handshakes():
            n = 50 if args.quick else 500
            r.add("CURVE", "handshakes (connect, handshake, 1 round trip, close)", "handshakes/s",
                  r.alternate(lambda impl: r.value(r"mean rate: ([\d.]+)", r.run(
                      [r.tool(impl, "curve_handshakes"), "tcp://127.0.0.1:*", str(n)]), "mean rate")))
        attempt(handshakes)
    if "memory" in sections:
        def idle():
            n = 100 if args.quick else 1000
            def once(impl):
                server = subprocess.Popen([r.tool(impl, "idle_conns"), "tcp://127.0.0.1:*", str(n)],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                line = server.stdout.readline()
                if not line.startswith("bound: "):
                    server.kill()
                    raise Failure(f"idle_conns said: {line!r} {server.stderr.read()}")
                clients = subprocess.Popen([sys.executable, os.path.join(HERE, "Tools", "idle_clients.py"),
                                            line.split()[1], str(n)], stdin=subprocess.PIPE,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                try:
                    out, err = server.communicate(timeout=120)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.communicate()
                    clients.kill()
                    raise Failure(f"idle_conns timed out; clients said: {clients.communicate()[1].strip()}")
                clients.stdin.close()
                try:
                    clients.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    clients.kill()
                    clients.wait()
                if server.returncode != 0:
                    raise Failure(f"idle_conns exited {server.returncode}: {err}")
                return r.value(r"\nrss: (\d+) \[KiB\]", out, "rss") - r.value(r"baseline rss: (\d+)", out, "baseline rss")
            r.add("memory", f"{n} idle connections on one ROUTER (RSS growth)", "KiB", r.alternate(once),
                  higher_is_better=False)
        attempt(idle)
    if "allocs" in sections:
        shim = os.path.join(args.c_bin, "malloc_count.so")
        env = dict(os.environ, LD_PRELOAD=shim)
        for size in (8, 32, 64):
            for transport in ("tcp", "inproc"):
                def allocs(size=size, transport=transport):
                    n = r.count(THR_COUNTS, size) // 4
                    samples = {"libzmq": {}, "swift": {}}
                    for impl in ("libzmq", "swift"):
                        if transport == "inproc":
                            out = r.run([r.tool(impl, "inproc_thr"), str(size), str(n)], env=env)
                            samples[impl] = [r.value(r"allocations per message: ([\d.]+)", out, "allocations")]
                            continue
                        ep = r.endpoint(transport)
                        recv_out, send_out = r.pair([r.tool(impl, "local_thr"), ep, str(size), str(n)],
                                                    [r.tool(impl, "remote_thr"), ep, str(size), str(n)], env=env)
                        samples[impl] = [r.value(r"allocations per message: ([\d.]+)", send_out, "allocations") +
                                         r.value(r"allocations per message: ([\d.]+)", recv_out, "allocations")]
                    where = "send + receive processes" if transport == "tcp" else "receiving thread's process"
                    r.add("allocations", f"{transport} {size_label(size)}, steady state", "allocs/msg", samples,
                          higher_is_better=False, note=f"every malloc of {where}, per message")
                attempt(allocs)
    if "multicast" in sections:
        # epgm:// needs an interface that carries multicast: a network namespace made here (root),
        # with only lo, used as 127.0.0.1. Each implementation publishes to itself, RATE on both
        # sides (it also sizes the windows). What was not delivered shows in the note.
        if os.getuid() != 0 or not shutil.which("ip"):
            print("| multicast | skipped: epgm needs a network namespace, which needs root and iproute2 | | | | | |")
        else:
            namespace = f"zmqbench-{os.getpid()}"
            subprocess.run(["ip", "netns", "add", namespace], check=True)
            subprocess.run(["ip", "-n", namespace, "link", "set", "lo", "up"], check=True)
            try:
                for size in (64, 1024):
                    # 100 Mbit/s: both deliver everything here. At 1 Gbit/s both lose most of it to the
                    # namespace's default socket buffers (net.core.rmem_max), which says nothing about
                    # either implementation, so it is not a row.
                    for rate in (100_000,):
                        def epgm(size=size, rate=rate):
                            n = 20_000 if args.quick else (300_000 if size == 64 else 150_000)
                            lost = {"libzmq": [], "swift": []}
                            def once(impl):
                                port = 20_000 + (os.getpid() + len(r.rows) * 7 + len(lost[impl])) % 20_000
                                ep = f"epgm://127.0.0.1;239.192.7.7:{port}"
                                wrap = ["ip", "netns", "exec", namespace, r.tool(impl, "epgm_thr")]
                                out, _ = r.pair(wrap + ["sub", ep, str(size), str(n), str(rate)],
                                                wrap + ["pub", ep, str(size), str(n), str(rate)])
                                received = r.value(r"received: (\d+)", out, "received")
                                lost[impl].append(100.0 * (n - received) / n)
                                return r.throughput(out)
                            samples = r.alternate(once)
                            note = "one namespace; not delivered: " + ", ".join(
                                f"{impl} {statistics.median(v):.1f}%" for impl, v in lost.items() if v)
                            r.add("multicast", f"epgm PUB→SUB {size_label(size)}, RATE {rate // 1000} Mbit/s", "msg/s",
                                  samples, size=size, note=note)
                        attempt(epgm)
            finally:
                subprocess.run(["ip", "netns", "del", namespace])
    if "instructions" in sections:
        # Deterministic: callgrind counts instructions, whatever else the machine does. One run
        # each is enough (repeats give the same count to a few parts per million).
        if not shutil.which("valgrind"):
            print("| instructions | skipped: valgrind is not installed | | | | | |")
        else:
            n = 20_000 if args.quick else 200_000
            for path, size in (("receive", 8), ("receive", 64), ("send", 8), ("send", 64), ("inproc", 8)):
                def grind(path=path, size=size):
                    samples = {impl: [r.instructions_once(impl, path, size, n)] for impl in ("libzmq", "swift")}
                    where = {"receive": "tcp receive (local_thr; libzmq's remote_thr sends)",
                             "send": "tcp send (remote_thr; libzmq's local_thr receives)",
                             "inproc": "inproc (inproc_thr, both threads)"}[path]
                    r.add("instructions", f"{where} {size_label(size)}", "instr/msg", samples, higher_is_better=False,
                          note=f"callgrind, whole process / {n:,} messages")
                attempt(grind)
    if "raw" in sections:
        for kind in ("tcp", "unix"):
            def raw(kind=kind):
                total = str(256 << 20 if args.quick else 4 << 30)
                values = [r.value(r"stream: ([\d.]+) \[GB/s\]", r.run([r.tool("libzmq", "raw_stream"), kind,
                                                                         "1048576", total]), "GB/s")
                          for _ in range(runs)]
                r.add("ceiling", f"raw {kind} stream, 1 MiB writes", "GB/s", {"libzmq": [], "swift": []},
                      note=f"kernel only: {r.cell(values, 'GB/s')} GB/s")
            attempt(raw)

    elapsed = time.monotonic() - started
    print(f"\n{len(r.rows)} rows in {elapsed:.0f} s" + (f"; {len(failures)} FAILED" if failures else ""))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(r.header() + "\n")
            for row in r.rows:
                f.write(r.format_row(row) + "\n")
    shutil.rmtree(r.tmp, ignore_errors=True)
    for failure in failures:
        print("FAILED: " + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
