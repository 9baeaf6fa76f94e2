import FuzzSupport
import ZMTP

// FrameDecoder in ZMTP 1.0 framing (FramingVersion.zmtp1).
//
// The input is a peer's byte stream. With no limit it is decoded whole, byte by byte and in two
// pseudo-random chunkings; with maxMessageSize 0, 32 and a value derived from the input, whole
// and in one chunking. All chunkings must agree; every decode call must make progress within its
// buffer (ASan watches each read in its own exactly sized block); frames must re-encode and
// decode to themselves; errors must be malformedFrame/messageTooLarge blamed on the peer, and
// sticky; a limit may only cut the unlimited outcome short at the first frame above it.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzDecoder(inputBytes(start, count), version: .zmtp1, limits: [0, 32])
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    writeSeedsIfRequested(target: "FuzzFrameDecoderV1", { decoderSeeds(.zmtp1) })
    return 0
}
