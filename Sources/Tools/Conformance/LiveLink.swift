#if canImport(Glibc)
import Glibc
#endif

/// What the runner holds for one live case: a listening TCP socket, the connection the target
/// makes to it, and the shim process with its three pipes. Single-threaded: `pump` polls every
/// descriptor and moves what arrived into `received` and `lines`.
struct LiveLink {
    /// The target's TCP connection to the runner.
    enum Peer {
        /// The shim has not connected yet.
        case awaiting
        case open(Int32)
        /// The target closed it (or reset it); the descriptor is closed.
        case closed
    }

    /// The shim process.
    enum Shim {
        case running(pid: pid_t)
        case exited(status: Int32)
        /// A running endpoint: the runner connected to it, no process of its own.
        case none
    }

    /// The most a target may send in one case before the runner stops reading (a vector's
    /// conversation is a few KiB; a runaway peer must not take the runner's memory).
    static let maxReceived = 1 << 22
    /// The most of the shim's standard error kept for reports.
    static let maxErrorTail = 2048

    let listener: Int32
    let port: UInt16
    var peer = Peer.awaiting
    var shim: Shim
    var shimInput: Int32
    let shimOutput: Int32
    let shimErrors: Int32
    var shimOutputOpen = true
    var shimErrorsOpen = true

    /// Every octet the target sent, and how many the steps have consumed.
    var received: [UInt8] = []
    var consumed = 0
    /// The shim's output lines not yet looked at, and every one ever seen (for the reports).
    var lines: [ShimLine] = []
    var handshakeSucceeded = false
    var deliveredSomething = false
    var failures: [ShimLine] = []
    var unsupported: String?
    /// A line that broke the shim contract.
    var contractError: String?
    private var partialLine: [UInt8] = []
    var errorTail: [UInt8] = []

    /// Listens on 127.0.0.1 (any port) and starts `command` + the set-up's arguments.
    static func start(command: [String], setup: TargetSetup) throws(FormatError) -> LiveLink {
        let (listener, port) = try listen()
        let arguments = command + setup.arguments(endpoint: "tcp://127.0.0.1:\(port)")
        do throws(FormatError) {
            let (pid, input, output, errors) = try spawn(arguments)
            return LiveLink(listener: listener, port: port, shim: .running(pid: pid), shimInput: input, shimOutput: output, shimErrors: errors)
        } catch {
            Glibc.close(listener)
            throw error
        }
    }

