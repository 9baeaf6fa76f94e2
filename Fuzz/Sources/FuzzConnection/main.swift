import FuzzSupport
import ZMTP

// A whole Connection: the input's first byte picks the socket type, the mechanism (NULL, NULL
// with ZAP, PLAIN server/client, CURVE server/client with the insecure fuzzing crypto) and
// whether ZMTP 1.0/2.0 peers are accepted; the second byte picks options (heartbeats, ZMTP 3.0
// greeting, maxMessageSize, identity, ...; see ConnectionHarness in FuzzSupport/Scenarios.swift).
// The rest is the peer's byte stream from its very first byte. Checks as FuzzPlainServer.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let (scenario, stream) = ConnectionHarness.setup(input: inputBytes(start, count))
    fuzzConnection(scenario, stream: stream)
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    describeIfRequested { input in ConnectionHarness.setup(input: input).1 }
    writeSeedsIfRequested(target: "FuzzConnection", ConnectionHarness.seeds)
    return 0
}
