import Testing
@_spi(Testing) @testable import ZMTP

@Suite("Embedding the core: the system's randomness and the reserved peer properties")
struct EmbeddingDefaultsTests {
    @Test("SystemRandom fills buffers of any length, and two draws differ")
    func systemRandomFills() {
        let random = SystemRandom()
        for count in [0, 1, 7, 8, 9, 33] {
            #expect(random.bytes(count).count == count)
        }
        // 2^-256 of a chance to fail, were the source working.
        #expect(random.bytes(32) != random.bytes(32))
        #expect(random.bytes(64).contains { $0 != 0 })
    }

    @Test("NULL and PLAIN handshakes complete with SystemRandom, named or by default: no hand-made source")
    func handshakesWithSystemRandom() {
        let cases: [(Security, Security)] = [
            (.null(zapDomain: nil), .null(zapDomain: nil)),
            (.plainClient(username: Array("admin".utf8), password: Array("secret".utf8)), .plainServer(zapDomain: "global")),
        ]
        for (client, server) in cases {
            var pair = ConnectionPair(client: Connection.Configuration(socketType: .dealer, security: client),
                                      server: Connection.Configuration(socketType: .router, security: server))
            // The client names it; the server takes the default, which is the same source.
            pair.client = Connection(configuration: Connection.Configuration(socketType: .dealer, security: client),
                                     random: SystemRandom(), now: .zero)
            pair.server = Connection(configuration: Connection.Configuration(socketType: .router, security: server), now: .zero)
            pair.drive()
            #expect(pair.clientError == nil && pair.serverError == nil)
            #expect(pair.serverPeer?.socketType == .dealer)
            #expect(pair.clientPeer?.socketType == .router)
        }
    }

    @Test("A peer cannot name its own User-Id or Peer-Address: the receiving side's values win, in any case")
    func reservedPropertiesAreNotBelieved() throws {
        var client = Connection.Configuration(socketType: .dealer,
                                              security: .plainClient(username: Array("admin".utf8), password: Array("secret".utf8)))
        client.properties = ["user-id": "root", "PEER-ADDRESS": "10.9.9.9:1", "X-Color": "blue"]
        var pair = ConnectionPair(client: client, server: Connection.Configuration(socketType: .router, security: .plainServer(zapDomain: "global")))
        pair.authenticator = { _ in .accept(userID: "alice", metadata: ["X-Role": "reader"]) }
        pair.drive()
        let peer = try #require(pair.serverPeer)
        // The core reports what the peer sent, as it sent it...
        #expect(peer.metadata.string("User-Id") == "root")
        // ...and the properties messages carry hold only what this side may vouch for.
        let properties = peer.messageProperties(peerAddress: "127.0.0.1:40000")
        #expect(properties.string("User-Id") == "alice")
        #expect(properties.string("Peer-Address") == "127.0.0.1:40000")
        #expect(properties.string("X-Role") == "reader")
        #expect(properties.string("X-Color") == "blue")
        #expect(properties.string("Socket-Type") == "DEALER")
        #expect(properties.properties.filter { Metadata.isReserved($0.name) }.count == 2)

        // With no authenticator's answer and no address, the reserved names are simply absent.
        let bare = peer.withoutAuthentication.messageProperties(peerAddress: "")
        #expect(bare["User-Id"] == nil && bare["Peer-Address"] == nil)
        #expect(bare.string("X-Color") == "blue")
    }
}

private extension PeerInfo {
    var withoutAuthentication: PeerInfo {
        var copy = self
        copy.authentication = nil
        return copy
    }
}
