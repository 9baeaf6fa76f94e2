// swift-tools-version: 6.1
import PackageDescription

// An HTTP service in front of a ZeroMQ worker pool, both on the same SwiftNIO event loops:
// Hummingbird serves HTTP, and each request goes to a worker over DEALER/ROUTER, its reply
// becoming the HTTP response. A package of its own (as Benchmarks/ is), so that the library's
// users never resolve Hummingbird.
//
//   http-gateway    Hummingbird on MultiThreadedEventLoopGroup.singleton; a DEALER bound for the
//                   workers, on a Context made on the same event loops (ZeroMQNIO).
//   gateway-worker  a worker: a ROUTER that connects to the gateway and answers each request.
//
// Tests/FirstHourTests/HTTPGatewayTests.swift builds it and runs it end to end, with this
// worker and pyzmq workers. Built here by hand: swift build --package-path Examples/HTTPGateway
let package = Package(
    name: "http-gateway",
    dependencies: [
        // A user's package names swift-zeromq by URL, with the trait that brings ZeroMQNIO:
        //     .package(url: "https://github.com/swift-zeromq/swift-zeromq", from: "0.1.0", traits: ["NIO"])
        .package(name: "swift-zeromq", path: "../..", traits: ["NIO"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    ],
    targets: [
        .executableTarget(name: "http-gateway", dependencies: [
            .product(name: "ZeroMQ", package: "swift-zeromq"),
            .product(name: "ZeroMQNIO", package: "swift-zeromq"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .executableTarget(name: "gateway-worker", dependencies: [
            .product(name: "ZeroMQ", package: "swift-zeromq"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
