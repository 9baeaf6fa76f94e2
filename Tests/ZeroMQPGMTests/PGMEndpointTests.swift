import Testing
import ZMTP
@testable import ZeroMQPGM

/// Endpoints libzmq 4.3.4 accepts (connect returned 0 in NOTES.md §2, or pgm_getaddrinfo
/// resolved the network on this machine) and that parse here.
struct AcceptedEndpoint: Sendable, CustomTestStringConvertible {
    var text: String
    var scheme: PGMEndpoint.Scheme
    var interface: String?
    var receive: String?
    var send: String?
    var port: UInt16
    var testDescription: String { text }
}

/// Endpoints libzmq refuses, aborts on, or silently misreads, with the code refused with here.
struct RejectedEndpoint: Sendable, CustomTestStringConvertible {
    var text: String
    var code: PGMError.Code
    /// What libzmq 4.3.4 does with it (pyzmq 24 connect on this machine unless noted).
    var libzmq: String
    var testDescription: String { "\(text) (libzmq: \(libzmq))" }
}

let acceptedEndpoints: [AcceptedEndpoint] = [
    .init(text: "epgm://10.99.0.1;239.192.1.1:5555", scheme: .epgm, interface: "10.99.0.1", receive: "239.192.1.1", port: 5555),
    .init(text: "pgm://10.99.0.2;239.192.1.1:5560", scheme: .pgm, interface: "10.99.0.2", receive: "239.192.1.1", port: 5560),
    .init(text: "epgm://vpgmA;239.192.1.1:5558", scheme: .epgm, interface: "vpgmA", receive: "239.192.1.1", port: 5558),
    // A lone group, or an empty interface: libpgm picks the interface (ifindex 0).
    .init(text: "epgm://239.192.1.1:5555", scheme: .epgm, receive: "239.192.1.1", port: 5555),
    .init(text: "epgm://;239.192.1.1:5555", scheme: .epgm, receive: "239.192.1.1", port: 5555),
    // Nothing at all: libpgm's defaults (239.192.0.1); libzmq connects.
    .init(text: "epgm://:5555", scheme: .epgm, port: 5555),
    // interface;receive-groups;send-group
    .init(text: "epgm://10.99.0.1;;239.192.1.1:5555", scheme: .epgm, interface: "10.99.0.1", send: "239.192.1.1", port: 5555),
    .init(text: "epgm://10.99.0.1;239.192.1.1,239.192.1.2:5555", scheme: .epgm, interface: "10.99.0.1",
          receive: "239.192.1.1,239.192.1.2", port: 5555),
    .init(text: "epgm://10.99.0.1;239.192.1.1;239.192.1.3:5555", scheme: .epgm, interface: "10.99.0.1",
          receive: "239.192.1.1", send: "239.192.1.3", port: 5555),
    // A group first: libpgm reads receive;send (recv .1, send .2 with ifindex 0).
    .init(text: "epgm://239.192.1.1;239.192.1.2:5555", scheme: .epgm, receive: "239.192.1.1", send: "239.192.1.2", port: 5555),
    .init(text: "epgm://239.192.1.1,239.192.1.2;239.192.1.3:5555", scheme: .epgm, receive: "239.192.1.1,239.192.1.2",
          send: "239.192.1.3", port: 5555),
    // One trailing empty entity is tolerated by libpgm.
    .init(text: "epgm://eth0;;;:5555", scheme: .epgm, interface: "eth0", port: 5555),
    .init(text: "epgm://239.192.1.1;;:5555", scheme: .epgm, receive: "239.192.1.1", port: 5555),
    // IPv6 groups in brackets: the port follows the last ':'.
    .init(text: "epgm://10.99.0.1;[ff08::1]:5555", scheme: .epgm, interface: "10.99.0.1", receive: "[ff08::1]", port: 5555),
    .init(text: "epgm://[ff08::1];[ff08::2]:5555", scheme: .epgm, receive: "[ff08::1]", send: "[ff08::2]", port: 5555),
    // Port range edges; leading zeros are plain decimal.
    .init(text: "epgm://eth0;239.192.1.1:1", scheme: .epgm, interface: "eth0", receive: "239.192.1.1", port: 1),
    .init(text: "epgm://eth0;239.192.1.1:65535", scheme: .epgm, interface: "eth0", receive: "239.192.1.1", port: 65535),
    .init(text: "epgm://eth0;239.192.1.1:05555", scheme: .epgm, interface: "eth0", receive: "239.192.1.1", port: 5555),
    // Not resolved here: pgm_getaddrinfo refuses these later (libzmq: EINVAL at connect).
    .init(text: "epgm://nosuchif;239.192.1.1:5555", scheme: .epgm, interface: "nosuchif", receive: "239.192.1.1", port: 5555),
    .init(text: "epgm://10.99.0.1;10.99.0.2:5555", scheme: .epgm, interface: "10.99.0.1", receive: "10.99.0.2", port: 5555),
]

