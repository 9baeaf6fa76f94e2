import ZMTP

/// A command for a steerable proxy's control socket (`zmq_proxy_steerable(3)`): a single-part
/// message whose body is the command's name in ASCII, exactly (libzmq compares length and
/// bytes). Any other message is ignored, though a REP control socket still answers it.
///
/// ```swift
/// try control.send(ProxyCommand.pause.message)
/// ```
public enum ProxyCommand: String, Sendable, CaseIterable {
    /// Stop moving messages; they wait in the sockets' queues (whose HWMs then apply).
    case pause = "PAUSE"
    /// Move messages again.
    case resume = "RESUME"
    /// End the proxy: ``proxy(frontend:backend:capture:control:)`` returns.
    case terminate = "TERMINATE"
    /// Reply with the eight counters of ``ProxyStatistics/reply``.
    case statistics = "STATISTICS"

    /// The message to send on the control socket.
    public var message: Message { Message(string: rawValue) }

    /// The command a whole received message names, if it names one.
    init?(parts: [Message]) {
        guard parts.count == 1, let command = Self.allCases.first(where: { parts[0].bytes.elementsEqual($0.rawValue.utf8) }) else {
            return nil
        }
        self = command
    }
}
