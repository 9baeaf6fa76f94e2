import FuzzSupport
import ZMTP
import ZeroMQPGM

// The harness behind FuzzPGMDecoder. It lives beside its main rather than in FuzzSupport so that
// FuzzSupport (built by the main package for the vector runner) does not link libpgm.
//
// Input byte 0 picks the mode and the limits; the rest is read as records.
//
// Stream mode (bit 7 clear): records `control(1) length(1) apdu(length)`, fed to one PGMDecoder.
//   control bits 0-1: sequence step (+1, +2 = a gap, +0 = a repeat, RESET then +1).
//   Invariant: every APDU is accepted or refused with a PGMError blamed on the peer, with one
//   of the APDU codes; refusal leaves the source unjoined; every message pulled is whole (MORE
//   on all parts but the last), within the limits; the counters add up.
//
// Round-trip mode (bit 7 set): records `flags(1) length(1) body(length)` are parts (flags
//   bit 0 = MORE; the last part is forced final), encoded at a TSDU of 3 + byte 1 % 200; the
//   APDUs must be within the TSDU with valid offsets and must decode to exactly the parts sent.
//   Then, with the APDU chosen by the input dropped, what arrives must be whole messages that
//   were sent, in order, and no error.

enum PGMDecoderHarness {
    static let apduCodes: Set<PGMError.Code> = [
        .truncatedAPDU, .offsetOutOfRange, .offsetMismatch, .malformedFrame, .messageTooLarge, .tooManyParts,
    ]

    static func run(_ input: [UInt8]) {
        guard let mode = input.first else { return }
        if mode & 0x80 == 0 {
            stream(mode, input.dropFirst())
        } else {
            roundTrip(input.dropFirst())
        }
    }

    static func limits(_ mode: UInt8) -> PGMDecoder.Limits {
        let sizes: [Int?] = [nil, 0, 16, 300]
        let parts = [PGMDecoder.Limits.defaultMaxPartsPerMessage, 1, 2, 8]
        return PGMDecoder.Limits(maxMessageSize: sizes[Int(mode & 3)], maxPartsPerMessage: parts[Int(mode >> 2 & 3)])
    }

    // MARK: Stream mode

    static func stream(_ mode: UInt8, _ records: ArraySlice<UInt8>) {
        let limits = limits(mode)
        var decoder = PGMDecoder(limits: limits)
        var rest = records
        var sequence = UInt32(mode & 0x70) << 24      // some runs cross the 2^32 wrap
        var fed = 0
        var pulled = 0
        var refused = 0
        let buffer = ReadBuffer(capacity: 255)    // a record's length is one octet
        while let control = rest.first {
            rest = rest.dropFirst()
            let length = Int(rest.first ?? 0)
            rest = rest.dropFirst()
            let apdu = rest.prefix(length)
            rest = rest.dropFirst(apdu.count)
            switch control & 3 {
            case 0: sequence &+= 1
            case 1: sequence &+= 2
            case 2: break
            default:
                decoder.handleReset()
                sequence &+= 1
            }
            fed += 1
            let refusal: PGMError? = buffer.withRead(apdu) { raw in
                do throws(PGMError) {
                    try decoder.receive(raw, sequence: sequence)
                    return nil
                } catch {
                    return error
                }
            }
            if let refusal {
                refused += 1
                require(refusal.blame == .peerMisbehaved, "APDU error blamed on \(refusal.blame): \(refusal)")
                require(apduCodes.contains(refusal.code), "unexpected code \(refusal)")
                require(!decoder.isJoined, "still joined after \(refusal)")
            }
            while let message = decoder.nextMessage() {
                pulled += 1
                require(message.last?.more == false, "message without a final part: \(message)")
                require(message.dropLast().allSatisfy { $0.more }, "a final part inside a message: \(message)")
                require(message.count <= limits.maxPartsPerMessage, "\(message.count) parts")
                if let max = limits.maxMessageSize {
                    require(message.allSatisfy { $0.count <= max }, "a part over \(max) octets")
                }
            }
        }
        let counters = decoder.statistics
        require(counters.apdus == fed, "apdus \(counters.apdus) != \(fed)")
        require(counters.deliveredMessages == pulled, "delivered \(counters.deliveredMessages) != pulled \(pulled)")
        require(counters.malformedAPDUs == refused, "malformed \(counters.malformedAPDUs) != \(refused)")
    }

    // MARK: Round-trip mode

