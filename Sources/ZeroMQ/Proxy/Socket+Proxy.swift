import ZMTP

/// The socket operations the proxy loop is built from. They split what ``Socket/trySend(_:)``,
/// ``Socket/tryReceive()`` and ``Socket/events`` do in one step: ``takeCommands()`` alone lets in
/// what the I/O threads reported (and so consumes the readiness of ``Socket/fileDescriptor``);
/// the others act on the state it left and never touch the descriptor.
///
/// That split is what makes the proxy's sleep safe. Every decision between one
/// ``takeCommands()`` and the next `poll(2)` is made on state that no command has changed since,
/// and a command arriving after it leaves the descriptor readable, so the poll returns at once.
/// With the one-step calls, a later call on a socket could take in (and consume) the very command
/// an earlier "cannot move" decision about that socket was waiting for, and the poll would sleep
/// through it.
extension Socket {
    /// Takes in what the I/O threads and inproc peers reported.
    /// - Throws: ``ZeroMQError/Code/terminated`` once the context shuts down,
    ///   ``ZeroMQError/Code/closed`` for a closed socket.
    func takeCommands() throws(ZeroMQError) {
        try checkUsable()
    }

    /// Whether a part can be received now (ZMQ_POLLIN, on the last commands taken in).
    var canReceivePart: Bool { pattern.canReceive }

    /// Whether a new message can be started now (ZMQ_POLLOUT, on the last commands taken in).
    var canSendPart: Bool { pattern.canSend }

    /// The next part, or nil when none waits (as ``tryReceive()``, without taking commands in).
    func receivePart() throws(ZeroMQError) -> Message? {
        guard let message = try pattern.receiveMessage() else {
            reapClosedPeers()
            return nil
        }
        messaging.value.receivingMore = message.more
        return message
    }

    /// Sends one part if it can go now; false, having sent nothing, when it would block (as
    /// ``trySend(_:)``, without taking commands in). A message's later parts always go.
    func sendPart(_ part: consuming Message) throws(ZeroMQError) -> Bool {
        let more = part.more
        guard try pattern.send(part).wasSent else { return false }
        messaging.value.sendingMore = more
        return true
    }

    /// The parts of a whole message, or nil when none waits. The rest of a message is published
    /// with its first part, so it is all here once the first is.
    func receiveWholeMessage() throws(ZeroMQError) -> [Message]? {
        guard let first = try receivePart() else { return nil }
        var parts = [first]
        while parts[parts.count - 1].more, let next = try receivePart() { parts.append(next) }
        return parts
    }
}
