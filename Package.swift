// swift-tools-version: 6.1
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
//   zmtp-demo   the README's demo (Sources/ZMTPDemo): two cores handshaking CURVE over a real
//               socket pair.
//   ZeroMQExamples  the zguide's classic examples as functions, run by thin executables
//               (Sources/Examples/<name>/main.swift) and by Tests/ExamplesTests.
//   ZMTPConformance  zmtp-conformance (Sources/Tools): plays the connection and handshake vectors
//               over TCP against a live implementation behind a shim; links none of this package's
//               protocol code, so it judges this implementation as it judges libzmq (its own
//               CURVE side uses libsodium directly, through CSodium).
//   ZeroMQCat   zmqcat, the command-line peer (Sources/Tools): its commands as a library that
//               Tests/ZeroMQCatTests runs in-process, and the thin `zmqcat` executable. With the
//               trait "Tools" only (`swift build --traits Tools --product zmqcat`).
//   ZeroMQMetrics  socket statistics through swift-metrics, with the trait "Metrics" only.
//
// Examples/FirstHour is a package of its own that depends on this one as a user's package does
// (Tests/FirstHourTests builds it and runs its programs against pyzmq).
let package = Package(
    name: "swift-zeromq",
    // What a user of the package sees: the layers, nothing else. The examples, the demo, the tools
    // and the fuzzing support are targets, not products: the root package builds and runs them
    // (SwiftPM gives each executable target of the root package a product of its own), and a
    // package that depends on this one never sees their names, so its own `hwserver` is its own.
    products: [
        .library(name: "ZMTP", targets: ["ZMTP"]),
        .library(name: "ZMTPSodium", targets: ["ZMTPSodium"]),
        .library(name: "ZeroMQTransport", targets: ["ZeroMQTransport"]),
        .library(name: "ZeroMQPGM", targets: ["ZeroMQPGM"]),
        .library(name: "ZeroMQ", targets: ["ZeroMQ"]),
        // Empty unless the trait "Metrics" is enabled (below).
        .library(name: "ZeroMQMetrics", targets: ["ZeroMQMetrics"]),
        // Empty unless the trait "NIO" is enabled (below).
        .library(name: "ZeroMQNIO", targets: ["ZeroMQNIO"]),
    ],
    // The package dependencies are for opt-in parts only, and a trait stands for each: a
    // dependent package that enables none (the default) resolves none of them. Each enabled
    // trait is also a compilation condition in every target here, so the opt-in sources are
    // wrapped in `#if Metrics` / `#if Tools` / `#if NIO`. This repository's scripts build with
    // `--enable-all-traits`.
    traits: [
        .trait(name: "Metrics",
               description: "ZeroMQMetrics: socket statistics exported through swift-metrics."),
        .trait(name: "NIO",
               description: "ZeroMQNIO: the sockets on SwiftNIO event loops, with no I/O thread of their own."),
        .trait(name: "Tools",
               description: "zmqcat, the command-line peer (its options are parsed by swift-argument-parser)."),
        .default(enabledTraits: []),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    ],
    targets: [
        .target(name: "ZMTP"),
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(name: "ZMTPSodium", dependencies: ["ZMTP", "CSodium"]),
        // The fuzzing harnesses' set-ups and invariant checks, and the CURVE provider without
        // security they need (InsecureFuzzingCurveCrypto). Fuzz/ (a package of its own, built with
        // the sanitizers) declares the same folder as its own target; here the vector runner
        // replays fuzz regressions through the very same set-ups, and the core's tests use the
        // insecure provider. Not a product: no application can link it.
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
        .executableTarget(name: "zmtp-demo", dependencies: ["ZMTP", "ZMTPSodium"], path: "Sources/ZMTPDemo"),
        .testTarget(name: "ZMTPTests", dependencies: ["ZMTP", "FuzzSupport"]),
        .testTarget(name: "ZMTPSodiumTests", dependencies: ["ZMTP", "ZMTPSodium", "FuzzSupport"]),
        .testTarget(name: "VectorTests", dependencies: ["ZMTP", "ZMTPSodium", "FuzzSupport", "ZMTPConformance"]),
        .testTarget(name: "ZeroMQTransportTests", dependencies: ["ZeroMQTransport", "ZMTP"]),
        // PGM's sans-IO pieces, the captured-APDU vectors (Vectors/, read via #filePath) and a CPGM link check.
        .testTarget(name: "ZeroMQPGMTests", dependencies: ["ZeroMQPGM", "ZMTP", "CPGM", "ZeroMQ", "ZeroMQTransport"],
                    exclude: ["Vectors", "Peers"]),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ", "ZeroMQTransport"], exclude: ["Peers"]),
        // Socket statistics exported through swift-metrics (opt-in: a module of its own).
        .target(name: "ZeroMQMetrics", dependencies: ["ZeroMQ", .product(name: "CoreMetrics", package: "swift-metrics", condition: .when(traits: ["Metrics"]))]),
        .testTarget(name: "ZeroMQMetricsTests", dependencies: ["ZeroMQMetrics", "ZeroMQ",
                                                               .product(name: "MetricsTestKit", package: "swift-metrics", condition: .when(traits: ["Metrics"]))]),
        // The sockets on SwiftNIO event loops (opt-in: a module of its own, so only its users
        // resolve and link SwiftNIO).
        .target(name: "ZeroMQNIO", dependencies: ["ZeroMQ", "ZeroMQTransport", "ZMTP",
                                                  .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["NIO"])),
                                                  .product(name: "NIOPosix", package: "swift-nio", condition: .when(traits: ["NIO"]))]),
        // The socket spec tests (Sockets/) and the libzmq interop matrix (Interop/) again, their
        // files linked from Tests/ZeroMQTests and Tests/InteropTests, on SwiftNIO event loops.
        .testTarget(name: "ZeroMQNIOTests", dependencies: ["ZeroMQNIO", "ZeroMQ", "ZeroMQTransport", "ZMTP", "ZMTPSodium",
                                                          .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["NIO"])),
                                                          .product(name: "NIOPosix", package: "swift-nio", condition: .when(traits: ["NIO"]))],
                    exclude: ["Interop/Peers"]),
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
                dependencies: ["ZeroMQ", "ZeroMQPGM", "ZMTPSodium", .product(name: "ArgumentParser", package: "swift-argument-parser", condition: .when(traits: ["Tools"]))],
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
        // Examples/FirstHour (a package of its own, a user's package), built once by the test
        // with `swift build --package-path` and its programs run against pyzmq (Peers/zguide.py).
        .testTarget(name: "FirstHourTests", exclude: ["Peers"]),
    ],
    swiftLanguageModes: [.v6]
)