let rejectedEndpoints: [RejectedEndpoint] = [
    .init(text: "epgm://", code: .malformedEndpoint, libzmq: "EINVAL"),
    .init(text: "epgm:/10.99.0.1;239.192.1.1:5555", code: .malformedEndpoint, libzmq: "EINVAL (parse_uri)"),
    .init(text: "://10.99.0.1;239.192.1.1:5555", code: .malformedEndpoint, libzmq: "EINVAL (parse_uri, empty protocol)"),
    .init(text: "EPGM://10.99.0.1;239.192.1.1:5555", code: .unsupportedScheme, libzmq: "EPROTONOSUPPORT"),
    .init(text: "tcp://10.99.0.1:5555", code: .unsupportedScheme, libzmq: "another transport"),
    .init(text: "epgm://10.99.0.1;239.192.1.1", code: .missingPort, libzmq: "EINVAL"),
    .init(text: "epgm://10.99.0.1;239.192.1.1:", code: .invalidPort, libzmq: "-1, errno stale (EAGAIN)"),
    .init(text: "epgm://10.99.0.1;239.192.1.1:0", code: .invalidPort, libzmq: "-1, errno stale (EAGAIN)"),
    .init(text: "epgm://10.99.0.1;239.192.1.1:abc", code: .invalidPort, libzmq: "-1, errno stale (EAGAIN)"),
    .init(text: "epgm://10.99.0.1;239.192.1.1:0x10", code: .invalidPort, libzmq: "-1, errno stale (atoi gives 0)"),
    .init(text: "epgm://10.99.0.1;239.192.1.1:65536", code: .invalidPort, libzmq: "-1, errno stale (wraps to 0)"),
    .init(text: "epgm://10.99.0.1;239.192.1.1:99999", code: .invalidPort, libzmq: "OK on port 34463 (uint16 wrap)"),
    .init(text: "epgm://10.99.0.1;239.192.1.1:4294967297", code: .invalidPort, libzmq: "OK on port 1 (atoi overflow)"),
    .init(text: "epgm://10.99.0.1;239.192.1.1:-5", code: .invalidPort, libzmq: "OK on port 65531"),
    .init(text: "epgm://10.99.0.1;239.192.1.1:12abc", code: .invalidPort, libzmq: "OK on port 12 (atoi)"),
    .init(text: "epgm://10.99.0.1;239.192.1.1: 77", code: .invalidPort, libzmq: "OK on port 77 (atoi)"),
    .init(text: "epgm://10.99.0.1;239.192.1.1:+77", code: .invalidPort, libzmq: "OK on port 77 (atoi)"),
    .init(text: "epgm://" + String(repeating: "a", count: 255) + ":5555", code: .networkTooLong, libzmq: "EINVAL (char network[256])"),
    .init(text: "epgm://127.0.0.1,eth0;239.192.1.1:5555", code: .invalidNetwork,
          libzmq: "abort: pgm_getaddrinfo fails without an error, zmq_assert (pgm_socket.cpp:98)"),
    .init(text: "epgm://239.192.1.1;239.192.1.2;239.192.1.3:5555", code: .invalidNetwork,
          libzmq: "abort in libpgm: if.c:2083 network_parse \"should not be reached\""),
    .init(text: "epgm://239.192.1.1;;239.192.1.3:5555", code: .invalidNetwork, libzmq: "abort in libpgm (if.c:2083)"),
    .init(text: "epgm://[ff08::1];;[ff08::2]:5555", code: .invalidNetwork, libzmq: "abort in libpgm (if.c:2083)"),
    .init(text: "epgm://0xef000001;;x:5555", code: .invalidNetwork, libzmq: "a group in inet_aton spelling: abort in libpgm"),
    .init(text: "epgm://eth0;239.192.1.1;239.192.1.2;239.192.1.3:5555", code: .invalidNetwork, libzmq: "abort in libpgm (if.c:2083)"),
    .init(text: "epgm://;;;;:5555", code: .invalidNetwork, libzmq: "abort in libpgm (if.c:1958)"),
    .init(text: "epgm://239.192.1.1;;;:5555", code: .invalidNetwork, libzmq: "abort in libpgm (if.c:1958)"),
    .init(text: "epgm://;239.192.1.1;239.192.1.2,239.192.1.3:5555", code: .invalidNetwork, libzmq: "EINVAL (two send groups)"),
    .init(text: "epgm://eth0\u{0};239.192.1.1:5555", code: .invalidNetwork, libzmq: "the C string ends at the NUL"),
]

