#if canImport(Glibc)
import Glibc
#endif

/// A connected byte stream that pushes what it receives, for runtimes that own their sockets and
/// report completed reads rather than readiness (a SwiftNIO channel, a platform's async sockets).
///
/// A transport hands one to the engine inside a ``StreamConnection``; the engine drives ZMTP over
/// it exactly as over a descriptor, with the same limits and back-pressure. Every member is called
/// on the thread of the ``IODriver`` the transport was given, and the stream calls its
/// ``ByteStreamReceiver`` only there.
///
/// Back-pressure both ways: the engine calls ``setReading(_:)`` with false while the socket has no
/// room (the stream stops asking its runtime for input, so the peer's sends back up into its TCP
/// window); ``write(_:)`` takes fewer bytes than offered once the stream's own buffer is full, and
/// the engine waits for ``ByteStreamReceiver/streamBecameWritable()``.
public protocol ByteStream: AnyObject {
    /// Starts delivering input and events to `receiver` (held strongly until the stream ends or
    /// is closed). Until this call the stream reads nothing.
    func start(_ receiver: any ByteStreamReceiver)
    /// Takes up to `bytes.count` bytes for sending, in order; returns how many it took (fewer,
    /// even 0, when its buffer is full: the receiver then hears ``ByteStreamReceiver/streamBecameWritable()``).
    /// The bytes are copied or sent before it returns.
    func write(_ bytes: UnsafeRawBufferPointer) -> Int
    /// Sends what ``write(_:)`` took (once per batch).
    func flush()
    /// Whether to read input. Input already read when this turns false may still arrive once.
    func setReading(_ reading: Bool)
    /// Closes the stream, after sending what was written; no more calls reach the receiver.
    func close()
}

/// What a ``ByteStream`` reports to the engine that drives it, on the driver's thread.
public protocol ByteStreamReceiver: AnyObject {
    /// Bytes arrived (valid during the call only).
    func stream(received bytes: UnsafeRawBufferPointer)
    /// The stream takes writes again after ``ByteStream/write(_:)`` took less than offered.
    func streamBecameWritable()
    /// The stream ended: nil when the peer closed it in order, the failure otherwise.
    func streamEnded(_ failure: TransportError?)
}

extension StreamConnection.Medium {
    /// Starts an engine's input: makes the descriptor non-blocking and registers it with
    /// `driver` for reading, or starts the stream. Returns the descriptor's registration (nil
    /// for a stream).
    public func start(on driver: any IODriver, for engine: some IOHandler & ByteStreamReceiver) throws(TransportError) -> IORegistration? {
        switch self {
        case .descriptor(let fd):
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            return try driver.register(fd: fd, events: .readable, handler: engine)
        case .byteStream(let stream):
            stream.start(engine)
            return nil
        }
    }

    /// Ends it: deregisters (`registration`, if any) and closes the descriptor, or closes the stream.
    public func close(on driver: any IODriver, registration: IORegistration?) {
        switch self {
        case .descriptor(let fd):
            if let registration { driver.deregister(registration) }
            Glibc.close(fd)
        case .byteStream(let stream):
            stream.close()
        }
    }
}
