#if canImport(Glibc)
import Glibc
#endif
import CPGM
import Synchronization
import ZMTP

/// One OpenPGM socket, set up exactly as libzmq's `pgm_socket_t::init` does (NOTES.md §4, traced
/// on libzmq 4.3.4): a sender (PUB, XPUB) or a receiver (SUB, XSUB), non-blocking, joined to its
/// group. Every failure libpgm reports comes back as a ``PGMError``, never an abort.
///
/// Made on the thread that binds or connects (its descriptors belong to that thread's network
/// namespace); used afterwards by one I/O thread only.
final class PGMSocket: @unchecked Sendable {
    enum Role: Sendable {
        case sender
        case receiver
    }

    /// What ``PGMSocket/receive(into:)`` found.
    enum Receive {
        /// APDUs, each with its source (TSI) and its sequence numbers.
        case data
        /// Nothing now; readable descriptors wake the caller.
        case wouldBlock
        /// Call again after this many milliseconds (libpgm's timers: NAKs, SPMs, repairs).
        case timer(milliseconds: Int)
        /// Rate-limited: call again after this many milliseconds.
        case rateLimited(milliseconds: Int)
        /// A source lost data for good (`PGM_IO_STATUS_RESET`); its TSI if known.
        case reset(source: UInt64?)
        /// One datagram was consumed and gave nothing (libpgm's EOF for an empty UDP datagram,
        /// which anyone who can reach the port may send): go on reading.
        case skipped
        /// libpgm failed.
        case failed(String)
    }

    /// What ``PGMSocket/send(_:)`` did.
    enum Send {
        case sent
        /// Over RATE: retry the same APDU after this many milliseconds.
        case rateLimited(milliseconds: Int)
        /// The kernel's buffer is full: retry when the send descriptor is writable.
        case wouldBlock
        case failed(String)
    }

    /// libzmq's receive batch: ceil(8192 / MSS) vectors (6 at MSS 1428).
    static let receiveBatchBytes = 8192

    let role: Role
    /// The largest APDU (`PGM_MSS`).
    let maxTSDU: Int
    /// Descriptors to wait on for reading, and the sender's descriptor to wait on for writing.
    let readDescriptors: [Int32]
    let sendDescriptor: Int32?
    private var handle: OpaquePointer?
    private let vectors: UnsafeMutablePointer<pgm_msgv_t>
    private let vectorCount: Int
    /// An APDU that came in several fragments, joined.
    private var joined: [UInt8] = []

    /// Opens `endpoint` for `role` with `options`.
    /// - Throws: ``PGMError`` with ``PGMError/Code/networkUnusable`` when libpgm refuses the
    ///   network (no such interface, no route, a unicast group), ``PGMError/Code/socketFailed``
    ///   when it cannot make the socket (raw `pgm://` without CAP_NET_RAW), and
    ///   ``PGMError/Code/invalidOption`` for an option libpgm refuses.
    init(endpoint: PGMEndpoint, role: Role, options: PGMOptions, sendBuffer: Int?, receiveBuffer: Int?) throws(PGMError) {
        let made = try Self.make(endpoint: endpoint, role: role, options: options, sendBuffer: sendBuffer, receiveBuffer: receiveBuffer)
        self.role = role
        handle = made.handle
        maxTSDU = made.mss
        readDescriptors = made.reads
        sendDescriptor = made.send
        vectorCount = max(1, (Self.receiveBatchBytes + made.mss - 1) / made.mss)
        vectors = .allocate(capacity: vectorCount)
        vectors.initialize(repeating: pgm_msgv_t(), count: vectorCount)
    }

    deinit {
        close(sendFIN: false)
        vectors.deallocate()
    }

