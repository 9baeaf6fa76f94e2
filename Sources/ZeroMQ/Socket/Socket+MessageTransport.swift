import ZMTP
import ZeroMQTransport

/// An endpoint served by a ``MessageTransport``: its link and the I/O thread that drives it.
struct MessageLinkRecord {
    let endpoint: String
    let link: any MessageTransportLink
    let reactor: Reactor
}

extension Socket {
    /// Opens `endpoint` with a message transport and attaches its pipe as one peer (bind and
    /// connect alike).
    func open(_ transport: any MessageTransport, address: String, endpoint: String) throws(ZeroMQError) {
        // libzmq turns a pgm bind into a connect, and PUB/SUB connect to an endpoint once: a
        // second bind or connect would open a second sender and duplicate every message.
        guard !messageLinks.contains(where: { $0.endpoint == endpoint }) else { return }
        let link = try transport.open(address, socketType: type, options: options)
        let reactor = context.chooseReactor()
        let send = options.conflate ? 0 : options.sendHighWaterMark
        let receive = options.conflate ? 0 : options.receiveHighWaterMark
        let (socketEnd, linkEnd) = PipeEnd.makePair(hwmAB: send, hwmBA: receive)
        let peer = PeerDescription(socketType: nil, identity: [], properties: Metadata(), endpoint: endpoint, session: nil)
        attach(socketEnd, peer: peer, endpoint: endpoint, session: nil)
        context.core.sessionStarted()
        let host = MessageTransportHost(endpoint: endpoint, events: eventLog, context: context.core)
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

/// Carries a link and its start arguments into the reactor's task.
private struct LinkStart: @unchecked Sendable {
    let link: any MessageTransportLink
    let pipe: PipeEnd
    let reactor: Reactor
    let host: MessageTransportHost
}

private struct LinkBox: @unchecked Sendable {
    let link: any MessageTransportLink
}