    /// Connects to a running endpoint (no shim: no lines, no events).
    static func connect(to endpoint: RunningEndpoint) throws(FormatError) -> LiveLink {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw FormatError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = endpoint.port.bigEndian
        withUnsafeMutableBytes(of: &address.sin_addr) { raw in
            for (index, octet) in endpoint.host.prefix(4).enumerated() { raw[index] = octet }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw FormatError("cannot connect to the running endpoint: \(message)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var link = LiveLink(listener: -1, port: endpoint.port, shim: .none, shimInput: -1, shimOutput: -1, shimErrors: -1)
        link.peer = .open(fd)
        link.shimOutputOpen = false
        link.shimErrorsOpen = false
        return link
    }

    private static func listen() throws(FormatError) -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw FormatError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && Glibc.listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw FormatError("listen on 127.0.0.1: \(message)")
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    private static func spawn(_ arguments: [String]) throws(FormatError) -> (pid_t, Int32, Int32, Int32) {
        var input: [Int32] = [0, 0]
        var output: [Int32] = [0, 0]
        var errors: [Int32] = [0, 0]
        guard closeOnExecPipe(&input) else { throw FormatError("pipe: \(String(cString: strerror(errno)))") }
        guard closeOnExecPipe(&output), closeOnExecPipe(&errors) else {
            for fd in input + output where fd > 0 { Glibc.close(fd) }
            throw FormatError("pipe: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
        Glibc.close(input[0])
        Glibc.close(output[1])
        Glibc.close(errors[1])
        guard status == 0 else {
            Glibc.close(input[1])
            Glibc.close(output[0])
            Glibc.close(errors[0])
            throw FormatError("cannot start \(arguments[0]): \(String(cString: strerror(status)))")
        }
        for fd in [output[0], errors[0]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return (pid, input[1], output[0], errors[0])
    }

    /// A pipe whose ends are not inherited (the child gets its own through dup2). Glibc's
    /// module has no pipe2; the runner starts shims from one thread per job, and a shim that
    /// inherits another job's pipe end only delays that job's end-of-input until it exits.
    private static func closeOnExecPipe(_ ends: inout [Int32]) -> Bool {
        guard pipe(&ends) == 0 else { return false }
        for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return true
    }

    // MARK: Moving bytes

    /// Waits up to `milliseconds` for any descriptor, then reads everything available.
    /// Returns whether anything arrived (or changed).
    @discardableResult
    mutating func pump(milliseconds: Int) -> Bool {
        var fds: [pollfd] = []
        switch peer {
        case .awaiting: fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
        case .open(let fd): fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
        case .closed: break
        }
        if shimOutputOpen { fds.append(pollfd(fd: shimOutput, events: Int16(POLLIN), revents: 0)) }
        if shimErrorsOpen { fds.append(pollfd(fd: shimErrors, events: Int16(POLLIN), revents: 0)) }
        guard !fds.isEmpty else {
            if milliseconds > 0 { usleep(useconds_t(min(milliseconds, 50) * 1000)) }
            return false
        }
        let ready = poll(&fds, nfds_t(fds.count), Int32(milliseconds))
        guard ready > 0 else { return false }
        var changed = false
        for entry in fds where entry.revents != 0 {
            if entry.fd == listener { changed = acceptPeer() || changed }
            else if entry.fd == shimOutput { changed = readShimOutput() || changed }
            else if entry.fd == shimErrors { changed = readShimErrors() || changed }
            else { changed = readPeer(entry.fd) || changed }
        }
        return changed
    }

    private mutating func acceptPeer() -> Bool {
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { return false }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        peer = .open(fd)
        return true
    }

    private mutating func readPeer(_ fd: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var changed = false
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                if received.count < Self.maxReceived { received += buffer[0..<count] }
                changed = true
                continue
            }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return changed }
            if count < 0 && errno == EINTR { continue }
            // End of stream or reset: the target closed the connection.
            Glibc.close(fd)
            peer = .closed
            return true
        }
    }

    private mutating func readShimOutput() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { read(shimOutput, $0.baseAddress, $0.count) }
        if count < 0 && (errno == EAGAIN || errno == EINTR) { return false }
        guard count > 0 else {
            shimOutputOpen = false
            return true
        }
        partialLine += buffer[0..<count]
        while let end = partialLine.firstIndex(of: 0x0A) {
            let text = String(decoding: partialLine[..<end], as: UTF8.self)
            partialLine.removeSubrange(...end)
            take(text)
        }
        if partialLine.count > ShimLine.maxLineLength {
            contractError = contractError ?? "the shim wrote a line longer than \(ShimLine.maxLineLength) octets"
            partialLine = []
        }
        return true
    }

    private mutating func take(_ text: String) {
        let line: ShimLine
        do throws(FormatError) {
            line = try ShimLine(parsing: text)
        } catch {
            contractError = contractError ?? "the shim broke its contract: \(error.message)"
            return
        }
        switch line {
        case .handshakeSucceeded: handshakeSucceeded = true
        case .received: deliveredSomething = true
        case .handshakeFailedAuthentication, .handshakeFailedProtocol, .handshakeFailedNoDetail: failures.append(line)
        case .unsupported(let reason): unsupported = unsupported ?? reason
        case .disconnected, .authenticationRequest, .sendFailed: break
        }
        lines.append(line)
    }

    private mutating func readShimErrors() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(shimErrors, $0.baseAddress, $0.count) }
        if count < 0 && (errno == EAGAIN || errno == EINTR) { return false }
        guard count > 0 else {
            shimErrorsOpen = false
            return true
        }
        errorTail += buffer[0..<count]
        if errorTail.count > Self.maxErrorTail { errorTail.removeFirst(errorTail.count - Self.maxErrorTail) }
        return true
    }

    /// Pumps until `done` holds or `milliseconds` pass; says whether it held.
    mutating func wait(milliseconds: Int, until done: (inout LiveLink) -> Bool) -> Bool {
        let deadline = Self.now() + milliseconds
        while true {
            if done(&self) { return true }
            let left = deadline - Self.now()
            if left <= 0 { return false }
            pump(milliseconds: min(left, 50))
        }
    }

    /// Pumps until nothing has arrived for `quiet` milliseconds (at most `limit` in all).
    mutating func settle(quiet: Int, limit: Int) {
        let end = Self.now() + limit
        var lastChange = Self.now()
        while Self.now() < end {
            if pump(milliseconds: min(quiet, 50)) { lastChange = Self.now() }
            if Self.now() - lastChange >= quiet { return }
        }
    }

    /// Writes the peer's octets; false when the target has closed the connection.
    mutating func send(_ bytes: [UInt8], timeout: Int) -> Bool {
        var offset = 0
        let deadline = Self.now() + timeout
        while offset < bytes.count {
            guard case .open(let fd) = peer else { return false }
            let count = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                offset += count
            } else if count < 0 && (errno == EAGAIN || errno == EINTR) {
                if Self.now() > deadline { return false }
                pump(milliseconds: 10)
            } else {
                Glibc.close(fd)
                peer = .closed
                return false
            }
        }
        return true
    }

    /// Writes one line to the shim's standard input.
    mutating func tell(_ line: String) -> Bool {
        guard shimInput >= 0 else { return false }
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { write(shimInput, $0.baseAddress, $0.count) }
            if count > 0 { offset += count } else if count < 0 && errno == EINTR { continue } else { return false }
        }
        return true
    }

    /// Ends the shim (end of its input, then SIGKILL after `grace` ms) and closes everything.
    mutating func close(grace: Int) {
        if shimInput >= 0 {
            Glibc.close(shimInput)
            shimInput = -1
        }
        if case .running(let pid) = shim {
            var status: Int32 = 0
            let deadline = Self.now() + grace
            var reaped = false
            while Self.now() < deadline {
                if waitpid(pid, &status, WNOHANG) == pid { reaped = true; break }
                pump(milliseconds: 10)
            }
            if !reaped {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
            }
            shim = .exited(status: status)
        }
        if case .open(let fd) = peer { Glibc.close(fd) }
        peer = .closed
        for fd in [listener, shimOutput, shimErrors] where fd >= 0 { Glibc.close(fd) }
    }

    /// Whether the shim process is gone (checked without blocking).
    mutating func shimHasExited() -> Bool {
        guard case .running(let pid) = shim else { return true }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            shim = .exited(status: status)
            return true
        }
        return false
    }

    var peerIsClosed: Bool {
        if case .closed = peer { return true }
        return false
    }

    var stderrSummary: String {
        let text = String(decoding: errorTail, as: UTF8.self).split(separator: "\n").suffix(3).joined(separator: " | ")
        return text.isEmpty ? "" : " (shim stderr: \(text))"
    }

    /// Milliseconds on the monotonic clock.
    static func now() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1000 + time.tv_nsec / 1_000_000
    }
}
