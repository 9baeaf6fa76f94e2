import ZMTP

/// The routing logic for a socket type.
func makePattern(_ type: SocketType, options: SocketOptions) -> any SocketPattern {
    switch type {
    case .pair: return PairPattern(options: options)
    case .push: return PushPattern(options: options)
    case .pull: return PullPattern(options: options)
    case .dealer: return DealerPattern(options: options)
    case .router: return RouterPattern(options: options)
    case .req: return RequestPattern(options: options)
    case .rep: return ReplyPattern(options: options)
    case .pub: return PublishPattern(options: options, extended: false)
    case .xpub: return PublishPattern(options: options, extended: true)
    case .sub: return SubscribePattern(options: options, extended: false)
    case .xsub: return SubscribePattern(options: options, extended: true)
    case .stream: return StreamPattern(options: options)
    case .server, .client, .radio, .dish, .gather, .scatter, .dgram, .peer, .channel:
        // Socket.init refuses these before asking.
        return PairPattern(options: options)
    }
}
