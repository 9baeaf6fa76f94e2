import ZMTP

/// What a proxy has moved, counted as libzmq's `zmq_proxy_steerable` counts it
/// (`proxy.cpp`, `forward` and `handle_control`): one per message *part* (frame), and the body
/// bytes of those parts, separately for what each side received and sent.
///
/// A three-part message from the frontend adds 3 to ``frontend`` `receivedMessages` and, once
/// sent on, 3 to ``backend`` `sentMessages`. The capture socket is not counted.
public struct ProxyStatistics: Sendable, Hashable {
    /// The traffic of one socket of the proxy.
    public struct Traffic: Sendable, Hashable {
        /// Parts received from this socket.
        public var receivedMessages: UInt64
        /// Body bytes of the parts received from this socket.
        public var receivedBytes: UInt64
        /// Parts sent on this socket.
        public var sentMessages: UInt64
        /// Body bytes of the parts sent on this socket.
        public var sentBytes: UInt64

        /// Counters with these values; all zero by default.
        public init(receivedMessages: UInt64 = 0, receivedBytes: UInt64 = 0, sentMessages: UInt64 = 0, sentBytes: UInt64 = 0) {
            self.receivedMessages = receivedMessages
            self.receivedBytes = receivedBytes
            self.sentMessages = sentMessages
            self.sentBytes = sentBytes
        }
    }

    /// The frontend's traffic (requests in, replies out).
    public var frontend: Traffic
    /// The backend's traffic (replies in, requests out).
    public var backend: Traffic

    /// Statistics of these two sides; all zero by default.
    public init(frontend: Traffic = Traffic(), backend: Traffic = Traffic()) {
        self.frontend = frontend
        self.backend = backend
    }

    /// The eight counters in the order of libzmq's STATISTICS reply (`zmq_proxy_steerable(3)`):
    ///
    /// ```
    /// 0 frontend received parts    4 backend received parts
    /// 1 frontend received bytes    5 backend received bytes
    /// 2 frontend sent parts        6 backend sent parts
    /// 3 frontend sent bytes        7 backend sent bytes
    /// ```
    public var counters: [UInt64] {
        [frontend.receivedMessages, frontend.receivedBytes, frontend.sentMessages, frontend.sentBytes,
         backend.receivedMessages, backend.receivedBytes, backend.sentMessages, backend.sentBytes]
    }

    /// The STATISTICS reply: eight parts of 8 bytes, one per ``counters`` entry, in that order.
    ///
    /// libzmq copies each `uint64_t` in the host's byte order; this writes little-endian, which is
    /// the same bytes on every host Swift runs this package on (x86-64, arm64), and the same on
    /// a big-endian one, so a reply decodes the same everywhere.
    public var reply: [Message] {
        let values = counters
        return values.indices.map { index in
            withUnsafeBytes(of: values[index].littleEndian) { Message(copying: $0, more: index < values.count - 1) }
        }
    }

    /// Decodes a STATISTICS reply (see ``reply``); nil unless it is eight parts of 8 bytes.
    public init?(reply parts: [Message]) {
        guard parts.count == 8, parts.allSatisfy({ $0.count == 8 }) else { return nil }
        let values = parts.map { part in
            part.withUnsafeBytes { raw in raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        }
        self.init(frontend: Traffic(receivedMessages: values[0], receivedBytes: values[1], sentMessages: values[2], sentBytes: values[3]),
                  backend: Traffic(receivedMessages: values[4], receivedBytes: values[5], sentMessages: values[6], sentBytes: values[7]))
    }
}
