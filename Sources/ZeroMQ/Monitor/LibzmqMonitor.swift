#if canImport(Glibc)
import Glibc
#endif
import ZMTP
import ZeroMQTransport

/// Which events a libzmq-format monitor sends (libzmq's `ZMQ_EVENT_*` bits).
public struct MonitorEventMask: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// A connect completed its TCP or IPC connection (ZMQ_EVENT_CONNECTED).
    public static let connected = MonitorEventMask(rawValue: 0x0001)
    /// A connect is in progress and will finish later (ZMQ_EVENT_CONNECT_DELAYED).
    public static let connectDelayed = MonitorEventMask(rawValue: 0x0002)
    /// A connect failed and a retry is scheduled (ZMQ_EVENT_CONNECT_RETRIED).
    public static let connectRetried = MonitorEventMask(rawValue: 0x0004)
    /// A bind is listening (ZMQ_EVENT_LISTENING).
    public static let listening = MonitorEventMask(rawValue: 0x0008)
    /// A bind failed (ZMQ_EVENT_BIND_FAILED).
    public static let bindFailed = MonitorEventMask(rawValue: 0x0010)
    /// A listener accepted a connection (ZMQ_EVENT_ACCEPTED).
    public static let accepted = MonitorEventMask(rawValue: 0x0020)
    /// A listener could not accept a connection (ZMQ_EVENT_ACCEPT_FAILED).
    public static let acceptFailed = MonitorEventMask(rawValue: 0x0040)
    /// A connection's or listener's descriptor was closed (ZMQ_EVENT_CLOSED).
    public static let closed = MonitorEventMask(rawValue: 0x0080)
    /// Closing a descriptor failed (ZMQ_EVENT_CLOSE_FAILED).
    public static let closeFailed = MonitorEventMask(rawValue: 0x0100)
    /// An established connection ended (ZMQ_EVENT_DISCONNECTED).
    public static let disconnected = MonitorEventMask(rawValue: 0x0200)
    /// The monitor stopped; the last event it sends (ZMQ_EVENT_MONITOR_STOPPED).
    public static let monitorStopped = MonitorEventMask(rawValue: 0x0400)
    /// A handshake failed for a reason that is neither a protocol error nor authentication:
    /// a timeout, a closed stream (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL).
    public static let handshakeFailedNoDetail = MonitorEventMask(rawValue: 0x0800)
    /// A ZMTP handshake completed (ZMQ_EVENT_HANDSHAKE_SUCCEEDED).
    public static let handshakeSucceeded = MonitorEventMask(rawValue: 0x1000)
    /// A handshake failed with a protocol error; the value is its ZMTP or ZAP code
    /// (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL).
    public static let handshakeFailedProtocol = MonitorEventMask(rawValue: 0x2000)
    /// Authentication refused the peer; the value is the ZAP status code
    /// (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH).
    public static let handshakeFailedAuth = MonitorEventMask(rawValue: 0x4000)
    /// ``MonitorEvent/dataLost(endpoint:detail:)``: libzmq has no such event and leaves this bit
    /// unused; readers of libzmq's format see event 0x8000 with value 0.
    public static let dataLost = MonitorEventMask(rawValue: 0x8000)
    /// ZMQ_EVENT_ALL.
    public static let all = MonitorEventMask(rawValue: 0xFFFF)
}

