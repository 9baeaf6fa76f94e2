import Testing
import ZMTP

extension LibzmqInterop {
    /// NULL mechanism (RFC 23) with libzmq's DEALER and ROUTER.
    @Suite("NULL") struct Null {
        /// A multipart message with an empty part and a LONG (> 255 bytes) part.
        static let request: [[UInt8]] = [utf8("hello"), [], utf8("world"), [UInt8](repeating: 0xA5, count: 300)]
        static let reply: [[UInt8]] = [utf8("reply"), [UInt8](repeating: 0x5A, count: 1000), utf8("end")]

        @Test("a Swift DEALER and a libzmq ROUTER exchange multipart messages and metadata", arguments: Direction.allCases)
        func dealerTalksToLibzmqRouter(_ direction: Direction) throws {
            var configuration = Connection.Configuration(socketType: .dealer)
            configuration.identity = utf8("swift-dealer")
            configuration.properties = ["X-Origin": "swift"]
            let (peer, driver) = try startSession(direction, peer: ["--type", "ROUTER", "--monitor"], configuration: configuration)
            defer { peer.stop() }

            driver.send(Self.request)
            try #require(driver.run(until: { _ in peer.received.count >= 1 }, "libzmq's ROUTER to receive the request"))
            // The ROUTER prefixes the routing id, which is the Identity the core sent in READY.
            #expect(peer.received == [[utf8("swift-dealer")] + Self.request])
            #expect(peer.metadata["Socket-Type"] == utf8("DEALER"))
            #expect(peer.metadata["Identity"] == utf8("swift-dealer"))
            #expect(peer.metadata["Peer-Address"] == utf8("127.0.0.1"))
            #expect(peer.metadata["X-Origin"] == utf8("swift"), "an application property (ZMQ_METADATA) from the core")

            let info = try #require(driver.peerInfo)
            #expect(info.version.major == 3 && info.version.minor == 1)
            #expect(info.mechanism == .null)
            #expect(info.socketType == .router)
            // libzmq's ROUTER sends an empty Identity property (libzmq.md §2.4).
            #expect(info.metadata[Metadata.Name.identity] == [])
            #expect(info.identity == [])

            peer.send([utf8("swift-dealer")] + Self.reply)
            try #require(driver.run(until: { $0.messages.count >= 1 }, "the ROUTER's reply"))
            #expect(driver.messages == [Self.reply])
            #expect(driver.failure == nil)
            #expect(!peer.has("SENDFAIL"))
        }

        @Test("a Swift ROUTER and a libzmq DEALER exchange multipart messages and metadata", arguments: Direction.allCases)
        func routerTalksToLibzmqDealer(_ direction: Direction) throws {
            let configuration = Connection.Configuration(socketType: .router)
            let (peer, driver) = try startSession(
                direction, peer: ["--type", "DEALER", "--identity", "py-dealer", "--metadata", "X-Origin:libzmq", "--monitor"],
                configuration: configuration)
            defer { peer.stop() }

            try #require(driver.run(until: { $0.peerInfo != nil }, "the handshake"))
            let info = try #require(driver.peerInfo)
            #expect(info.socketType == .dealer)
            #expect(info.identity == utf8("py-dealer"))
            #expect(info.metadata[Metadata.Name.socketType] == utf8("DEALER"))
            #expect(info.metadata.string("X-Origin") == "libzmq", "libzmq's ZMQ_METADATA property")

            peer.send(Self.request)
            driver.send(Self.reply)
            try #require(driver.run(
                until: { $0.messages.count >= 1 && peer.received.count >= 1 }, "a message each way"))
            // The core is not a ROUTER socket: it delivers the parts as they came, no routing id.
            #expect(driver.messages == [Self.request])
            #expect(peer.received == [Self.reply])
            #expect(peer.metadata["Socket-Type"] == utf8("ROUTER"))
            #expect(peer.metadata["Identity"] == [])
            #expect(driver.failure == nil)
        }
    }
}
