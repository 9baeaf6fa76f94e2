import ZMTP
import ZeroMQTransport

/// An error from a socket or context: a code (the libzmq `errno` it corresponds to, as a case,
/// never an integer) and what happened.
public struct ZeroMQError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, as the libzmq `errno` it stands for.
    public enum Code: Hashable, Sendable {
        /// The operation would block (libzmq's EAGAIN) and was asked not to wait: a zero timeout,
        /// or no peer with room at its high-water mark for a pattern that never waits.
        case wouldBlock
        /// A blocking call's time ran out (``SocketOptions/receiveTimeout``,
        /// ``SocketOptions/sendTimeout`` or the `timeout:` given) with nothing sent or received.
        /// libzmq reports this as EAGAIN too, as ``wouldBlock``; here it has its own code, so a
        /// timeout reads as one.
        case timedOut
        /// Not valid in the socket's current state (EFSM): REQ sending twice, REP replying
        /// before receiving.
        case wrongState
        /// ROUTER_MANDATORY: no peer with that routing id (EHOSTUNREACH).
        case hostUnreachable
        /// The operation is not supported by this socket type (ENOTSUP): receive on PUB, …
        case notSupported
        /// The endpoint's scheme names no registered transport (EPROTONOSUPPORT).
        case protocolNotSupported
        /// The transport cannot be used by this socket type (ENOCOMPATPROTO).
        case incompatibleProtocol
        /// The context was terminated (ETERM).
        case terminated
        /// The socket was closed (ENOTSOCK).
        case closed
        /// An argument is invalid (EINVAL): a malformed endpoint, an out-of-range option.
        case invalidArgument
        /// The address is in use (EADDRINUSE).
        case addressInUse
        /// The address is not local or cannot be resolved (EADDRNOTAVAIL / ENODEV).
        case addressNotAvailable
        /// unbind/disconnect of an endpoint that is not bound/connected (ENOENT).
        case endpointNotFound
        /// Not thrown by the sockets or the poller: a cancelled async call throws Swift's
        /// `CancellationError`, which is what `catch is CancellationError` and task groups expect.
        /// Kept so that code switching over every code still compiles.
        case cancelled
        /// The operating system refused (the `errno` is in ``ZeroMQError/systemCode``).
        case system
    }

    /// What went wrong; switch over it to decide what to do.
    public var code: Code
    /// What happened, for people.
    public var message: String
    /// The `errno` behind a ``Code/system`` error (0 otherwise).
    public var systemCode: Int32 = 0

    /// An error of kind `code`, described by `message`, with the `errno` behind it if any.
    public init(_ code: Code, _ message: String, systemCode: Int32 = 0) {
        self.code = code
        self.message = message
        self.systemCode = systemCode
    }

    public var description: String { "\(code): \(message)" }

    static let wouldBlock = ZeroMQError(.wouldBlock, "the operation would block")

    /// What a blocking call whose `timeout` passed throws: ``Code/wouldBlock`` for a zero timeout
    /// (asked not to wait), ``Code/timedOut`` otherwise.
    static func expired(_ timeout: Duration?, sending: Bool) -> ZeroMQError {
        guard let timeout, timeout > .zero else { return .wouldBlock }
        return ZeroMQError(.timedOut, sending
            ? "no peer could take the message within the send timeout (\(timeout))"
            : "no message arrived within the receive timeout (\(timeout))")
    }
    static let terminated = ZeroMQError(.terminated, "the context was terminated")
    static let closed = ZeroMQError(.closed, "the socket is closed")

    static func notSupported(_ what: String) -> ZeroMQError { ZeroMQError(.notSupported, what) }

    /// Maps a transport failure to the libzmq error a user would see.
    init(_ error: TransportError) {
        switch error.kind {
        case .invalidEndpoint:
            self.init(.invalidArgument, error.description)
        case .terminated:
            self.init(.terminated, error.description)
        case .system:
            #if canImport(Glibc)
            switch error.code {
            case 98: self.init(.addressInUse, error.description, systemCode: error.code)          // EADDRINUSE
            case 99, 19: self.init(.addressNotAvailable, error.description, systemCode: error.code) // EADDRNOTAVAIL, ENODEV
            default: self.init(.system, error.description, systemCode: error.code)
            }
            #else
            self.init(.system, error.description, systemCode: error.code)
            #endif
        }
    }
}
