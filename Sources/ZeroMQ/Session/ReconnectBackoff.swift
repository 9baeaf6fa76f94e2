/// When a connect retries (ZMQ_RECONNECT_IVL, ZMQ_RECONNECT_IVL_MAX): every `interval` by
/// default; with a maximum, the wait doubles after each failed attempt up to it, and a completed
/// handshake resets it. No interval means no retries. (libzmq also adds random jitter when no
/// maximum is set; the waits here are deterministic.)
struct ReconnectBackoff: Sendable, Equatable {
    let interval: Duration?
    let maximum: Duration?
    private var current: Duration?

    init(interval: Duration?, maximum: Duration?) {
        self.interval = interval
        self.maximum = maximum
        current = interval
    }

    /// The wait before the next attempt (nil: do not retry), advancing the backoff.
    mutating func next() -> Duration? {
        guard let wait = current else { return nil }
        if let maximum, maximum > .zero {
            current = min(wait * 2, max(maximum, wait))
        }
        return wait
    }

    /// A connection succeeded: start again from the base interval.
    mutating func reset() { current = interval }
}
