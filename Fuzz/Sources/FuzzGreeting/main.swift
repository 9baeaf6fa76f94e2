import FuzzSupport
import ZMTP

// Greeting.detect on every prefix of the input (a peer's first bytes), as a driver calls it while
// bytes trickle in, and on the same bytes inside a larger buffer (a slice that does not start at
// index 0). Checks: results agree between the two; needMore(total: t) asks for more than it has
// and every shorter prefix than t says the same; once decided the answer never changes; errors
// are malformedGreeting blamed on the peer; each decision matches the bytes it read; a ZMTP 3.x
// greeting re-encodes to a greeting that detects as itself.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzGreeting(inputBytes(start, count))
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    writeSeedsIfRequested(target: "FuzzGreeting", greetingSeeds)
    return 0
}
