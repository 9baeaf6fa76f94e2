// swift-tools-version: 6.0
import PackageDescription

// The fuzzers live in their own package (as swift-nio-http2's FuzzTesting/), so the main package
// never builds them and `--sanitize=fuzzer` applies to this build only. Build and run with
// ./run.sh (see README.md): the flags are not optional.
//
//   FuzzSupport   shared harness code (invariant checks, chunkings, connection driver,
//                 handshake transcripts, seed writing) and the CURVE provider without security
//                 (InsecureFuzzingCurveCrypto). The main package declares the same folder as a
//                 target of its own (not a product), so that the vector runner replays
//                 regressions through the very same set-ups; neither package's build sees the
//                 other's, since nothing here depends on the main package's FuzzSupport.
//   Fuzz*         one libFuzzer entry point (LLVMFuzzerTestOneInput) each.
//   FuzzPGMDecoder  also depends on ZeroMQPGM; its harness sits beside its main.

let zmtp: Target.Dependency = .product(name: "ZMTP", package: "swift-zeromq")
let support: Target.Dependency = "FuzzSupport"

let fuzzers = [
    "FuzzGreeting",
    "FuzzFrameDecoderV3", "FuzzFrameDecoderV2", "FuzzFrameDecoderV1",
    "FuzzCommand",
    "FuzzZ85",
    "FuzzPlainServer",
    "FuzzCurveServer", "FuzzCurveClient",
    "FuzzConnection",
    "FuzzZAP",
]

// Targets over a layer above the core, with the extra product they need.
let layerFuzzers: [(name: String, product: String)] = [
    ("FuzzPGMDecoder", "ZeroMQPGM"),   // PGM APDUs (ZeroMQPGM links libpgm, so not in FuzzSupport)
]

let package = Package(
    name: "swift-zeromq-fuzz",
    dependencies: [
        .package(name: "swift-zeromq", path: ".."),
    ],
    targets: [
        .target(name: "FuzzSupport", dependencies: [zmtp]),
    ] + fuzzers.map { name in
        .executableTarget(name: name, dependencies: [support, zmtp])
    } + layerFuzzers.map { fuzzer in
        .executableTarget(name: fuzzer.name,
                          dependencies: [support, zmtp, .product(name: fuzzer.product, package: "swift-zeromq")])
    },
    swiftLanguageModes: [.v6]
)
