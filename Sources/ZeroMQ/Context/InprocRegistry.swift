import Synchronization
import ZMTP
import ZeroMQTransport

/// The inproc endpoints of a context (`zmq_inproc(7)`): sockets of one context joined by a
/// pipe directly, with no encoding and no copies. Bind and connect work in either order: a
/// connect to a name nobody has bound yet makes its pipe at once (so messages queue) and hands
/// the other end to the binder when it binds.
final class InprocRegistry: Sendable {
    /// What a connecting socket needs to know about a binder, and the reverse.
    struct Party: Sendable {
        let mailbox: SocketMailbox
        let socketType: SocketType
        let identity: [UInt8]
        let metadata: Metadata
        let sendHighWaterMark: Int
        let receiveHighWaterMark: Int

        func description(endpoint: String) -> PeerDescription {
            var properties = Metadata()
            properties.append(name: Metadata.Name.socketType, value: Array(socketType.name.utf8))
            if socketType.sendsIdentity { properties.append(name: Metadata.Name.identity, value: identity) }
            for property in metadata.properties { properties.append(name: property.name, value: property.value) }
            return PeerDescription(socketType: socketType, identity: socketType.sendsIdentity ? identity : [],
                                   properties: properties, endpoint: endpoint, session: nil)
        }
    }

    private struct Pending: @unchecked Sendable {
        let connecter: Party
        /// The binder's end, waiting for a binder.
        let end: PipeEnd
        /// The connecter's end, to be told who it reaches.
        let connecterEnd: PipeEnd
    }

    private struct State: @unchecked Sendable {
        var bound: [String: Party] = [:]
        var pending: [String: [Pending]] = [:]
    }

    private let state = Mutex(State())

    /// libzmq adds the two sides' HWMs on inproc; 0 on either side means no limit.
    static func combined(_ a: Int, _ b: Int) -> Int { a == 0 || b == 0 ? 0 : a + b }

    /// Registers `name` for `binder`, and attaches the connects that were waiting for it.
    func bind(_ name: String, _ binder: Party) throws(ZeroMQError) {
        let waiting = state.withLock { state -> [Pending]? in
            guard state.bound[name] == nil else { return nil }
            state.bound[name] = binder
            return state.pending.removeValue(forKey: name) ?? []
        }
        guard let waiting else { throw ZeroMQError(.addressInUse, "inproc://\(name) is already bound") }
        let endpoint = "inproc://" + name
        for connect in waiting {
            binder.mailbox.post(.attach(connect.end, connect.connecter.description(endpoint: endpoint)))
            connect.connecter.mailbox.post(.identified(connect.connecterEnd, binder.description(endpoint: endpoint)))
        }
    }

    func unbind(_ name: String, _ mailbox: SocketMailbox) -> Bool {
        state.withLock { state -> Bool in
            guard let party = state.bound[name], party.mailbox === mailbox else { return false }
            state.bound[name] = nil
            return true
        }
    }

    /// Connects to `name`: returns the connecter's pipe end and, when a binder exists, who it is.
    func connect(_ name: String, _ connecter: Party) -> (PipeEnd, PeerDescription?) {
        let endpoint = "inproc://" + name
        return state.withLock { state -> (PipeEnd, PeerDescription?) in
            if let binder = state.bound[name] {
                let (mine, theirs) = PipeEnd.makePair(
                    hwmAB: Self.combined(connecter.sendHighWaterMark, binder.receiveHighWaterMark),
                    hwmBA: Self.combined(binder.sendHighWaterMark, connecter.receiveHighWaterMark))
                binder.mailbox.post(.attach(theirs, connecter.description(endpoint: endpoint)))
                return (mine, binder.description(endpoint: endpoint))
            }
            let (mine, theirs) = PipeEnd.makePair(hwmAB: connecter.sendHighWaterMark, hwmBA: connecter.receiveHighWaterMark)
            state.pending[name, default: []].append(Pending(connecter: connecter, end: theirs, connecterEnd: mine))
            return (mine, nil)
        }
    }

    /// Connects to `name` only if a socket is bound there (libzmq's `zap_connect`: the ZAP
    /// handler must exist at the time of the request). The pipe has no high-water marks; the
    /// binder sees a peer described by `connecter`.
    func connectIfBound(_ name: String, as connecter: PeerDescription) -> PipeEnd? {
        state.withLock { state -> PipeEnd? in
            guard let binder = state.bound[name] else { return nil }
            let (mine, theirs) = PipeEnd.makePair(hwmAB: 0, hwmBA: 0)
            binder.mailbox.post(.attach(theirs, connecter))
            return mine
        }
    }

    /// Forgets the bindings of a closing socket. Its pending connects stay: what it sent waits
    /// in their pipes for a binder, which reads it and then finds the pipe closed (libzmq's
    /// test_hwm "connect and close first").
    func remove(_ mailbox: SocketMailbox) {
        state.withLock { state in
            state.bound = state.bound.filter { $0.value.mailbox !== mailbox }
        }
    }
}
