import ZMTP
import ZeroMQTransport

/// An endpoint served by a ``MessageTransport``: its link and the I/O thread that drives it.
struct MessageLinkRecord {
    let endpoint: String
    let link: any MessageTransportLink
    let reactor: any IODriver
}

extension Socket {
    /// Opens `endpoint` with a message transport and attaches its pipe as one peer (bind and
    /// connect alike).
    func open(_ transport: any MessageTransport, address: String, endpoint: String) throws(ZeroMQError) {
        // libzmq turns a pgm bind into a connect, and PUB/SUB connect to an endpoint once: a
        // second bind or connect would open a second sender and duplicate every message.
        guard !messageLinks.contains(where: { $0.endpoint == endpoint }) else { return }
        let link: any MessageTransportLink
        do throws(MessageTransportError) {
            link = try transport.open(address, socketType: type, options: options.messageTransport)
        } catch {
            throw ZeroMQError(error)
        }
        let reactor = context.chooseDriver()
        let send = options.conflate ? 0 : options.sendHighWaterMark
        let receive = options.conflate ? 0 : options.receiveHighWaterMark
        let (socketEnd, linkEnd) = PipeEnd.makePair(hwmAB: send, hwmBA: receive)
        let peer = PeerDescription(socketType: nil, identity: [], properties: Metadata(), endpoint: endpoint, session: nil)
        attach(socketEnd, peer: peer, endpoint: endpoint, session: nil)
        if type == .pub || type == .xpub {
            // A message transport has no way upstream for subscriptions, so its link stands for
            // a peer subscribed to everything (libzmq's pgm_sender subscribes so; an XPUB
            // application sees that subscription). Written here, where subscriptions have a
            // form, while this thread still owns the link's end: the link moves messages only.
            linkEnd.write(Message([1]))
            linkEnd.flush()
        }
        context.core.sessionStarted()
        let events = eventLog
        let core = context.core
        let host = MessageTransportHost(endpoint: endpoint, report: { event in
            switch event {
            case .dataLost(let detail): events.record(.dataLost(endpoint: endpoint, detail: detail))
            case .failed(let error): events.record(.disconnected(endpoint: endpoint, reason: .transport(error)))
            }
        }, ended: { core.sessionEnded() })
        messageLinks.append(MessageLinkRecord(endpoint: endpoint, link: link, reactor: reactor))
        connectedEndpoints.insert(endpoint)
        lastEndpoint = endpoint
        let box = LinkStart(link: link, pipe: linkEnd, reactor: reactor, host: host)
        if !reactor.post({ box.link.start(pipe: box.pipe, reactor: box.reactor, host: box.host) }) {
            host.ended()
        }
    }

    /// Ends the links of `endpoint` (nil: all) within `linger`; whether there were any.
    @discardableResult
    func terminateLinks(endpoint: String?, linger: Duration?) -> Bool {
        let ending = messageLinks.filter { endpoint == nil || $0.endpoint == endpoint }
        messageLinks.removeAll { endpoint == nil || $0.endpoint == endpoint }
        for record in ending {
            let link = LinkBox(link: record.link)
            if !record.reactor.post({ link.link.terminate(linger: linger) }) {
                // The I/O thread is gone: nothing can run the link any more.
                record.link.terminate(linger: .zero)
            }
        }
        return !ending.isEmpty
    }
}

extension SocketOptions {
    /// What a message transport needs of these options.
    var messageTransport: MessageTransportOptions {
        var transport = MessageTransportOptions()
        transport.rate = rate
        transport.recoveryInterval = recoveryInterval
        transport.multicastHops = multicastHops
        transport.multicastMaxTPDU = multicastMaxTPDU
        transport.sendBufferSize = sendBufferSize
        transport.receiveBufferSize = receiveBufferSize
        transport.maxFrameSize = min(maxMessageSize ?? .max, receiveMemoryLimit)
        return transport
    }
}

extension ZeroMQError {
    /// Maps a message transport's failure to open to the libzmq error a user would see.
    init(_ error: MessageTransportError) {
        switch error.code {
        case .socketTypeNotServed: self.init(.incompatibleProtocol, error.detail)
        case .system: self.init(.system, error.detail, systemCode: error.systemCode)
        default: self.init(.invalidArgument, error.detail)
        }
    }
}

/// Carries a link and its start arguments into the reactor's task.
private struct LinkStart: @unchecked Sendable {
    let link: any MessageTransportLink
    let pipe: PipeEnd
    let reactor: any IODriver
    let host: MessageTransportHost
}

private struct LinkBox: @unchecked Sendable {
    let link: any MessageTransportLink
}
