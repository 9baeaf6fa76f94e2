/// A `pgm://` or `epgm://` endpoint, parsed as libzmq parses it, minus libzmq's accidents
/// (`doc/zmq_pgm.txt`; `socket_base.cpp` `parse_uri`; `pgm_socket.cpp` `init_address`).
///
/// ```
/// endpoint  = scheme "://" network ":" port
/// scheme    = "pgm"                       ; PGM over raw IP, protocol 113 (needs CAP_NET_RAW)
///           / "epgm"                      ; PGM encapsulated in UDP, to and from port `port`
/// network   = [interface ";"] receive-groups [";" send-group]   ; handed to pgm_getaddrinfo
/// port      = 1*5DIGIT                    ; 1..65535; the PGM data-destination port
/// ```
/// The port is whatever follows the **last** `:`, so IPv6 groups work in brackets
/// (`epgm://eth0;[ff08::1]:5555`). An empty interface (`epgm://;239.192.1.1:5555`, or a lone
/// group, `epgm://239.192.1.1:5555`) lets libpgm choose (ifindex 0: the host name's interface
/// for sending, the route for the join; see NOTES.md §1). No name is resolved here: the
/// interface and groups are text for `pgm_getaddrinfo`, which still refuses unknown interfaces,
/// loopback interfaces by name and unicast groups.
///
/// Refused, with libzmq's own verdict for the same text:
///
/// | Input | libzmq 4.3.4 | Here |
/// |---|---|---|
/// | no `://`, or nothing after it | EINVAL | ``PGMError/Code/malformedEndpoint`` |
/// | a scheme other than exactly `pgm` / `epgm` (`EPGM://`) | EPROTONOSUPPORT | ``PGMError/Code/unsupportedScheme`` |
/// | no `:` after the scheme | EINVAL | ``PGMError/Code/missingPort`` |
/// | port empty, `0`, `abc`, `0x10`, `65536` | -1 with errno left stale (EAGAIN in pyzmq) | ``PGMError/Code/invalidPort`` |
/// | port `99999`, `-5`, `4294967297` | accepted: `atoi` wraps to 34463, 65531, 1 | ``PGMError/Code/invalidPort`` |
/// | port `12abc`, ` 77`, `+77` | accepted as 12, 77, 77 (`atoi`) | ``PGMError/Code/invalidPort`` |
/// | network of 255 bytes or more | EINVAL (256-byte buffer) | ``PGMError/Code/networkTooLong`` |
/// | two interfaces (`eth0,eth0;…`) | abort: libpgm fails with no error, `zmq_assert(pgm_error != NULL)` | ``PGMError/Code/invalidNetwork`` |
/// | more `;` entities than libpgm's three slots (`a;b;c;d`, `239.192.1.1;;239.192.1.3`) | abort inside libpgm (`network_parse`: "should not be reached") | ``PGMError/Code/invalidNetwork`` |
/// | two send groups (`…;239.192.1.1;a,b`) | EINVAL | ``PGMError/Code/invalidNetwork`` |
/// | a NUL byte | the C string ends there | ``PGMError/Code/invalidNetwork`` |
///
/// libpgm's slots: `interface;receive-groups;send-group`; when the first entity is a multicast
/// address, libpgm reads the text as `receive-groups;send-group` instead. One trailing empty
/// entity beyond the slots is tolerated (`eth0;;;` and `239.192.1.1;;` resolve); anything
/// more aborts the process in libpgm 5.3.128, so it is refused here.
public struct PGMEndpoint: Hashable, Sendable, CustomStringConvertible {
    /// The two PGM transports.
    public enum Scheme: String, Hashable, Sendable, CaseIterable {
        /// PGM directly over IP (protocol 113); needs CAP_NET_RAW.
        case pgm
        /// PGM inside UDP datagrams (libpgm's `PGM_UDP_ENCAP_*_PORT` = the endpoint port).
        case epgm
    }

    /// libzmq copies the network text into `char network[256]` and refuses 255 bytes or more.
    public static let maxNetworkLength = 254

    /// Which transport.
    public var scheme: Scheme
    /// The text between `://` and the last `:`, verbatim: what `pgm_getaddrinfo` gets.
    public var network: String
    /// The interface entity (a name or an address), or nil when libpgm chooses (empty, or
    /// absent because the first entity is a multicast group).
    public var interface: String?
    /// The receive groups (comma separated), or nil for libpgm's default (239.192.0.1).
    public var receiveGroups: String?
    /// The send group, or nil when it is the first receive group.
    public var sendGroup: String?
    /// The PGM data-destination port (and, for `epgm`, the UDP port).
    public var port: UInt16

    /// Parses `text` (`epgm://eth0;239.192.1.1:5555`).
    /// - Throws: a ``PGMError`` blamed on ``/ZMTP/ZMTPError/Blame/apiMisuse`` for every text libzmq
    ///   refuses, aborts on, or silently misreads (see the table on the type).
    public init(parsing text: String) throws(PGMError) {
        // libzmq `parse_uri`: the first "://" splits scheme and address.
        let utf8 = Array(text.utf8)
        guard let separator = utf8.indices.first(where: { utf8[$0...].starts(with: "://".utf8) }) else {
            throw .misuse(.malformedEndpoint, "no '://' in \"\(text)\"")
        }
        let schemeText = String(decoding: utf8[..<separator], as: UTF8.self)
        let address = Substring(String(decoding: utf8[(separator + 3)...], as: UTF8.self))
        guard !schemeText.isEmpty, !address.isEmpty else {
            throw .misuse(.malformedEndpoint, "empty scheme or address in \"\(text)\"")
        }
        guard let scheme = Scheme(rawValue: schemeText) else {
            throw .misuse(.unsupportedScheme, "\"\(schemeText)\" is not pgm or epgm")
        }
        guard let colon = address.lastIndex(of: ":") else {
            throw .misuse(.missingPort, "no ':port' in \"\(text)\"")
        }
        let port = try Self.parsePort(address[address.index(after: colon)...])
        try self.init(scheme: scheme, network: String(address[..<colon]), port: port)
    }