extension MonitorEvent {
    /// The event as libzmq numbers it, with its value: a descriptor for connection events (0
    /// here: descriptors stay inside the engine), the errno of a failure, the retry interval in
    /// ms, the ZMTP protocol error code (`ZMQ_PROTOCOL_ERROR_*`) or the ZAP status code.
    public var libzmqEvent: (event: MonitorEventMask, value: UInt32) {
        switch self {
        case .connected: return (.connected, 0)
        case .connectDelayed: return (.connectDelayed, 115)  // EINPROGRESS
        case .connectRetried(_, let after, _): return (.connectRetried, UInt32(clamping: SessionConfiguration.milliseconds(after)))
        case .listening: return (.listening, 0)
        case .bindFailed(_, let error): return (.bindFailed, UInt32(bitPattern: error.systemCode))
        case .accepted: return (.accepted, 0)
        case .acceptFailed(_, let error): return (.acceptFailed, UInt32(bitPattern: error.code))
        case .closed: return (.closed, 0)
        case .disconnected: return (.disconnected, 0)
        case .monitorStopped: return (.monitorStopped, 0)
        case .dataLost: return (.dataLost, 0)
        case .handshakeSucceeded: return (.handshakeSucceeded, 0)
        case .handshakeFailed(_, let error):
            if error.code == .authenticationFailed {
                // The ZAP status code ("400 …"), as libzmq reports HANDSHAKE_FAILED_AUTH.
                let digits = error.detail.prefix { $0.isNumber }
                return (.handshakeFailedAuth, UInt32(digits) ?? 0)
            }
            // libzmq's own codes are ZMQ_PROTOCOL_ERROR_ZMTP_* (0x1…) and _ZAP_* (0x2…); ours
            // beyond them (timeouts, legacy peers, …) have no libzmq number.
            switch error.code.rawValue >> 28 {
            case 1, 2: return (.handshakeFailedProtocol, error.code.rawValue)
            default: return (.handshakeFailedNoDetail, 0)
            }
        }
    }

    /// The endpoint the event is about ("" for ``monitorStopped``).
    public var endpoint: String {
        switch self {
        case .connected(let e, _), .connectDelayed(let e), .connectRetried(let e, _, _), .listening(let e),
             .bindFailed(let e, _), .accepted(let e, _), .acceptFailed(let e, _), .closed(let e),
             .disconnected(let e, _), .handshakeSucceeded(let e, _), .handshakeFailed(let e, _), .dataLost(let e, _):
            return e
        case .monitorStopped:
            return ""
        }
    }

    /// libzmq's two-frame monitor message (v1 layout): 16-bit event and 32-bit value in the
    /// host's byte order, as libzmq copies them, then the endpoint.
    public var libzmqMessage: [Message] {
        let (event, value) = libzmqEvent
        var head: [UInt8] = []
        withUnsafeBytes(of: event.rawValue) { head.append(contentsOf: $0) }
        withUnsafeBytes(of: value) { head.append(contentsOf: $0) }
        return [Message(head, more: true), Message(string: endpoint)]
    }
}

extension Socket {
    /// Publishes this socket's events in libzmq's monitor format on a PAIR socket bound at
    /// `endpoint` (libzmq's `zmq_socket_monitor`): any transport, not only inproc, so a monitor
    /// reader written for libzmq (pyzmq's `parse_monitor_message`, `zmq_socket_monitor` readers in
    /// C) can read it from another process. Returns the bound endpoint.
    ///
    /// It never holds the socket up: events nobody is connected to read, or that find the reader's
    /// queue full, are dropped. The stream ends with MONITOR_STOPPED when the socket closes.
    @discardableResult
    public func monitor(endpoint: String, events mask: MonitorEventMask = .all) throws(ZeroMQError) -> String {
        let publisher = try context.socket(.pair)
        publisher.options.linger = .milliseconds(500)
        try publisher.bind(endpoint)
        let bound = publisher.lastEndpoint
        // A thread of its own, not a task: the monitor keeps flowing when the application
        // blocks every thread of the cooperative pool with blocking calls.
        let job = MonitorPublisher(channel: eventLog.addMonitor(capacity: 1024, blocking: true), publisher: publisher, mask: mask)
        try DetachedThread.start { job.run() }
        return bound
    }
}

/// The thread that turns a monitor's events into libzmq's monitor messages.
private final class MonitorPublisher: @unchecked Sendable {
    let channel: MonitorChannel
    /// Used by the publisher thread only, from its start.
    let publisher: Socket
    let mask: MonitorEventMask

    init(channel: MonitorChannel, publisher: Socket, mask: MonitorEventMask) {
        self.channel = channel
        self.publisher = publisher
        self.mask = mask
    }

    func run() {
        while let event = channel.nextBlocking() {
            let message = event.libzmqMessage
            guard mask.contains(event.libzmqEvent.event), let head = message.first, let tail = message.last else { continue }
            // Both parts or neither: the second part of a started message is always taken.
            if (try? publisher.trySend(head)) == true { _ = try? publisher.trySend(tail) }
        }
        publisher.close()
    }
}