    static func roundTrip(_ records: ArraySlice<UInt8>) {
        guard let tsduByte = records.first else { return }
        let tsdu = PGMEncoder.minTSDUSize + Int(tsduByte % 200)
        var rest = records.dropFirst()
        var parts: [Message] = []
        while let flags = rest.first {
            rest = rest.dropFirst()
            let length = Int(rest.first ?? 0)
            rest = rest.dropFirst()
            let body = rest.prefix(length)
            rest = rest.dropFirst(body.count)
            parts.append(Message(body, more: flags & 1 != 0))
        }
        guard let last = parts.popLast() else { return }
        parts.append(Message(last.bytes, more: false))

        var encoder: PGMEncoder
        do throws(PGMError) {
            encoder = try PGMEncoder(maxTSDUSize: tsdu)
        } catch {
            finding("TSDU \(tsdu) refused: \(error)")
        }
        for part in parts { encoder.enqueue(part) }
        var apdus: [[UInt8]] = []
        var buffer: [UInt8] = []
        while encoder.nextAPDU(into: &buffer) {
            require(buffer.count >= 3 && buffer.count <= tsdu, "APDU of \(buffer.count) octets at TSDU \(tsdu)")
            let offset = Int(buffer[0]) << 8 | Int(buffer[1])
            require(offset == 0xFFFF || offset <= buffer.count - 2, "offset \(offset) in \(buffer.count) octets")
            apdus.append(buffer)
        }
        var sent: [[Message]] = []
        var current: [Message] = []
        for part in parts {
            current.append(part)
            if !part.more {
                sent.append(current)
                current = []
            }
        }

        let whole = decode(apdus, skipping: nil)
        require(whole == sent, "round trip at TSDU \(tsdu) changed \(sent.count) messages into \(whole.count)")

        guard apdus.count > 1 else { return }
        let hole = Int(tsduByte) % apdus.count
        let lossy = decode(apdus, skipping: hole)
        var cursor = 0
        for message in lossy {
            guard let found = sent[cursor...].firstIndex(of: message) else {
                finding("after losing APDU \(hole), a message that was never sent: \(message)")
            }
            cursor = found + 1
        }
    }

    /// Decodes `apdus` in order (minus the one at `hole`), requiring no error.
    static func decode(_ apdus: [[UInt8]], skipping hole: Int?) -> [[Message]] {
        var decoder = PGMDecoder()
        var messages: [[Message]] = []
        for (index, apdu) in apdus.enumerated() where index != hole {
            do throws(PGMError) {
                try decoder.receive(apdu, sequence: UInt32(index))
            } catch {
                finding("encoder output refused (APDU \(index) of \(apdus.count), hole \(String(describing: hole))): \(error)")
            }
            while let message = decoder.nextMessage() { messages.append(message) }
        }
        return messages
    }

    // MARK: Seeds

    static func seeds() -> [[UInt8]] {
        var out: [[UInt8]] = []
        // Stream mode: libzmq's captured APDUs (NOTES.md §3), as records.
        let captured: [[UInt8]] = [
            [0x00, 0x00, 0x06, 0x00] + Array("hello".utf8),
            [0x00, 0x00, 0x06, 0x01] + Array("topic".utf8) + [0x01, 0x01, 0x0A, 0x00] + Array("payload-2".utf8),
            [0x00, 0x00, 0x02, 0x00, 0x61, 0x03, 0x00, 0x62, 0x62, 0x04, 0x00, 0x63, 0x63, 0x63],
            [0x00, 0x00, 0xFF, 0, 0, 0, 0, 0, 0, 0x01, 0x2D, 0x00] + [UInt8](repeating: 0x41, count: 40),
            [0xFF, 0xFF] + [UInt8](repeating: 0x41, count: 60),
            [0x00, 0x05, 0x41, 0x41, 0x41, 0x41, 0x41],
        ]
        for mode: UInt8 in [0x00, 0x02, 0x0B] {
            var seed = [mode]
            for (index, apdu) in captured.enumerated() {
                seed += [UInt8(index == 4 ? 1 : 0), UInt8(apdu.count)] + apdu
            }
            out.append(seed)
        }
        // Round-trip mode: a multipart message, a large one, many small ones.
        out.append([0x80, 7, 1, 5] + Array("topic".utf8) + [1, 0, 0, 9] + Array("payload-2".utf8))
        out.append([0x80, 40, 0, 255] + [UInt8](repeating: 0x58, count: 255) + [0, 2, 0x61, 0x62])
        out.append([0x80, 1] + (0..<30).flatMap { [UInt8($0 % 2), 1, UInt8($0)] })
        return out
    }
}
