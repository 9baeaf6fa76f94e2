// swift-tools-version: 6.0
import PackageDescription

// Layers (each a module, each a folder):
//   ZMTP        the sans-IO protocol core: standard library only.
//   CSodium     system library: libsodium (Debian libsodium-dev).
//   ZMTPSodium  CURVE crypto and secure randomness for the core, over CSodium.
//   CSysShim    one C header: epoll, eventfd and TCP options (Glibc's module lacks them).
//   ZeroMQTransport  the I/O layer under the sockets: reactor (epoll, timers, mailbox), and the
//               transports, stream (tcp, ipc) and message (pgm), with their own options and errors.
//   CPGM        system library: OpenPGM 5.3 (Debian libpgm-dev), for pgm:// and epgm://.
//   ZeroMQPGM   pgm:// and epgm:// (a MessageTransport over libpgm, built on the transport module,
//               not the sockets; its users register it, nobody else links libpgm): endpoint
//               parsing, the APDU encoder and
//               per-source decoder over the core's ZMTP/1.0 codec, libzmq's option arithmetic.
//   ZeroMQ      the sockets: Context, Socket, every classic pattern, sessions, inproc.
//   ZMTPDemo    the README's demo: two cores handshaking CURVE over a real socket pair.
//   ZeroMQExamples  the zguide's classic examples as functions, run by thin executables
//               (Sources/Examples/<name>/main.swift) and by Tests/ExamplesTests.
//   ZMTPConformance  zmtp-conformance (Sources/Tools): plays the connection and handshake vectors
//               over TCP against a live implementation behind a shim; links none of this package's
//               protocol code, so it judges this implementation as it judges libzmq (its own
//               CURVE side uses libsodium directly, through CSodium).
//   ZeroMQCat   zmqcat, the command-line peer (Sources/Tools): its commands as a library that
//               Tests/ZeroMQCatTests runs in-process, and the thin `zmqcat` executable.
let package = Package(
    name: "swift-zeromq",
    products: [
        .library(name: "ZMTP", targets: ["ZMTP"]),
        .library(name: "ZMTPSodium", targets: ["ZMTPSodium"]),
        .library(name: "ZeroMQTransport", targets: ["ZeroMQTransport"]),
        .library(name: "ZeroMQPGM", targets: ["ZeroMQPGM"]),
        .library(name: "ZeroMQ", targets: ["ZeroMQ"]),
        .library(name: "ZeroMQMetrics", targets: ["ZeroMQMetrics"]),
        .executable(name: "zmtp-demo", targets: ["ZMTPDemo"]),
        // The fuzzing harnesses' set-ups and invariant checks, shared by Fuzz/ (built there with
        // the sanitizers) and by the vector runner that replays fuzz regressions.
        .library(name: "FuzzSupport", targets: ["FuzzSupport"]),
        // The zguide's examples (scripts/demo.sh runs them as separate processes).
        .executable(name: "hwserver", targets: ["hwserver"]),
        .executable(name: "hwclient", targets: ["hwclient"]),
        .executable(name: "wuserver", targets: ["wuserver"]),
        .executable(name: "wuclient", targets: ["wuclient"]),
        .executable(name: "taskvent", targets: ["taskvent"]),
        .executable(name: "taskwork", targets: ["taskwork"]),
        .executable(name: "tasksink", targets: ["tasksink"]),
        // The command-line peer: any socket type, from a shell (Sources/Tools).
        .executable(name: "zmqcat", targets: ["zmqcat"]),
        // The live conformance runner (Vectors/README.md, "Live runs").
        .executable(name: "zmtp-conformance", targets: ["zmtp-conformance"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
    ],
    targets: [
        .target(name: "ZMTP"),
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(name: "ZMTPSodium", dependencies: ["ZMTP", "CSodium"]),
        .target(name: "FuzzSupport", dependencies: ["ZMTP"], path: "Fuzz/Sources/FuzzSupport"),
        .target(name: "CSysShim"),
        .target(name: "ZeroMQTransport", dependencies: ["ZMTP", "CSysShim"]),
        .systemLibrary(
            name: "CPGM",
            pkgConfig: "openpgm-5.3",
            providers: [.apt(["libpgm-dev"])]
        ),
        .target(name: "ZeroMQ", dependencies: ["ZMTP", "ZMTPSodium", "ZeroMQTransport"]),
        // pgm:// and epgm://: a MessageTransport over libpgm (a module of its own, so only its
        // users link libpgm), beside the sockets rather than above them.
        .target(name: "ZeroMQPGM", dependencies: ["ZMTP", "CPGM", "ZeroMQTransport"]),
        .executableTarget(name: "ZMTPDemo", dependencies: ["ZMTP", "ZMTPSodium"]),
        .testTarget(name: "ZMTPTests", dependencies: ["ZMTP"]),
        .testTarget(name: "ZMTPSodiumTests", dependencies: ["ZMTP", "ZMTPSodium"]),
        .testTarget(name: "VectorTests", dependencies: ["ZMTP", "ZMTPSodium", "FuzzSupport", "ZMTPConformance"]),
        .testTarget(name: "ZeroMQTransportTests", dependencies: ["ZeroMQTransport", "ZMTP"]),
        // PGM's sans-IO pieces, the captured-APDU vectors (Vectors/, read via #filePath) and a CPGM link check.
        .testTarget(name: "ZeroMQPGMTests", dependencies: ["ZeroMQPGM", "ZMTP", "CPGM", "ZeroMQ", "ZeroMQTransport"],
                    exclude: ["Vectors", "Peers"]),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ", "ZeroMQTransport"], exclude: ["Peers"]),
        // Socket statistics exported through swift-metrics (opt-in: a module of its own).
        .target(name: "ZeroMQMetrics", dependencies: ["ZeroMQ", .product(name: "CoreMetrics", package: "swift-metrics")]),
        .testTarget(name: "ZeroMQMetricsTests", dependencies: ["ZeroMQMetrics", "ZeroMQ",
                                                               .product(name: "MetricsTestKit", package: "swift-metrics")]),
        .target(name: "ZeroMQExamples", dependencies: ["ZeroMQ"], path: "Sources/Examples/ZeroMQExamples"),
        .executableTarget(name: "hwserver", dependencies: ["ZeroMQExamples"], path: "Sources/Examples/hwserver"),
        .executableTarget(name: "hwclient", dependencies: ["ZeroMQExamples"], path: "Sources/Examples/hwclient"),
        .executableTarget(name: "wuserver", dependencies: ["ZeroMQExamples"], path: "Sources/Examples/wuserver"),
        .executableTarget(name: "wuclient", dependencies: ["ZeroMQExamples"], path: "Sources/Examples/wuclient"),
        .executableTarget(name: "taskvent", dependencies: ["ZeroMQExamples"], path: "Sources/Examples/taskvent"),
        .executableTarget(name: "taskwork", dependencies: ["ZeroMQExamples"], path: "Sources/Examples/taskwork"),
        .executableTarget(name: "tasksink", dependencies: ["ZeroMQExamples"], path: "Sources/Examples/tasksink"),
        .testTarget(name: "ExamplesTests", dependencies: ["ZeroMQExamples", "ZeroMQ"]),
        .testTarget(name: "InteropTests", dependencies: ["ZMTP", "ZMTPSodium", "ZeroMQTransport", "ZeroMQ"], exclude: ["Peers"]),
        // zmqcat: the commands in a library (testable in-process), a thin executable.
        .target(name: "ZeroMQCat",
                dependencies: ["ZeroMQ", "ZeroMQPGM", "ZMTPSodium", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                path: "Sources/Tools/ZeroMQCat"),
        .executableTarget(name: "zmqcat", dependencies: ["ZeroMQCat"], path: "Sources/Tools/zmqcat"),
        .target(name: "ZMTPConformance", dependencies: ["CSodium"], path: "Sources/Tools/Conformance"),
        .executableTarget(name: "zmtp-conformance", dependencies: ["ZMTPConformance"], path: "Sources/Tools/zmtp-conformance"),
        // The live runner against libzmq (Vectors/shims/libzmq-shim.py) and zmqcat, and its parsers
        // under random input.
        .testTarget(name: "ConformanceTests", dependencies: ["ZMTPConformance"]),
        .testTarget(name: "ZeroMQCatTests", dependencies: ["ZeroMQCat", "ZeroMQ", "ZMTPSodium"], exclude: ["Peers"]),
        // The fault and hostile-load suite (scripts/faults.sh): sockets in processes of their own,
        // Swift's (FaultPeer, built beside the tests) and libzmq's (Peers/faults.py).
        .executableTarget(name: "FaultPeer", dependencies: ["ZeroMQ"], path: "Tests/FaultPeer"),
        .testTarget(name: "FaultTests", dependencies: ["ZeroMQ", "ZeroMQTransport", "ZMTP"], exclude: ["Peers"]),
        // A program that sends its last message and simply ends (ExitPeer, built beside the
        // tests), against pyzmq (Peers/exit_client.py).
        .executableTarget(name: "ExitPeer", dependencies: ["ZeroMQ"], path: "Tests/ExitPeer"),
        .testTarget(name: "ExitTests", exclude: ["Peers"]),
    ],
    swiftLanguageModes: [.v6]
)
