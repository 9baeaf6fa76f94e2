extension Socket {
    /// Closes the socket with `linger` in place of ``SocketOptions/linger`` (pyzmq's
    /// `close(linger=)`): pending outbound messages get that long to go out, in the background.
    public func close(linger: Duration?) {
        guard !isClosed else { return }
        options.linger = linger
        close()
    }
}
