import CPGM
import Testing

/// Proves the CPGM system library imports (with the shim's include order) and links, and that
/// libpgm reports a bad network as an error value rather than aborting.
@Suite("CPGM")
struct CPGMLinkTests {
    @Test("pgm_init, pgm_getaddrinfo on a good and a bad network, pgm_shutdown")
    func getaddrinfo() throws {
        var error: UnsafeMutablePointer<pgm_error_t>?
        #expect(pgm_init(&error))
        #expect(error == nil)

        var result: UnsafeMutablePointer<pgm_addrinfo_t>?
        #expect(pgm_getaddrinfo(";239.192.1.1", nil, &result, &error))
        let info = try #require(result)
        #expect(info.pointee.ai_recv_addrs_len == 1)
        #expect(info.pointee.ai_send_addrs_len == 1)
        // libzmq takes the family from the send group (pgm_socket.cpp).
        #expect(Int32(info.pointee.ai_send_addrs[0].gsr_group.ss_family) == AF_INET)
        pgm_freeaddrinfo(info)

        // A unicast group: "Unresolvable receive group", PGM_ERROR_DOMAIN_IF / PGM_ERROR_INVAL.
        result = nil
        #expect(!pgm_getaddrinfo(";10.1.2.3", nil, &result, &error))
        #expect(result == nil)
        let failure = try #require(error)
        #expect(failure.pointee.domain == Int32(PGM_ERROR_DOMAIN_IF))
        #expect(failure.pointee.code == Int32(PGM_ERROR_INVAL))
        let message = failure.pointee.message.map { String(cString: $0) } ?? ""
        #expect(message.contains("10.1.2.3"))
        pgm_error_free(failure)

        #expect(pgm_shutdown())
        // IPPROTO_PGM and the poll declarations come through the shim's include order.
        #expect(IPPROTO_PGM == 113)
        _ = pgm_poll_info
        // struct group_req (JOIN_GROUP / SEND_GROUP's size) is visible without _GNU_SOURCE.
        #expect(MemoryLayout<group_req>.size == 136)
    }
}
