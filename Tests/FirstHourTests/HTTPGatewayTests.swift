import Foundation
import Testing

/// Examples/HTTPGateway end to end: Hummingbird and ZeroMQ sockets on the same SwiftNIO event
/// loops (ZeroMQNIO), each HTTP request forwarded over DEALER/ROUTER to a pool of workers, one
/// of them the example's Swift worker and one a pyzmq ROUTER, and answered with the reply.
@Suite(.serialized)
struct HTTPGatewayTests {
    @Test func everyRequestIsAnsweredByAWorkerOfThePool() throws {
        let gateway = try Program.httpGateway("http-gateway", ["0", "tcp://127.0.0.1:*"])
        defer { gateway.stop() }
        let workers = String(try gateway.line(startingWith: "WORKERS ").dropFirst("WORKERS ".count))
        let port = String(try gateway.line(startingWith: "HTTP ").dropFirst("HTTP ".count))
        let url = "http://127.0.0.1:\(port)/work"

        // No worker yet: the gateway says so rather than hold the request.
        let early = try Program.pyzmq("client", [url, "1", "1"], script: "gateway.py")
        let (earlyStatus, earlyLog) = try early.finish()
        #expect(earlyStatus == 0 && earlyLog.contains("REPLY 0 503"), "\(earlyLog)")

        let swiftWorker = try Program.httpGateway("gateway-worker", [workers, "swift"])
        defer { swiftWorker.stop() }
        _ = try swiftWorker.line(startingWith: "WORKING")
        let pyzmqWorker = try Program.pyzmq("worker", [workers, "pyzmq"], script: "gateway.py")
        defer { pyzmqWorker.stop() }
        _ = try pyzmqWorker.line(startingWith: "WORKING")

        // Both workers are connected once each has answered; until then DEALER's round robin
        // may know only one of them.
        var served: Set<String> = []
        for _ in 0..<100 where served.count < 2 {
            let (_, log) = try Program.pyzmq("client", [url, "4", "4"], script: "gateway.py").finish()
            for line in log.split(separator: "\n") where line.hasPrefix("REPLY ") {
                let fields = line.split(separator: " ", maxSplits: 3)
                if fields.count == 4, fields[2] == "200" { served.insert(String(fields[3].prefix { $0 != ":" })) }
            }
        }
        #expect(served == ["swift", "pyzmq"])

        // 200 requests from 16 HTTP connections at once: each answered once, with its own body.
        let client = try Program.pyzmq("client", [url, "200", "16"], script: "gateway.py")
        let (status, log) = try client.finish()
        #expect(status == 0 && log.contains("DONE"))
        var answered: [Int: String] = [:]
        for line in log.split(separator: "\n") where line.hasPrefix("REPLY ") {
            let fields = line.split(separator: " ", maxSplits: 3)
            guard fields.count == 4, let index = Int(fields[1]) else { continue }
            #expect(fields[2] == "200", "\(line)")
            #expect(answered[index] == nil, "request \(index) answered twice")
            answered[index] = String(fields[3])
        }
        #expect(answered.count == 200)
        for (index, reply) in answered {
            #expect(reply == "swift: request \(index)" || reply == "pyzmq: request \(index)", "request \(index): \(reply)")
        }
        let bySwift = answered.values.filter { $0.hasPrefix("swift: ") }.count
        print("HTTP gateway: 200 requests, \(bySwift) answered by the Swift worker, \(200 - bySwift) by the pyzmq worker")
    }
}
