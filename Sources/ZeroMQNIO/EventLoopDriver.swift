// SwiftNIO is a dependency only for those who enable the package trait "NIO"
// (`.package(url: …, from: …, traits: ["NIO"])`); without it this module is empty.
#if NIO
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import ZMTP
import ZeroMQTransport

/// Runs the socket layer's timers and cross-thread tasks on one SwiftNIO `EventLoop`: the
/// ``/ZeroMQTransport/IODriver`` of a context made with ``ZeroMQ/Context/init(eventLoopGroup:transports:)``.
///
/// Its connections are NIO channels (``ChannelTransport``), whose handlers push the bytes they
/// read to the engines: the loop's thread is the driver's thread, so the engines, sessions and
/// timers of a connection run on the loop that owns its channel, with no thread of the library's
/// own and no hop between the channel and the engine.
///
/// NIO does not watch descriptors it does not own, so this driver watches none:
/// ``register(fd:events:handler:)`` throws, and what needs it is not available on an event-loop
/// context: `stream` sockets (raw TCP), pgm and epgm, and ``/ZeroMQ/Poller``'s async wait (its
/// blocking `poll` works, from a thread that is not an event loop).
public final class EventLoopDriver: IODriver, @unchecked Sendable {
    /// The loop everything runs on.
    public let eventLoop: any EventLoop
    public let mailbox: DriverMailbox
    public let readBuffer: UnsafeMutableRawBufferPointer

    /// Timers not yet fired or cancelled, by token (the loop's thread only: hence
    /// `@unchecked Sendable`, as for every driver).
    private var timers: [UInt64: Scheduled<Void>] = [:]
    private var nextToken: UInt64 = 0

    /// A driver on `eventLoop`.
    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        // A post that finds the mailbox empty submits one drain to the loop; later posts ride
        // along with it.
        mailbox = DriverMailbox { mailbox in
            eventLoop.execute { mailbox.drain() }
        }
        readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: StreamEngine.readQuantum, alignment: 16)
    }

    deinit {
        readBuffer.deallocate()
    }

    public func register(fd: Int32, events: IOEvents, handler: IOHandler) throws(TransportError) -> IORegistration {
        throw TransportError.system("watch a descriptor on a SwiftNIO event loop", ENOTSUP)
    }

    public func update(_ registration: IORegistration, events: IOEvents) throws(TransportError) {
        throw TransportError.system("watch a descriptor on a SwiftNIO event loop", ENOTSUP)
    }

    public func deregister(_ registration: IORegistration) {}

    public func schedule(at deadline: ZMTPInstant, _ action: @escaping () -> Void) -> IOTimer {
        nextToken += 1
        let token = nextToken
        let now = IOClock.now()
        let delay = deadline > now ? Int64(deadline.nanoseconds - now.nanoseconds) : 0
        timers[token] = eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(delay)) { [weak self] in
            self?.timers[token] = nil
            action()
        }
        return IOTimer(token: token)
    }

    public func cancel(_ timer: IOTimer) {
        timers.removeValue(forKey: timer.token)?.cancel()
    }

    public var isOnDriverThread: Bool { eventLoop.inEventLoop }
}
#endif
