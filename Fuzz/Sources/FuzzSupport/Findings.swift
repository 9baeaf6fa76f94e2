import ZMTP

// The invariant every harness checks (h11's): whatever bytes a peer sends, a parser either
// produces a value or throws a ZMTPError blamed on the peer. Anything else is a finding, and a
// finding must crash loudly so that libFuzzer saves the input.

/// Reports a finding: crashes with a message libFuzzer prints next to the saved input.
public func finding(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError("FUZZ FINDING: \(message())", file: file, line: line)
}

/// Crashes with `message` unless `condition` holds.
@inline(__always)
public func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition { finding(message(), file: file, line: line) }
}

/// Who may be blamed for an error caused by peer bytes.
public struct AllowedBlame: Sendable {
    public var transport: Bool
    public init(transport: Bool = false) { self.transport = transport }

    /// Only the peer: `.peerMisbehaved` or `.peerIncompatible`.
    public static let peer = AllowedBlame()
    /// The peer, or `.transport` (after a timer fired).
    public static let peerOrTransport = AllowedBlame(transport: true)
}

/// Crashes unless `error` is blamed on the peer (or on the transport, when allowed).
public func requirePeerBlame(_ error: ZMTPError, _ allowed: AllowedBlame = .peer, _ context: @autoclosure () -> String = "",
                             file: StaticString = #fileID, line: UInt = #line) {
    switch error.blame {
    case .peerMisbehaved, .peerIncompatible:
        return
    case .transport where allowed.transport:
        return
    case .transport, .apiMisuse:
        finding("error blamed on \(error.blame.rawValue) from peer bytes: \(error) \(context())", file: file, line: line)
    }
}
