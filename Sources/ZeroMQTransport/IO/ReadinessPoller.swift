#if canImport(Glibc)
import Glibc
#endif
import CSysShim

/// What a file descriptor is ready for.
public struct IOEvents: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Bytes (or a connection, or end of stream) can be read.
    public static let readable = IOEvents(rawValue: 1)
    /// Bytes can be written.
    public static let writable = IOEvents(rawValue: 2)
}

/// A readiness event for one registered descriptor.
public struct PollEvent: Sendable {
    /// The token given at registration.
    public var token: UInt64
    /// What the descriptor is ready for.
    public var events: IOEvents
    /// The peer hung up or the descriptor is in error (reading will report which).
    public var hangup: Bool
}

/// The readiness backend under a ``Reactor``: epoll on Linux; a `poll(2)` or kqueue backend can
/// implement the same four calls. Level-triggered: a descriptor is reported while it stays ready.
public protocol ReadinessPoller: AnyObject {
    /// Starts watching `fd` for `events`, reporting it with `token`.
    func add(fd: Int32, token: UInt64, events: IOEvents) throws(TransportError)
    /// Changes what `fd` is watched for.
    func modify(fd: Int32, token: UInt64, events: IOEvents) throws(TransportError)
    /// Stops watching `fd` (before it is closed).
    func remove(fd: Int32)
    /// Waits up to `timeoutMilliseconds` (-1: until something is ready) and appends what is ready
    /// to `events` (which the caller empties and reuses, so waiting allocates nothing).
    func wait(timeoutMilliseconds: Int32, into events: inout [PollEvent]) throws(TransportError)
    /// A descriptor that is readable while ``wait(timeoutMilliseconds:into:)`` would report
    /// something (epoll's own descriptor), or nil: what lets callers wait on it with `poll(2)`
    /// beside descriptors of their own (``Reactor/Mode/caller``).
    var waitDescriptor: Int32? { get }
    /// Makes each signal of the eventfd `fd` end a wait, reported once per signal under `token`
    /// (edge-triggered, so a signal nobody drains yet does not end every later wait). False
    /// when the poller cannot.
    func addWakeup(fd: Int32, token: UInt64) -> Bool
}

extension ReadinessPoller {
    public var waitDescriptor: Int32? { nil }
    public func addWakeup(fd: Int32, token: UInt64) -> Bool { false }
}

/// ``ReadinessPoller`` over Linux epoll, level-triggered.
public final class EpollPoller: ReadinessPoller {
    private let epollFD: Int32
    private var buffer: [epoll_event]

    /// - Parameter capacity: how many ready descriptors one wait reports at most.
    public init(capacity: Int = 256) throws(TransportError) {
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw TransportError.system("epoll_create1", errno) }
        buffer = Array(repeating: epoll_event(), count: capacity)
    }

    deinit { close(epollFD) }

    public var waitDescriptor: Int32? { epollFD }

    private static func mask(_ events: IOEvents) -> UInt32 {
        var mask: UInt32 = 0
        if events.contains(.readable) { mask |= EPOLLIN.rawValue }
        if events.contains(.writable) { mask |= EPOLLOUT.rawValue }
        return mask
    }

    public func add(fd: Int32, token: UInt64, events: IOEvents) throws(TransportError) {
        var event = epoll_event(events: Self.mask(events), data: epoll_data_t(u64: token))
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else { throw TransportError.system("epoll_ctl(ADD)", errno) }
    }

    public func modify(fd: Int32, token: UInt64, events: IOEvents) throws(TransportError) {
        var event = epoll_event(events: Self.mask(events), data: epoll_data_t(u64: token))
        guard epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event) == 0 else { throw TransportError.system("epoll_ctl(MOD)", errno) }
    }

    public func addWakeup(fd: Int32, token: UInt64) -> Bool {
        var event = epoll_event(events: EPOLLIN.rawValue | EPOLLET.rawValue, data: epoll_data_t(u64: token))
        return epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0
    }

    public func remove(fd: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, &event)
    }

    public func wait(timeoutMilliseconds: Int32, into events: inout [PollEvent]) throws(TransportError) {
        let count = buffer.withUnsafeMutableBufferPointer { b in
            epoll_wait(epollFD, b.baseAddress, Int32(b.count), timeoutMilliseconds)
        }
        if count < 0 {
            if errno == EINTR { return }
            throw TransportError.system("epoll_wait", errno)
        }
        for i in 0..<Int(count) {
            let raw = buffer[i].events
            var ready: IOEvents = []
            if raw & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 { ready.insert(.readable) }
            if raw & EPOLLOUT.rawValue != 0 { ready.insert(.writable) }
            let hangup = raw & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
            events.append(PollEvent(token: buffer[i].data.u64, events: ready, hangup: hangup))
        }
    }
}
