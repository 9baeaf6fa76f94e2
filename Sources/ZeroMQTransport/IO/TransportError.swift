#if canImport(Glibc)
import Glibc
#endif

/// A failure of the operating system or the transport layer, as a value (never an `errno`
/// integer leaking into the API).
public struct TransportError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Kind: Hashable, Sendable {
        /// A system call failed; `code` is its `errno`.
        case system
        /// The reactor or object was stopped.
        case terminated
        /// An endpoint string could not be parsed or resolved (libzmq: EINVAL).
        case invalidEndpoint
    }

    /// What kind of failure.
    public var kind: Kind
    /// The operation that failed.
    public var operation: String
    /// The `errno` value for ``Kind/system``.
    public var code: Int32

    /// A failed system call: `operation` names it, `code` is its `errno`.
    public static func system(_ operation: String, _ code: Int32) -> TransportError {
        TransportError(kind: .system, operation: operation, code: code)
    }

    /// `operation` could not run because its reactor or object was stopped.
    public static func terminated(_ operation: String) -> TransportError {
        TransportError(kind: .terminated, operation: operation, code: 0)
    }

    /// `endpoint` could not be parsed or resolved, for the reason `why`.
    public static func invalidEndpoint(_ endpoint: String, _ why: String) -> TransportError {
        TransportError(kind: .invalidEndpoint, operation: "\(endpoint): \(why)", code: 0)
    }

    public var description: String {
        switch kind {
        case .system: return "\(operation): \(String(cString: strerror(code))) (errno \(code))"
        case .terminated: return "\(operation): terminated"
        case .invalidEndpoint: return "invalid endpoint \(operation)"
        }
    }
}
