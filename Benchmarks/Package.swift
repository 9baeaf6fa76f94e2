// swift-tools-version: 6.1
import PackageDescription

// The benchmarks live in their own package (as Fuzz/ does), so the main package never builds
// them. `Benchmarks/run` builds this package in release mode, builds the C programs in C/ against
// libzmq, and runs both side by side (see README.md).
//
//   PerfKit     the scenarios, written once: throughput, latency, fan-out, proxy, CURVE
//               handshakes, idle connections; with libzmq's output lines.
//   local_thr, remote_thr, local_lat, remote_lat, inproc_thr, inproc_lat
//               libzmq's perf tools, same command lines, same output lines.
//   pubsub_thr, proxy_thr, curve_handshakes, idle_conns
//               the scenarios libzmq has no tool for; C/ has the libzmq twin of each.
//   epgm_thr    multicast throughput over epgm:// (ZeroMQPGM); run inside a network namespace.

let tools = [
    "local_thr", "remote_thr", "local_lat", "remote_lat", "inproc_thr", "inproc_lat",
    "pubsub_thr", "proxy_thr", "curve_handshakes", "idle_conns",
]

let package = Package(
    name: "swift-zeromq-benchmarks",
    dependencies: [
        // With ZeroMQNIO, for the rows of sockets on a SwiftNIO event loop (SWIFT_ZEROMQ_IO=nio).
        .package(name: "swift-zeromq", path: "..", traits: ["NIO"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    ],
    targets: [
        .target(
            name: "PerfKit",
            dependencies: [
                .product(name: "ZeroMQ", package: "swift-zeromq"),
                .product(name: "ZMTP", package: "swift-zeromq"),
                .product(name: "ZeroMQNIO", package: "swift-zeromq"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "epgm_thr",
            dependencies: [
                .product(name: "ZeroMQ", package: "swift-zeromq"),
                .product(name: "ZeroMQPGM", package: "swift-zeromq"),
            ],
            path: "Sources/Tools/epgm_thr"
        ),
    ] + tools.map { name in
        .executableTarget(name: name, dependencies: ["PerfKit"], path: "Sources/Tools/\(name)")
    },
    swiftLanguageModes: [.v6]
)