    private static func make(endpoint: PGMEndpoint, role: Role, options: PGMOptions, sendBuffer: Int?, receiveBuffer: Int?) throws(PGMError)
        -> (handle: OpaquePointer, mss: Int, reads: [Int32], send: Int32?)
    {
        try options.validate()
        initializeLibrary()
        var error: UnsafeMutablePointer<pgm_error_t>?
        var info: UnsafeMutablePointer<pgm_addrinfo_t>?
        let network = interfaceByAddress(endpoint)
        guard pgm_getaddrinfo(network, nil, &info, &error), let info else {
            throw failure(.networkUnusable, "\(endpoint.network)", error)
        }
        defer { pgm_freeaddrinfo(info) }
        guard info.pointee.ai_send_addrs_len >= 1, info.pointee.ai_recv_addrs_len >= 1 else {
            throw PGMError(.networkUnusable, blame: .apiMisuse, "\(endpoint.network): no send or receive group")
        }
        let family = info.pointee.ai_send_addrs[0].gsr_group.ss_family
        let udp = endpoint.scheme == .epgm
        var socket: OpaquePointer?
        guard pgm_socket(&socket, family, Int32(SOCK_SEQPACKET.rawValue), udp ? Int32(IPPROTO_UDP) : Int32(IPPROTO_PGM), &error),
              let socket else {
            throw failure(.socketFailed, udp ? "epgm socket" : "pgm socket (raw IP protocol 113 needs CAP_NET_RAW)", error)
        }
        do throws(PGMError) {
            try configure(socket, role: role, endpoint: endpoint, info: info, options: options,
                          sendBuffer: sendBuffer, receiveBuffer: receiveBuffer)
            let mss = Int(integerOption(socket, PGM_MSS) ?? 0)
            var reads: [Int32] = []
            let readable = role == .sender ? [PGM_RECV_SOCK, PGM_REPAIR_SOCK, PGM_PENDING_SOCK] : [PGM_RECV_SOCK, PGM_PENDING_SOCK]
            for option in readable {
                if let fd = integerOption(socket, option) { reads.append(fd) }
            }
            let send = role == .sender ? integerOption(socket, PGM_SEND_SOCK) : nil
            guard mss >= PGMEncoder.minTSDUSize, reads.count == readable.count, role == .receiver || send != nil else {
                throw PGMError(.socketFailed, blame: .transport, "libpgm gave no MSS or descriptors after pgm_connect")
            }
            return (socket, mss, reads, send)
        } catch {
            _ = pgm_close(socket, false)
            throw error
        }
    }

    // MARK: Set-up (libzmq's order)

    /// The endpoint's network with an interface name replaced by that interface's address.
    /// OpenPGM tries an interface name as a host name first; where the resolver asks DNS (a
    /// namespace entered in-process, a host without DNS), that lookup fails or stalls before
    /// libpgm gets to the interfaces. Names of interfaces this thread's network namespace has
    /// are resolved here, from the interfaces themselves; anything else goes to libpgm as given.
    private static func interfaceByAddress(_ endpoint: PGMEndpoint) -> String {
        guard let name = endpoint.interface, !name.isEmpty, !isAddress(name) else { return endpoint.network }
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return endpoint.network }
        defer { freeifaddrs(list) }
        var found: String?
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor, found == nil {
            defer { cursor = entry.pointee.ifa_next }
            guard String(cString: entry.pointee.ifa_name) == name, let address = entry.pointee.ifa_addr,
                  Int32(address.pointee.sa_family) == AF_INET else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { ipv4 in
                var bytes = ipv4.pointee.sin_addr
                _ = inet_ntop(AF_INET, &bytes, &text, socklen_t(text.count))
            }
            found = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        guard let found, let separator = endpoint.network.firstIndex(of: ";") else { return endpoint.network }
        return found + endpoint.network[separator...]
    }

