import FuzzSupport
import ZMTP

// The ZAP wire form (RFC 27, ZAPFrames): the input is cut into frames, each a length octet and
// that many bytes (the last frame takes what is left), with the length octet's top bit as the
// frame's MORE flag; the same frames are then parsed as a handler's reply and as a request
// (with and without the delimiter). Every failure must carry a ZAP code; anything accepted
// must re-encode to frames that parse to the same value (reply and request round trips).

func checkReply(_ parts: [(bytes: [UInt8], more: Bool)]) {
    let reply: AuthenticationReply
    do throws(ZMTPError) {
        reply = try ZAPFrames.parseReply(parts)
    } catch {
        require(ZAPHarness.codes.contains(error.code), "parseReply threw \(error)")
        return
    }
    require(["200", "300", "400", "500"].contains(reply.statusCode), "accepted status \(reply.statusCode)")
    do throws(ZMTPError) {
        let again = try ZAPFrames.reply(reply)
        let marked = again.enumerated().map { ($0.element, $0.offset < again.count - 1) }
        let reparsed = try ZAPFrames.parseReply(marked)
        require(reparsed == reply, "reply round trip changed \(reply) to \(reparsed)")
    } catch {
        finding("an accepted reply does not re-encode: \(error)")
    }
}

func checkRequest(_ parts: [[UInt8]], delimited: Bool) {
    let parsed: (request: AuthenticationRequest, id: [UInt8])
    do throws(ZMTPError) {
        parsed = try ZAPFrames.parseRequest(parts, delimited: delimited)
    } catch {
        require(ZAPHarness.codes.contains(error.code), "parseRequest threw \(error)")
        return
    }
    let again = ZAPFrames.request(parsed.request, id: parsed.id)
    do throws(ZMTPError) {
        let reparsed = try ZAPFrames.parseRequest(again, delimited: true)
        require(reparsed.request == parsed.request && reparsed.id == parsed.id, "request round trip changed \(parsed.request)")
    } catch {
        finding("an accepted request does not re-encode: \(error)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let parts = ZAPHarness.frames(inputBytes(start, count))
    checkReply(parts)
    checkRequest(parts.map(\.bytes), delimited: true)
    checkRequest(parts.map(\.bytes), delimited: false)
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    writeSeedsIfRequested(target: "FuzzZAP", ZAPHarness.seeds)
    return 0
}
