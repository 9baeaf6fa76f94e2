import ZMTP

// The names the first releases used, kept so that code written against them still compiles,
// with a fix-it to the new name. Each says why it changed.

/// Renamed: `Security` is also the name of Apple's framework.
@available(*, deprecated, renamed: "SecurityMechanism")
public typealias Security = SecurityMechanism

/// Renamed: readiness, monitor events and the monitor's event bits had three near-identical names.
@available(*, deprecated, renamed: "PollEvents")
public typealias SocketEvents = PollEvents

/// Renamed: readiness, monitor events and the monitor's event bits had three near-identical names.
@available(*, deprecated, renamed: "MonitorEvent")
public typealias SocketEvent = MonitorEvent

/// Renamed: readiness, monitor events and the monitor's event bits had three near-identical names.
@available(*, deprecated, renamed: "MonitorEventMask")
public typealias SocketEventMask = MonitorEventMask

extension Socket {
    /// Renamed: a multipart message of byte arrays is sent as the others are, by `send(_:)`.
    @available(*, deprecated, renamed: "send(_:)")
    public func send(multipart parts: [[UInt8]]) throws(ZeroMQError) {
        try send(parts)
    }

    /// What `receive(timeout:)` returned before it returned a `Message` as `receive()`
    /// does; `receiveMultipart(timeout:)` gives the peer's properties.
    @available(*, deprecated, message: "receive(timeout:) returns a Message; receiveMultipart(timeout:) gives the properties")
    public struct Received: Sendable {
        /// The part received.
        public var message: Message
        /// The sending peer's properties.
        public var properties: Metadata

        /// A property's value as text, as ``Multipart/property(_:)``.
        public func property(_ name: String) -> String? { properties.property(name) }
    }
}

extension Message {
    /// The message itself, so that `socket.receive(timeout:).message`, written when
    /// `Socket.receive(timeout:)` returned a `Received`, still compiles.
    @available(*, deprecated, message: "receive(timeout:) returns the Message itself")
    public var message: Message { self }
}

extension CurveCertificate {
    /// Renamed: a certificate from its secret key is made by an initializer.
    @available(*, deprecated, renamed: "init(secretKey:)")
    public static func from(secretKey: [UInt8]) throws(ZeroMQError) -> CurveCertificate {
        try CurveCertificate(secretKey: secretKey)
    }

    /// Replaced by ``publicFileText`` and ``secretFileText``: a Bool argument did not say which
    /// file it made.
    @available(*, deprecated, message: "use publicFileText or secretFileText")
    public func fileText(secret: Bool) -> String {
        secret ? (secretFileText ?? publicFileText) : publicFileText
    }
}

extension SocketOptions {
    /// Replaced by ``tcpKeepaliveIdleTime``, a `Duration` as the other options are.
    @available(*, deprecated, renamed: "tcpKeepaliveIdleTime")
    public var tcpKeepaliveIdle: Int? {
        get { tcpKeepaliveIdleTime.map { Int(SessionConfiguration.wholeSeconds($0)) } }
        set { tcpKeepaliveIdleTime = newValue.map { .seconds($0) } }
    }

    /// Replaced by ``tcpKeepaliveProbeInterval``, a `Duration` as the other options are.
    @available(*, deprecated, renamed: "tcpKeepaliveProbeInterval")
    public var tcpKeepaliveInterval: Int? {
        get { tcpKeepaliveProbeInterval.map { Int(SessionConfiguration.wholeSeconds($0)) } }
        set { tcpKeepaliveProbeInterval = newValue.map { .seconds($0) } }
    }
}
