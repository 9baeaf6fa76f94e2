import Testing
@_spi(Testing) import ZeroMQ

extension LibzmqInterop {
    /// Contexts in ``Context/IOMode/caller`` mode (no I/O thread: the calling thread does the
    /// I/O) against real libzmq sockets, and the background-work rules of that mode: a restarted
    /// peer is reconnected to during a later call, and `close()` delivers what is queued.
    @Suite("Caller-driven I/O") struct CallerMode {
        @Test("Swift REQ ↔ libzmq REP, caller mode", arguments: Placement.all)
        func swiftReqToLibzmqRep(_ placement: Placement) throws {
            let link = try SocketLink(.req, peer: ["--type", "REP", "--echo"], placement, io: .caller)
            defer { link.close() }
            #expect(link.socket.context.io == .caller)
            for _ in 0..<3 {
                try link.socket.send(multipart: Sample.multipart)
                try link.expectSwiftReceives(Sample.multipart, from: "REP")
            }
            try link.socket.send(multipart: [utf8("big"), Sample.big])
            try link.expectSwiftReceives([utf8("big"), Sample.big], from: "REP")
        }

        @Test("libzmq REQ ↔ Swift REP, caller mode", arguments: Placement.all)
        func libzmqReqToSwiftRep(_ placement: Placement) throws {
            let link = try SocketLink(.rep, peer: ["--type", "REQ"], placement, io: .caller)
            defer { link.close() }
            for _ in 0..<3 {
                link.peerSend(Sample.multipart)
                try link.expectSwiftReceives(Sample.multipart, from: "REQ")
                try link.socket.send(multipart: Sample.reply)
                try link.expectPeerReceives(Sample.reply)
            }
        }

        /// The peer goes away and comes back on the same endpoint while the application is
        /// out of calls; the next request reconnects (with its backoff) inside the receive.
        @Test("A restarted peer is reconnected to during the next call")
        func reconnectAfterRestart() throws {
            let placement = Placement(wire: .tcp, swiftBinds: false)
            let link = try SocketLink(.req, peer: ["--type", "REP", "--echo"], placement, io: .caller)
            defer { link.close() }
            try link.socket.send(multipart: [utf8("one")])
            try link.expectSwiftReceives([utf8("one")], from: "REP")
            link.peer.stop()
            let second = try LibzmqPeer(["--type", "REP", "--echo", "--send-retry", "10", "--bind-endpoint", link.endpoint])
            defer { second.stop() }
            _ = try second.waitForLine("BOUND ")
            try link.socket.send(multipart: [utf8("two")])
            try link.expectSwiftReceives([utf8("two")], from: "REP")
        }

        /// Messages sent right after connect wait for the handshake, which no thread runs
        /// until a call: `close()` with LINGER runs it and delivers them before returning.
        @Test("close() with LINGER delivers what is queued")
        func closeFlushesWithinLinger() throws {
            let placement = Placement(wire: .tcp, swiftBinds: false)
            let link = try SocketLink(.push, peer: ["--type", "PULL"], placement,
                                      configure: { $0.linger = .seconds(10) }, io: .caller)
            defer { link.close() }
            for index in 0..<3 { try link.socket.send(multipart: [utf8("m\(index)")]) }
            link.socket.close()
            for index in 0..<3 { try link.expectPeerReceives([utf8("m\(index)")]) }
        }
    }
}
