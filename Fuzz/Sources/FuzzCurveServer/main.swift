import FuzzSupport
@_spi(Testing) import ZMTP

// A Connection configured as a CURVE server with InsecureFuzzingCurveCrypto (NO SECURITY: fuzzing
// only), so that fuzz input can get past the boxes to the later handshake commands and MESSAGE.
// The client's stream is recorded once from a real client Connection using the same insecure
// crypto and SeededRandom; the input's first byte picks the splice point (the input replaces the
// recorded stream from there), or sealed mode (the input after the recorded handshake is turned
// into MESSAGE boxes by the harness), and the socket pair and options. See CurveHarness in
// FuzzSupport/Scenarios.swift for the mode byte. Checks as FuzzPlainServer: identical events for
// every chunking and identical output whole and byte by byte, peer-only blame, phase order.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let (scenario, stream) = CurveHarness.setup(.server, input: inputBytes(start, count))
    fuzzConnection(scenario, stream: stream)
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    describeIfRequested { input in
        let (scenario, stream) = CurveHarness.setup(.server, input: input)
        return scenario.prefix + stream
    }
    writeSeedsIfRequested(target: "FuzzCurveServer", { CurveHarness.seeds(.server) })
    return 0
}
