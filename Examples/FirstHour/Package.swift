// swift-tools-version: 6.1
import PackageDescription

// The first hour: what a new user writes in a package of their own, depending on swift-zeromq as
// any user's package does, with the zguide's names for the programs (a package that depends on
// swift-zeromq sees only its library products, so these names are free).
//
//   hwserver, hwclient                 Hello World, REQ/REP
//   wuserver, wuclient                 weather updates, PUB/SUB
//   taskvent, taskwork, tasksink       divide and conquer, the PUSH/PULL pipeline
//   asyncsrv, asyncclient              an async server in a task group, and async clients
//   curveserver, curveclient           CURVE with an authenticator (the zguide's Ironhouse)
//   rrbroker, rrclient, rrworker       the request-reply broker
//   ReadmeSnippets                     the README's snippets, compiled
//
// Tests/FirstHourTests (in the main package) builds this package and runs each program against
// pyzmq peers. Built here by hand: swift build --package-path Examples/FirstHour
let programs = [
    "hwserver", "hwclient", "wuserver", "wuclient", "taskvent", "taskwork", "tasksink",
    "asyncsrv", "asyncclient", "curveserver", "curveclient", "rrbroker", "rrclient", "rrworker",
]

let package = Package(
    name: "first-hour",
    dependencies: [
        // A user's package names this one by URL:
        //     .package(url: "https://github.com/swift-zeromq/swift-zeromq", from: "0.1.0")
        // A path dependency takes its identity from the folder's name ("FirstHour/../.." has no
        // useful one), so `name:` gives it the identity a URL dependency has: swift-zeromq.
        .package(name: "swift-zeromq", path: "../.."),
    ],
    targets: programs.map { name in
        .executableTarget(name: name, dependencies: [.product(name: "ZeroMQ", package: "swift-zeromq")])
    } + [
        .target(name: "ReadmeSnippets", dependencies: ["ZeroMQ", "ZeroMQPGM", "ZMTP", "ZMTPSodium"].map {
            .product(name: $0, package: "swift-zeromq")
        }),
    ],
    swiftLanguageModes: [.v6]
)
