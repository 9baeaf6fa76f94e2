import Synchronization

/// The memory one socket lets its peers fill with messages they have started and not finished,
/// shared by all of the socket's connections (on every I/O thread).
///
/// A peer's frame header is only its word: without a budget, fifty connections each declaring
/// a frame of gigabytes and streaming it slowly make the socket hold gigabytes. Each engine
/// holds up to ``StreamEngine/unbudgetedBytes`` of an unfinished message on its own (so that
/// ordinary traffic never touches the budget and one peer cannot starve another of it); beyond
/// that it reserves from here, before allocating, the whole size it will need. A message that
/// needs more than ``limit`` can never be received, and its connection ends with
/// ``/ZMTP/ZMTPError/Code/messageTooLarge``. When others hold the budget, the engine stops reading
/// that peer and tries again shortly: back-pressure, never loss.
///
/// Finished messages leave the budget when they are passed to the socket's pipe; from there the
/// receive high-water mark bounds them, as in libzmq.
public final class ReceiveBudget: Sendable {
    private let reserved = Atomic<Int>(0)
    private let limitStorage: Atomic<Int>

    /// - Parameter limit: the most octets the socket's connections may reserve together.
    public init(limit: Int) {
        limitStorage = Atomic(max(0, limit))
    }

    /// The most octets all connections may reserve together. Lowering it takes nothing back
    /// from reservations already made.
    public var limit: Int {
        get { limitStorage.load(ordering: .relaxed) }
        set { limitStorage.store(max(0, newValue), ordering: .relaxed) }
    }

    /// The octets reserved now.
    public var inUse: Int { reserved.load(ordering: .relaxed) }

    /// Reserves `count` octets if they fit under the limit; false, reserving nothing, if not.
    public func reserve(_ count: Int) -> Bool {
        guard count > 0 else { return true }
        let limit = self.limit
        var current = reserved.load(ordering: .relaxed)
        while true {
            guard current <= limit - count else { return false }
            let (exchanged, original) = reserved.compareExchange(expected: current, desired: current + count,
                                                                 ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// Gives back octets reserved earlier.
    public func release(_ count: Int) {
        guard count > 0 else { return }
        reserved.subtract(count, ordering: .relaxed)
    }
}
