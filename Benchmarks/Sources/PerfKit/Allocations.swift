import Foundation

/// Counts heap allocations per message, when the process runs with Benchmarks/C/malloc_count.c
/// preloaded (`LD_PRELOAD=malloc_count.so`): the shim counts every malloc, calloc, realloc and
/// aligned allocation of every thread, and exports the count as `zbench_allocations`.
///
/// The window is the steady state: from message `count / 10` to the last, so start-up (buffers,
/// connections, first-use caches) is left out. Without the shim, nothing is counted or printed.
struct AllocationWindow {
    private typealias Counter = @convention(c) () -> UInt64
    private static let counter: Counter? = {
        // RTLD_DEFAULT is the null handle on glibc.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "zbench_allocations") else { return nil }
        return unsafeBitCast(symbol, to: Counter.self)
    }()

    /// The index of the first message in the window.
    let first: Int
    private let total: Int
    private var startCount: UInt64 = 0
    private var endCount: UInt64?

    init(count: Int) {
        total = count
        first = max(1, count / 10)
    }

    /// Call before handling message `index` (0-based).
    @inline(__always)
    mutating func before(_ index: Int) {
        if index == first, let counter = AllocationWindow.counter { startCount = counter() }
    }

    /// Call right after the last message (before printing or closing anything).
    mutating func end() {
        if let counter = AllocationWindow.counter { endCount = counter() }
    }

    /// Prints `allocations per message: N` when counting.
    func finish() {
        guard let endCount, total > first else { return }
        let allocations = endCount - startCount
        print(String(format: "allocations per message: %.3f", Double(allocations) / Double(total - first)))
    }
}

/// The process's resident memory from /proc/self/status, in KiB.
enum ResidentMemory {
    static func kibibytes(_ field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            let digits = line.dropFirst(field.count + 1).filter(\.isNumber)
            return Int(digits) ?? 0
        }
        return 0
    }

    static var current: Int { kibibytes("VmRSS") }
    static var peak: Int { kibibytes("VmHWM") }
}
