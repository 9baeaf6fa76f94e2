import Testing
import ZeroMQ

@Suite("Smoke")
struct SmokeTests {
    @Test func pairOverInproc() throws {
        let context = try Context()
        let a = try context.socket(.pair)
        let b = try context.socket(.pair)
        try a.bind("inproc://smoke")
        try b.connect("inproc://smoke")
        try b.send("hello")
        #expect(try a.receiveString() == "hello")
        try a.send("back")
        #expect(try b.receiveString() == "back")
    }
}

@Suite("Smoke over the wire")
struct WireSmokeTests {
    @Test(arguments: ["tcp://127.0.0.1:*", "ipc://@swift-zeromq-smoke", "inproc://wire-smoke"])
    func pushPull(endpoint: String) throws {
        let context = try Context()
        let pull = try context.socket(.pull)
        pull.options.receiveTimeout = .seconds(10)
        try pull.bind(endpoint)
        let push = try context.socket(.push)
        push.options.linger = .zero
        try push.connect(pull.lastEndpoint)
        for i in 0..<100 { try push.send("m\(i)") }
        for i in 0..<100 { #expect(try pull.receiveString() == "m\(i)") }
        try push.send([Message(string: "a"), Message(string: ""), Message(string: "c")])
        let multipart = try pull.receiveMultipart()
        #expect(multipart.parts.map(\.bytes) == [Array("a".utf8), [], Array("c".utf8)])
    }
}
