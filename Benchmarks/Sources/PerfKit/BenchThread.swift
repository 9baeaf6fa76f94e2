import Foundation
import Synchronization

/// A thread that runs a throwing body and can be joined for its error (sockets are made on the
/// thread that uses them, as with libzmq).
final class BenchThread: Sendable {
    private let outcome = Mutex<Result<Void, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () throws -> Void) {
        let thread = Thread { [self] in
            let result = Result { try body() }
            outcome.withLock { $0 = result }
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    func join() throws {
        done.wait()
        try outcome.withLock { $0 }?.get()
    }
}