@Suite("PGMEndpoint")
struct PGMEndpointTests {
    @Test("parses what libzmq accepts", arguments: acceptedEndpoints)
    func accepts(_ expected: AcceptedEndpoint) throws {
        let endpoint = try PGMEndpoint(parsing: expected.text)
        #expect(endpoint.scheme == expected.scheme)
        #expect(endpoint.interface == expected.interface)
        #expect(endpoint.receiveGroups == expected.receive)
        #expect(endpoint.sendGroup == expected.send)
        #expect(endpoint.port == expected.port)
        // The network text is kept verbatim for pgm_getaddrinfo.
        #expect(expected.text.hasPrefix("\(expected.scheme.rawValue)://\(endpoint.network):"))
    }

    @Test("refuses what libzmq refuses, aborts on or misreads", arguments: rejectedEndpoints)
    func rejects(_ expected: RejectedEndpoint) {
        do {
            let endpoint = try PGMEndpoint(parsing: expected.text)
            Issue.record("accepted as \(endpoint)")
        } catch {
            #expect(error.code == expected.code, "\(error)")
            #expect(error.blame == .apiMisuse)
        }
    }

    @Test("a network of 254 bytes is the longest libzmq takes")
    func networkLengthLimit() throws {
        let longest = "epgm://" + String(repeating: "a", count: PGMEndpoint.maxNetworkLength) + ":5555"
        #expect(try PGMEndpoint(parsing: longest).network.utf8.count == 254)
    }

    @Test("description is scheme://network:port and parses back to the same endpoint")
    func roundTrip() throws {
        for expected in acceptedEndpoints {
            let endpoint = try PGMEndpoint(parsing: expected.text)
            #expect(try PGMEndpoint(parsing: endpoint.description) == endpoint)
        }
        #expect(try PGMEndpoint(parsing: "epgm://eth0;239.192.1.1:05555").description == "epgm://eth0;239.192.1.1:5555")
    }

    @Test("the memberwise form checks the same things")
    func memberwise() throws {
        let endpoint = try PGMEndpoint(scheme: .pgm, network: "eth0;239.192.1.1", port: 7000)
        #expect(endpoint.description == "pgm://eth0;239.192.1.1:7000")
        #expect(throws: PGMError.self) { try PGMEndpoint(scheme: .pgm, network: "eth0;239.192.1.1", port: 0) }
        #expect(throws: PGMError.self) { try PGMEndpoint(scheme: .epgm, network: "a;b;c;d", port: 1) }
    }

    @Test("multicast literals are recognised in every inet_aton and IPv6 spelling libpgm takes")
    func multicastLiterals() {
        for text in ["239.192.1.1", "224.0.0.1", "239.1", "0xef000001", "ff08::1", "[ff08::1]", "FF02::1", "0357.0.0.1"] {
            #expect(PGMEndpoint.isMulticastLiteral(Substring(text)), "\(text)")
        }
        for text in ["10.99.0.1", "240.0.0.1", "eth0", "", "ffx::1", "fe80::1", "127.0.0.1", "239.256.0.1", "1.2.3.4.5"] {
            #expect(!PGMEndpoint.isMulticastLiteral(Substring(text)), "\(text)")
        }
    }
}