    private static func isAddress(_ text: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    private static func configure(_ socket: OpaquePointer, role: Role, endpoint: PGMEndpoint, info: UnsafeMutablePointer<pgm_addrinfo_t>,
                                  options: PGMOptions, sendBuffer: Int?, receiveBuffer: Int?) throws(PGMError) {
        if endpoint.scheme == .epgm {
            try set(socket, PGM_UDP_ENCAP_UCAST_PORT, Int32(endpoint.port), "UDP encapsulation port")
            try set(socket, PGM_UDP_ENCAP_MCAST_PORT, Int32(endpoint.port), "UDP encapsulation port")
        }
        if let receiveBuffer { try setSocket(socket, SO_RCVBUF, receiveBuffer, "ZMQ_RCVBUF") }
        if let sendBuffer { try setSocket(socket, SO_SNDBUF, sendBuffer, "ZMQ_SNDBUF") }
        try set(socket, PGM_MTU, Int32(options.maxTPDU), "ZMQ_MULTICAST_MAXTPDU")
        let window = Int32(try options.windowSequences)
        switch role {
        case .receiver:
            try set(socket, PGM_RECV_ONLY, 1, "PGM_RECV_ONLY")
            try set(socket, PGM_RXW_SQNS, window, "the receive window (RATE × RECOVERY_IVL)")
            try set(socket, PGM_PEER_EXPIRY, 300_000_000, "PGM_PEER_EXPIRY")
            try set(socket, PGM_SPMR_EXPIRY, 25_000, "PGM_SPMR_EXPIRY")
            try set(socket, PGM_NAK_BO_IVL, 50_000, "PGM_NAK_BO_IVL")
            try set(socket, PGM_NAK_RPT_IVL, 200_000, "PGM_NAK_RPT_IVL")
            try set(socket, PGM_NAK_RDATA_IVL, 200_000, "PGM_NAK_RDATA_IVL")
            try set(socket, PGM_NAK_DATA_RETRIES, 50, "PGM_NAK_DATA_RETRIES")
            try set(socket, PGM_NAK_NCF_RETRIES, 50, "PGM_NAK_NCF_RETRIES")
        case .sender:
            try set(socket, PGM_SEND_ONLY, 1, "PGM_SEND_ONLY")
            try set(socket, PGM_ODATA_MAX_RTE, Int32(try options.rateBytesPerSecond), "ZMQ_RATE")
            try set(socket, PGM_TXW_SQNS, window, "the send window (RATE × RECOVERY_IVL)")
            try set(socket, PGM_AMBIENT_SPM, 30_000_000, "PGM_AMBIENT_SPM")
            var heartbeats: [Int32] = [100_000, 100_000, 100_000, 100_000, 1_300_000, 7_000_000, 16_000_000, 25_000_000, 30_000_000]
            let set = heartbeats.withUnsafeMutableBytes { bytes in
                pgm_setsockopt(socket, Int32(IPPROTO_PGM), Int32(PGM_HEARTBEAT_SPM), bytes.baseAddress, socklen_t(bytes.count))
            }
            guard set else { throw PGMError(.invalidOption, blame: .apiMisuse, "libpgm refused PGM_HEARTBEAT_SPM") }
        }
        // The source: port, a random GSI (libzmq's is the same in every process), port 0 = random sport.
        var address = pgm_sockaddr_t()
        address.sa_port = endpoint.port
        address.sa_addr.sport = 0
        var seed = [UInt8](repeating: 0, count: 8)
        var generator = SystemRandomNumberGenerator()
        for index in seed.indices { seed[index] = generator.next() }
        guard seed.withUnsafeBytes({ pgm_gsi_create_from_data(&address.sa_addr.gsi, $0.bindMemory(to: UInt8.self).baseAddress, 8) }) else {
            throw PGMError(.socketFailed, blame: .transport, "pgm_gsi_create_from_data failed")
        }
        var interface = pgm_interface_req_t()
        interface.ir_interface = info.pointee.ai_recv_addrs[0].gsr_interface
        interface.ir_scope_id = 0
        if Int32(info.pointee.ai_send_addrs[0].gsr_group.ss_family) == AF_INET6 {
            withUnsafePointer(to: info.pointee.ai_send_addrs[0].gsr_group) { group in
                group.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { interface.ir_scope_id = $0.pointee.sin6_scope_id }
            }
        }
        var error: UnsafeMutablePointer<pgm_error_t>?
        let interfaceSize = socklen_t(MemoryLayout<pgm_interface_req_t>.size)
        guard pgm_bind3(socket, &address, socklen_t(MemoryLayout<pgm_sockaddr_t>.size), &interface, interfaceSize,
                        &interface, interfaceSize, &error) else {
            throw failure(.networkUnusable, "bind to \(endpoint.network)", error)
        }
        let groupSize = socklen_t(MemoryLayout<group_req>.size)
        for index in 0..<Int(info.pointee.ai_recv_addrs_len) {
            guard pgm_setsockopt(socket, Int32(IPPROTO_PGM), Int32(PGM_JOIN_GROUP), info.pointee.ai_recv_addrs + index, groupSize) else {
                throw PGMError(.networkUnusable, blame: .apiMisuse, "cannot join the multicast group of \(endpoint.network)")
            }
        }
        guard pgm_setsockopt(socket, Int32(IPPROTO_PGM), Int32(PGM_SEND_GROUP), info.pointee.ai_send_addrs, groupSize) else {
            throw PGMError(.networkUnusable, blame: .apiMisuse, "cannot send to the multicast group of \(endpoint.network)")
        }
        // libzmq never loops multicast back to this host, whatever ZMQ_MULTICAST_LOOP says.
        try set(socket, PGM_MULTICAST_LOOP, 0, "PGM_MULTICAST_LOOP")
        try set(socket, PGM_MULTICAST_HOPS, Int32(options.hops), "ZMQ_MULTICAST_HOPS")
        if Int32(info.pointee.ai_send_addrs[0].gsr_group.ss_family) == AF_INET { _ = try? set(socket, PGM_TOS, 0xB8, "PGM_TOS") }
        try set(socket, PGM_NOBLOCK, 1, "PGM_NOBLOCK")
        guard pgm_connect(socket, &error) else {
            throw failure(.networkUnusable, "connect to \(endpoint.network)", error)
        }
    }

    private static func set(_ socket: OpaquePointer, _ option: some BinaryInteger, _ value: Int32, _ what: String) throws(PGMError) {
        var value = value
        guard pgm_setsockopt(socket, Int32(IPPROTO_PGM), Int32(option), &value, socklen_t(MemoryLayout<Int32>.size)) else {
            throw PGMError(.invalidOption, blame: .apiMisuse, "libpgm refused \(what) = \(value)")
        }
    }

    private static func setSocket(_ socket: OpaquePointer, _ option: Int32, _ value: Int, _ what: String) throws(PGMError) {
        var value = Int32(clamping: value)
        guard pgm_setsockopt(socket, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<Int32>.size)) else {
            throw PGMError(.invalidOption, blame: .apiMisuse, "libpgm refused \(what) = \(value)")
        }
    }

