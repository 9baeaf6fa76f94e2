/// A value on the heap that its owner reaches through a pointer: for the hot, single-threaded
/// state of a class on the message path.
///
/// Every access to a `var` stored in a class costs a dynamic exclusivity check when the
/// compiler cannot prove it safe (`swift_beginAccess`, about 75 instructions here; eight of them
/// per message made up 16% of the receive path). State reached through this box is not a
/// stored property, so it is not checked. The price is the owner's promise that one thread at a
/// time uses the value and that no two accesses overlap, which the single-owner design of pipes,
/// engines and sockets already gives.
///
/// The storage is aligned and padded to 128 bytes so that the states of a reader and a writer
/// never share a cache line.
///
/// Public although applications have no use for it: declared `package`, its accessors were
/// called rather than inlined in a program built as another package (as every application is),
/// at 100 to 200 instructions per message (callgrind, Benchmarks/).
public final class Unchecked<Value>: @unchecked Sendable {
    @usableFromInline
    let storage: UnsafeMutablePointer<Value>

    /// Moves `value` into new storage that lives as long as the box.
    public init(_ value: Value) {
        let size = (MemoryLayout<Value>.stride + 127) / 128 * 128
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(size, 128), alignment: 128)
        storage = raw.bindMemory(to: Value.self, capacity: 1)
        storage.initialize(to: value)
    }

    deinit {
        storage.deinitialize(count: 1)
        UnsafeMutableRawPointer(storage).deallocate()
    }

    /// Where the value lives, for an owner's addressors (`unsafeAddress`/`unsafeMutableAddress`),
    /// which keep its call sites unchanged.
    @inlinable @inline(__always)
    public var pointer: UnsafeMutablePointer<Value> { storage }

    /// The value, read and written in place.
    @inlinable @inline(__always)
    public var value: Value {
        unsafeAddress { UnsafePointer(storage) }
        unsafeMutableAddress { storage }
    }
}
