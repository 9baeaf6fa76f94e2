#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import ZeroMQ

/// zmqcat's exit statuses: what a script can rely on (listed in `--help` and the README).
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Everything asked was done: all input sent, COUNT messages received, or (without a
    /// COUNT) at least one message received before --timeout of silence.
    case success = 0
    /// Bad command line: an unknown option, a bad value, a malformed endpoint or CURVE key.
    case usage = 1
    /// --timeout ran out: nothing (or fewer than COUNT messages) received, a send found no
    /// peer with room, a REQ got no reply, or a PUB no subscriber (10 s without --timeout).
    case timeout = 2
    /// The connection failed: a bind was refused (address in use), or connects or handshakes
    /// failed (refused, authentication denied, wrong CURVE key) and no peer ever completed one.
    case connectionFailed = 3
    /// Anything else: unreadable or malformed input (bad hex), a socket error.
    case failure = 4
    /// Stopped by SIGINT or SIGTERM (128 + SIGINT).
    case interrupted = 130

    /// One line per status, for `--help`.
    static let summary = """
        EXIT STATUS:
          0    done: all input sent, COUNT messages received, or (without -n) at
               least one message received before --timeout of silence
          1    usage: bad option or value, malformed endpoint, invalid CURVE key
          2    timeout: nothing (or fewer than COUNT) received, no peer took a
               send, a REQ got no reply, or a PUB no subscriber, within
               --timeout (a PUB without it: 10 s)
          3    connection failure: a bind was refused, or connects or handshakes
               failed (refused, authentication denied, wrong CURVE key) and no
               peer ever completed a handshake
          4    other error: unreadable or malformed input (bad hex), socket error
          130  interrupted (SIGINT or SIGTERM)
        """
}

/// A run that ends with a status other than success, and why (printed on standard error as
/// `zmqcat: <message>`).
public struct ZmqcatFailure: Error, Sendable, CustomStringConvertible {
    public var status: ExitStatus
    public var message: String

    public init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status): \(message)" }

    /// A socket error from setting up or running, with the status a script should see.
    init(_ error: ZeroMQError, while doing: String) {
        switch error.code {
        case .invalidArgument, .protocolNotSupported, .incompatibleProtocol, .notSupported:
            self.init(.usage, "\(doing): \(error.message)")
        case .addressInUse, .addressNotAvailable, .system, .hostUnreachable:
            self.init(.connectionFailed, "\(doing): \(error.message)")
        case .wouldBlock, .timedOut:
            self.init(.timeout, "\(doing): timed out")
        case .wrongState, .terminated, .closed, .endpointNotFound, .cancelled:
            self.init(.failure, "\(doing): \(error.message)")
        }
    }
}
#endif  // Tools
