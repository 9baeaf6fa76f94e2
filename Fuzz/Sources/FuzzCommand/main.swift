import FuzzSupport
import ZMTP

// Command.parse and Metadata.parse on the input (a command frame's body; metadata as carried by
// READY, INITIATE and ZAP replies), from an array slice starting at 0 and from one starting at 3
// (the parsers must use the slice's own indices). Checks: both slices agree; errors are blamed on
// the peer, with the code the caller asked Metadata.parse for; a parsed command re-encodes to a
// body that parses to the same command; parsed metadata re-encodes to exactly the input.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzCommand(inputBytes(start, count))
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    writeSeedsIfRequested(target: "FuzzCommand", commandSeeds)
    return 0
}
