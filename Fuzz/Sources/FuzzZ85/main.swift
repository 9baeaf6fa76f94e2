import FuzzSupport
import ZMTP

// Z85.decode on the input as text (keys arrive as Z85 from configuration and ZAP), as a String
// and as a Substring that does not start at the string's start. Checks: both agree; failures are
// invalidZ85 blamed on the peer; a decoded buffer has 4 bytes per 5 characters and encodes back
// to exactly the text (Z85 is canonical). And the other way: when the input's length is a
// multiple of 4, its encoding decodes back to it.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzZ85(inputBytes(start, count))
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    writeSeedsIfRequested(target: "FuzzZ85", z85Seeds)
    return 0
}
