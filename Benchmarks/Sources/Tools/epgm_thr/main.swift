#if canImport(Glibc)
import Glibc
#endif
import ZeroMQ
import ZeroMQPGM

// Multicast throughput over epgm:// (C/epgm_thr.c is its libzmq twin, same lines):
//   epgm_thr sub <endpoint> <size> <count> <rate kbit/s>   counts what arrives, prints the figures
//   epgm_thr pub <endpoint> <size> <count> <rate kbit/s>   warms up, sends <count> messages, ends
// PGM has no handshake: the publisher sends 1-byte "W" messages for a second so the subscriber has
// joined before the measured messages, and 1-byte "E" messages after them. Loss is reported
// (received < count), never hidden; throughput counts what was received, from the first to the last.

func fail(_ message: String) -> Never {
    let line = "epgm_thr: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(1)
}

let arguments = CommandLine.arguments
guard arguments.count == 6, let size = Int(arguments[3]), let count = Int(arguments[4]), let rate = Int(arguments[5]), size > 1 else {
    fail("usage: epgm_thr sub|pub <endpoint> <size> <count> <rate kbit/s>")
}
let role = arguments[1], endpoint = arguments[2]

do throws(ZeroMQError) {
    let context = try Context()
    context.register(PGMTransport.epgm)
    context.register(PGMTransport.pgm)
    if role == "sub" {
        let socket = try context.socket(.sub)
        socket.options.rate = rate
        socket.options.recoveryInterval = .seconds(1)
        socket.options.receiveHighWaterMark = 0
        socket.options.linger = .zero
        try socket.subscribe("")
        try socket.connect(endpoint)
        _ = "ready\n".withCString { write(1, $0, strlen($0)) }
        var received = 0
        var start = ContinuousClock.now, last = start
        socket.options.receiveTimeout = .seconds(30)
        while received < count {
            let message: Message
            do throws(ZeroMQError) {
                message = try socket.receive()
            } catch where error.code == .timedOut {
                break
            }
            if message.count == size {
                if received == 0 { start = ContinuousClock.now }
                received += 1
                last = ContinuousClock.now
                socket.options.receiveTimeout = .seconds(2)
            } else if message.count == 1, message.bytes[0] == UInt8(ascii: "E"), received > 0 {
                break
            }
        }
        let elapsed = last - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rateMessages = seconds > 0 ? Double(received) / seconds : 0
        let megabits = (rateMessages * Double(size) * 8 / 1e3).rounded() / 1e3
        let report = "message size: \(size) [B]\nmessage count: \(count)\nreceived: \(received)\n"
            + "mean throughput: \(Int(rateMessages)) [msg/s]\nmean throughput: \(megabits) [Mb/s]\n"
        _ = report.withCString { write(1, $0, strlen($0)) }
        socket.close()
    } else {
        let socket = try context.socket(.pub)
        socket.options.rate = rate
        socket.options.recoveryInterval = .seconds(1)
        socket.options.sendHighWaterMark = 0
        socket.options.linger = .seconds(10)
        try socket.connect(endpoint)
        for _ in 0..<100 {
            try socket.send("W")
            usleep(10_000)
        }
        let body = Message([UInt8](repeating: 0x42, count: size))
        for _ in 0..<count { try socket.send(body) }
        for _ in 0..<20 {
            try socket.send("E")
            usleep(10_000)
        }
        socket.close()
    }
    context.terminate()
} catch {
    fail("\(error)")
}