    /// Builds an endpoint from its parts, with the same checks as ``init(parsing:)``.
    public init(scheme: Scheme, network: String, port: UInt16) throws(PGMError) {
        guard port != 0 else { throw .misuse(.invalidPort, "port 0") }
        guard network.utf8.count <= Self.maxNetworkLength else {
            throw .misuse(.networkTooLong, "\(network.utf8.count) bytes; libzmq takes at most \(Self.maxNetworkLength)")
        }
        guard !network.utf8.contains(0) else { throw .misuse(.invalidNetwork, "NUL byte in the network") }
        let slots = try Self.slots(network)
        self.scheme = scheme
        self.network = network
        self.interface = slots.interface
        self.receiveGroups = slots.receive
        self.sendGroup = slots.send
        self.port = port
    }

    /// `scheme://network:port`, as libzmq's `ZMQ_LAST_ENDPOINT` reports it.
    public var description: String { "\(scheme.rawValue)://\(network):\(port)" }

    // MARK: Port

    /// A plain decimal 1...65535. libzmq uses `atoi` and a `uint16_t`, so it wraps large
    /// values and ignores signs, blanks and trailing junk; an endpoint that silently means
    /// another port is refused here instead.
    static func parsePort(_ text: Substring) throws(PGMError) -> UInt16 {
        guard !text.isEmpty else { throw .misuse(.invalidPort, "empty port") }
        var value = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                throw .misuse(.invalidPort, "port \"\(text)\" is not a decimal number")
            }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            guard value <= Int(UInt16.max) else {
                throw .misuse(.invalidPort, "port \"\(text)\" is above 65535 (libzmq would wrap it)")
            }
        }
        guard value != 0, let port = UInt16(exactly: value) else {
            throw .misuse(.invalidPort, "port 0 (libzmq: refused with errno left stale)")
        }
        return port
    }

    // MARK: Network

    /// libpgm's three slots: interface, receive groups, send group.
    private static let slotCount = 3

    /// Splits the network into libpgm's slots, refusing the shapes libpgm 5.3.128 aborts on
    /// (observed with `pgm_getaddrinfo`, see the type's table).
    private static func slots(_ network: String) throws(PGMError) -> (interface: String?, receive: String?, send: String?) {
        var entities = network.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        // A lone multicast group (or a group list) in front means libpgm skips the interface slot.
        let leadingGroup = entities.first.map { isMulticastLiteral(firstToken(of: $0)) } ?? false
        if leadingGroup { entities.insert("", at: 0) }
        if entities.count == slotCount + 1, entities[slotCount].isEmpty {
            entities.removeLast()
        }
        guard entities.count <= slotCount else {
            throw .misuse(.invalidNetwork, "\"\(network)\" has more ';' entities than libpgm's interface;receive;send (libpgm aborts)")
        }
        let interface = entities[0]
        guard !interface.contains(",") else {
            throw .misuse(.invalidNetwork, "more than one interface in \"\(interface)\" (libzmq aborts)")
        }
        let receive = entities.count > 1 ? entities[1] : ""
        let send = entities.count > 2 ? entities[2] : ""
        guard !send.contains(",") else {
            throw .misuse(.invalidNetwork, "more than one send group in \"\(send)\"")
        }
        return (interface.isEmpty ? nil : interface, receive.isEmpty ? nil : receive, send.isEmpty ? nil : send)
    }

    private static func firstToken(of entity: String) -> Substring {
        entity.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first ?? Substring(entity)
    }

    /// Whether `token` is an IPv4 multicast address in any `inet_aton` spelling (`239.1`,
    /// `0xef000001`) or an IPv6 multicast address (`ff08::1`, `[ff08::1]`): libpgm reads such a
    /// first entity as receive groups. A host name that resolves to a group is not detected.
    static func isMulticastLiteral(_ token: Substring) -> Bool {
        if token.contains(":") {
            var text = token
            if text.first == "[", text.last == "]" { text = text.dropFirst().dropLast() }
            guard let head = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first,
                  (1...4).contains(head.count), let hextet = UInt16(head, radix: 16) else { return false }
            return hextet >= 0xFF00
        }
        guard let address = ipv4(token) else { return false }
        return address >> 28 == 0xE
    }

    /// `inet_aton`: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x); the last part
    /// fills the remaining bytes.
    private static func ipv4(_ token: Substring) -> UInt32? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt32] = []
        for part in parts {
            guard let value = number(part) else { return nil }
            values.append(value)
        }
        var address: UInt32 = 0
        for (index, value) in values.enumerated() {
            if index == values.count - 1 {
                let room = 4 - index
                guard room == 4 || value < (UInt32(1) << (8 * room)) else { return nil }
                address |= value
            } else {
                guard value <= 0xFF else { return nil }
                address |= value << (8 * (3 - index))
            }
        }
        return address
    }

    private static func number(_ part: Substring) -> UInt32? {
        guard !part.isEmpty else { return nil }
        if part.hasPrefix("0x") || part.hasPrefix("0X") {
            return UInt32(part.dropFirst(2), radix: 16)
        }
        if part.count > 1, part.hasPrefix("0") {
            return UInt32(part.dropFirst(), radix: 8)
        }
        return UInt32(part, radix: 10)
    }
}
