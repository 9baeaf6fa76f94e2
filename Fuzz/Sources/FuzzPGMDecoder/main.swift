import FuzzSupport

// PGMDecoder (ZeroMQPGM): one PGM source's APDUs, and PGMEncoder → PGMDecoder round trips with
// and without a lost APDU. The modes, the record formats and the invariants are described in
// PGMDecoderHarness.swift.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    PGMDecoderHarness.run(inputBytes(start, count))
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    writeSeedsIfRequested(target: "FuzzPGMDecoder", PGMDecoderHarness.seeds)
    return 0
}