    private static func integerOption(_ socket: OpaquePointer, _ option: some BinaryInteger) -> Int32? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return pgm_getsockopt(socket, Int32(IPPROTO_PGM), Int32(option), &value, &length) ? value : nil
    }

    private static func failure(_ code: PGMError.Code, _ what: String, _ error: UnsafeMutablePointer<pgm_error_t>?) -> PGMError {
        let message = error?.pointee.message.map { String(cString: $0) } ?? "libpgm gave no reason"
        if let error { pgm_error_free(error) }
        return PGMError(code, blame: .apiMisuse, "\(what): \(message)")
    }

    // MARK: I/O (the driving I/O thread)

    /// Sends one APDU of at most ``maxTSDU`` bytes.
    func send(_ apdu: UnsafeRawBufferPointer) -> Send {
        guard let handle else { return .failed("the PGM socket is closed") }
        var written = 0
        switch Int(pgm_send(handle, apdu.baseAddress, apdu.count, &written)) {
        case PGM_IO_STATUS_NORMAL: return .sent
        case PGM_IO_STATUS_RATE_LIMITED: return .rateLimited(milliseconds: remaining(PGM_RATE_REMAIN))
        case PGM_IO_STATUS_WOULD_BLOCK, PGM_IO_STATUS_CONGESTION: return .wouldBlock
        case let status: return .failed("pgm_send returned status \(status)")
        }
    }

    /// Reads what libpgm has (and runs its protocol work: NAKs, repairs, SPMs, which happen only
    /// inside this call). Each whole APDU goes to `deliver` with its source (the TSI as 8 bytes),
    /// the sequence number of its first packet and its packet count.
    func receive(_ deliver: (_ source: UInt64, _ sequence: UInt32, _ packets: Int, _ apdu: UnsafeRawBufferPointer) -> Void) -> Receive {
        guard let handle else { return .failed("the PGM socket is closed") }
        var bytes = 0
        var error: UnsafeMutablePointer<pgm_error_t>?
        let status = Int(pgm_recvmsgv(handle, vectors, vectorCount, Int32(MSG_ERRQUEUE), &bytes, &error))
        defer { if let error { pgm_error_free(error) } }
        switch status {
        case PGM_IO_STATUS_NORMAL:
            var left = bytes
            var index = 0
            while left > 0, index < vectorCount {
                left -= deliverVector(vectors + index, deliver)
                index += 1
            }
            return .data
        case PGM_IO_STATUS_WOULD_BLOCK: return .wouldBlock
        case PGM_IO_STATUS_EOF, PGM_IO_STATUS_FIN: return .skipped
        case PGM_IO_STATUS_TIMER_PENDING: return .timer(milliseconds: remaining(PGM_TIME_REMAIN))
        case PGM_IO_STATUS_RATE_LIMITED: return .rateLimited(milliseconds: remaining(PGM_RATE_REMAIN))
        case PGM_IO_STATUS_RESET:
            // With MSG_ERRQUEUE the first vector holds an error buffer naming the source.
            var source: UInt64?
            if vectors.pointee.msgv_len >= 1, let skb = vectors.pointee.msgv_skb.0 {
                source = Self.key(skb.pointee.tsi)
                pgm_free_skb(skb)
            }
            return .reset(source: source)
        default:
            return .failed(error?.pointee.message.map { String(cString: $0) } ?? "pgm_recvmsgv returned status \(status)")
        }
    }

    /// One vector: an APDU in one or more packets. Returns its bytes.
    private func deliverVector(_ vector: UnsafeMutablePointer<pgm_msgv_t>,
                               _ deliver: (UInt64, UInt32, Int, UnsafeRawBufferPointer) -> Void) -> Int {
        let count = Int(min(vector.pointee.msgv_len, UInt32(PGM_MAX_FRAGMENTS)))
        guard count > 0 else { return 0 }
        return withUnsafeMutablePointer(to: &vector.pointee.msgv_skb) { tuple in
            tuple.withMemoryRebound(to: UnsafeMutablePointer<pgm_sk_buff_t>?.self, capacity: count) { skbs in
                guard let first = skbs[0] else { return 0 }
                let source = Self.key(first.pointee.tsi)
                let sequence = first.pointee.sequence
                if count == 1 {
                    let length = Int(first.pointee.len)
                    deliver(source, sequence, 1, UnsafeRawBufferPointer(start: first.pointee.data, count: length))
                    return length
                }
                joined.removeAll(keepingCapacity: true)
                for index in 0..<count {
                    guard let skb = skbs[index], let data = skb.pointee.data else { continue }
                    joined.append(contentsOf: UnsafeRawBufferPointer(start: data, count: Int(skb.pointee.len)))
                }
                joined.withUnsafeBytes { deliver(source, sequence, count, $0) }
                return joined.count
            }
        }
    }

    /// A source's TSI (GSI and source port) as one number.
    private static func key(_ tsi: pgm_tsi_t) -> UInt64 {
        withUnsafeBytes(of: tsi) { raw in
            var value: UInt64 = 0
            for byte in raw.prefix(8) { value = value << 8 | UInt64(byte) }
            return value
        }
    }

    /// `PGM_RATE_REMAIN` / `PGM_TIME_REMAIN` in whole milliseconds, rounded up, at least 1: a
    /// wait never spins (libzmq truncates to 0 and polls again at once). The price: up to a
    /// millisecond of the rate unused per wait.
    private func remaining(_ option: some BinaryInteger) -> Int {
        guard let handle else { return 1 }
        var time = timeval()
        var length = socklen_t(MemoryLayout<timeval>.size)
        guard pgm_getsockopt(handle, Int32(IPPROTO_PGM), Int32(option), &time, &length) else { return 1 }
        return max(1, Int(time.tv_sec) * 1000 + (Int(time.tv_usec) + 999) / 1000)
    }

    /// Closes the socket; `sendFIN` announces the end to receivers (libzmq: `pgm_close(sock, TRUE)`).
    func close(sendFIN: Bool) {
        guard let handle else { return }
        self.handle = nil
        _ = pgm_close(handle, sendFIN)
    }

    // MARK: The library, once per process

    private static let initialized: Bool = {
        var error: UnsafeMutablePointer<pgm_error_t>?
        // libpgm logs to stdout by default, which would mix with an application's output: its
        // errors go to stderr, its warnings too when ZEROMQ_PGM_LOG is set (they include
        // harmless notes such as "Interface lo reports as a loopback device").
        if getenv("ZEROMQ_PGM_LOG") != nil {
            pgm_log_set_handler({ level, message, _ in
                guard Int(level) >= Int(PGM_LOG_LEVEL_WARNING), let message else { return }
                let line = "libpgm: \(String(cString: message))\n"
                _ = line.withCString { write(2, $0, strlen($0)) }
            }, nil)
        } else {
            pgm_log_set_handler({ level, message, _ in
                guard Int(level) >= Int(PGM_LOG_LEVEL_ERROR), let message else { return }
                let line = "libpgm: \(String(cString: message))\n"
                _ = line.withCString { write(2, $0, strlen($0)) }
            }, nil)
        }
        let ok = pgm_init(&error)
        if let error { pgm_error_free(error) }
        return ok
    }()

    static func initializeLibrary() {
        _ = initialized
    }
}
