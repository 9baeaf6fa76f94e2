import ZMTP

/// Timers of one reactor: a binary min-heap by deadline (ties in scheduling order), with lazy
/// cancellation. Single-threaded: used on the reactor's thread only.
struct TimerQueue {
    /// Identifies a scheduled timer, for ``cancel(_:)``.
    struct ID: Hashable, Sendable {
        let value: UInt64
    }

    private struct Entry {
        var deadline: ZMTPInstant
        var sequence: UInt64
        var id: ID

        func fires(before other: Entry) -> Bool {
            deadline < other.deadline || (deadline == other.deadline && sequence < other.sequence)
        }
    }

    private var heap: [Entry] = []
    private var actions: [ID: () -> Void] = [:]
    private var nextSequence: UInt64 = 0

    /// The number of live (not cancelled, not fired) timers.
    var count: Int { actions.count }

    /// Schedules `action` at `deadline`.
    mutating func schedule(at deadline: ZMTPInstant, _ action: @escaping () -> Void) -> ID {
        nextSequence += 1
        let id = ID(value: nextSequence)
        actions[id] = action
        heap.append(Entry(deadline: deadline, sequence: nextSequence, id: id))
        siftUp(heap.count - 1)
        return id
    }

    /// Cancels a timer; a no-op if it already fired or was cancelled.
    mutating func cancel(_ id: ID) {
        actions[id] = nil
    }

    /// The earliest live deadline.
    mutating func nextDeadline() -> ZMTPInstant? {
        dropCancelled()
        return heap.first?.deadline
    }

    /// Removes and returns the actions due at `now`, earliest first.
    mutating func popDue(now: ZMTPInstant) -> [() -> Void] {
        var due: [() -> Void] = []
        while true {
            dropCancelled()
            guard let top = heap.first, top.deadline <= now else { return due }
            removeTop()
            if let action = actions.removeValue(forKey: top.id) { due.append(action) }
        }
    }

    private mutating func dropCancelled() {
        while let top = heap.first, actions[top.id] == nil { removeTop() }
    }

    private mutating func removeTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].fires(before: heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < heap.count, heap[left].fires(before: heap[first]) { first = left }
            if right < heap.count, heap[right].fires(before: heap[first]) { first = right }
            if first == parent { return }
            heap.swapAt(parent, first)
            parent = first
        }
    }
}
