#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// AddressSanitizer's manual poisoning, looked up at run time: the fuzzers link ASan, the main
/// package (which builds FuzzSupport for the vector runner) does not, and then reads are simply
/// not fenced.
enum ASanPoisoning {
    typealias Function = @convention(c) (UnsafeRawPointer?, Int) -> Void

    static let functions: (poison: Function, unpoison: Function)? = {
        guard let handle = dlopen(nil, RTLD_NOW),
              let poison = dlsym(handle, "__asan_poison_memory_region"),
              let unpoison = dlsym(handle, "__asan_unpoison_memory_region") else { return nil }
        return (unsafeBitCast(poison, to: Function.self), unsafeBitCast(unpoison, to: Function.self))
    }()

    /// Whether reads are fenced (the process runs under ASan).
    static var isActive: Bool { functions != nil }
}

/// Hands a parser each read in memory it cannot read past, without a heap block per read (with
/// ASan, a block per read made allocation most of a decoder run's cost).
///
/// One block, as large as the largest read and 8-byte aligned, is reused: a read of n bytes is
/// copied to its start and exactly those n bytes are unpoisoned (ASan tracks addressability to
/// the byte at the end of a range), so a read past them, before them (the block's own left
/// redzone) or into an earlier read's bytes after the call returned (the block is poisoned again
/// between reads) is reported just as with a fresh, exactly sized block per read.
public struct ReadBuffer: ~Copyable {
    private let block: UnsafeMutableRawBufferPointer

    /// A buffer for reads of at most `capacity` bytes.
    public init(capacity: Int) {
        let rounded = max(8, (capacity + 7) & ~7)
        block = UnsafeMutableRawBufferPointer.allocate(byteCount: rounded, alignment: 8)
        ASanPoisoning.functions?.poison(UnsafeRawPointer(block.baseAddress), block.count)
    }

    deinit {
        ASanPoisoning.functions?.unpoison(UnsafeRawPointer(block.baseAddress), block.count)
        block.deallocate()
    }

    /// Calls `body` with a copy of `bytes` that only it may read.
    public func withRead<R>(_ bytes: ArraySlice<UInt8>, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        require(bytes.count <= block.count, "ReadBuffer of \(block.count) bytes given a read of \(bytes.count)")
        let read = UnsafeMutableRawBufferPointer(rebasing: block[0..<bytes.count])
        ASanPoisoning.functions?.unpoison(UnsafeRawPointer(read.baseAddress), read.count)
        defer { ASanPoisoning.functions?.poison(UnsafeRawPointer(block.baseAddress), block.count) }
        if !bytes.isEmpty {
            bytes.withUnsafeBytes { read.copyMemory(from: $0) }
        }
        return body(UnsafeRawBufferPointer(read))
    }
}
