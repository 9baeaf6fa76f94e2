import FuzzSupport
import ZMTP

// A Connection configured as a PLAIN server (ROUTER), fed a valid PLAIN greeting and then the
// input as the client's byte stream (HELLO, INITIATE, messages...). Authentication requests are
// answered as soon as they are reported, cycling accept / deny (400) / 300 / 500 keyed on the
// request index plus the username's length, so the fuzzer picks the answer. The stream is fed
// whole, byte by byte and in a pseudo-random chunking (the greeting is read once per process and
// the connection state after it is copied for every run): events must be identical, and so must
// the bytes sent by the whole and byte-by-byte runs; every failure must be blamed on the peer (or
// the transport once timers fire at the end); events must respect the connection's phases (see
// FuzzSupport/ConnectionHarness.swift).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzConnection(PlainServerHarness.scenario, stream: inputBytes(start, count))
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    describeIfRequested { input in PlainServerHarness.greeting + input }
    writeSeedsIfRequested(target: "FuzzPlainServer", PlainServerHarness.seeds)
    return 0
}
