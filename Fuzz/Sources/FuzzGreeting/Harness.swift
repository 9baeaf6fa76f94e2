import FuzzSupport
import ZMTP

typealias Detection = Result<GreetingDetection, ZMTPError>

func detect(_ bytes: some Collection<UInt8>) -> Detection {
    do throws(ZMTPError) {
        return .success(try Greeting.detect(bytes))
    } catch {
        return .failure(error)
    }
}

func fuzzGreeting(_ input: [UInt8]) {
    let limit = min(input.count, Greeting.size + 2)
    // The same bytes after 3 junk octets, sliced: indices start at 3.
    let padded = [0xFF, 0x00, 0x7F] + input
    var results: [Detection] = []
    for n in 0...limit {
        let result = detect(input.prefix(n))
        let sliced = detect(padded[3..<(3 + n)])
        require(result == sliced, "prefix \(n): array slice \(result) but offset slice \(sliced)")
        results.append(result)
    }
    // The whole input (longer than any stage) is decided as its first 66 octets are.
    require(detect(input) == results[limit], "whole input \(detect(input)) vs prefix \(limit) \(results[limit])")

    // Each check below is made where a run of equal answers starts: the later prefixes of the run
    // give the same answer, so the same checks hold for them (every condition on n is monotone).
    // The first decision ends the loop: `stable` then requires every longer prefix to give it.
    for n in 0...limit {
        switch results[n] {
        case .success(.needMore(let total)):
            require(total > n && total <= Greeting.size, "prefix \(n): needMore(total: \(total))")
            if n > 0 && results[n - 1] == results[n] { continue }    // the range was checked from n - 1
            for m in n..<min(total, limit + 1) {
                require(results[m] == results[n], "prefix \(m) gave \(results[m]) before the \(total) octets prefix \(n) asked for")
            }
            continue
        case .failure(let error):
            requirePeerBlame(error, .peer, "from Greeting.detect")
            require(error.code == .malformedGreeting, "unexpected code \(error)")
            require(n > 10 && input[10] == 2, "prefix \(n): \(error) but revision \(n > 10 ? input[10] : 0)")
            stable(results, from: n)
        case .success(.zmtp1Unversioned):
            require(n >= 1 && (input[0] != 0xFF || (n >= 10 && input[9] & 1 == 0)), "zmtp1Unversioned for \(hex(input.prefix(n)))")
            stable(results, from: n)
        case .success(.versioned(let revision, let socketType)):
            require(n >= 12 && revision <= 1 && revision == input[10] && socketType == input[11],
                    "versioned(\(revision), \(socketType)) for \(hex(input.prefix(n)))")
            stable(results, from: n)
        case .success(.zmtp3(let greeting)):
            require(n >= Greeting.size, "zmtp3 from \(n) octets")
            require(greeting.major == input[10] && greeting.major >= 3 && greeting.minor == input[11]
                        && greeting.mechanism == Array(input[12..<32]) && greeting.asServer == (input[32] != 0),
                    "zmtp3 \(greeting) does not match \(hex(input.prefix(64)))")
            if let name = greeting.mechanismName {
                require(greeting.mechanism == name.greetingField, "mechanismName \(name) for field \(hex(greeting.mechanism))")
            }
            let encoded = greeting.encoded()
            require(encoded.count == Greeting.size, "encoded greeting of \(encoded.count) octets")
            require(detect(encoded) == .success(.zmtp3(greeting)), "re-encoded greeting detects as \(detect(encoded))")
            stable(results, from: n)
        }
        return
    }
}

/// A decision never changes with more octets.
func stable(_ results: [Detection], from n: Int) {
    for m in n..<results.count {
        require(results[m] == results[n], "decided \(results[n]) at \(n) octets, then \(results[m]) at \(m)")
    }
}

func greetingSeeds() -> [[UInt8]] {
    var seeds: [[UInt8]] = []
    for mechanism in MechanismName.allCases {
        for minor: UInt8 in [0, 1] {
            seeds.append(Wire.greeting(mechanism, minor: minor))
        }
    }
    var future = Wire.greeting(.curve)
    future[10] = 4
    future[32] = 1
    seeds.append(future)
    let signature = Greeting.signature(identityLength: 0)
    seeds.append(signature + [0x01, 0x05] + [0x00, 0x00])     // ZMTP 2.0 DEALER
    seeds.append(signature + [0x00, 0x05] + [0x01, 0x00])     // ZMTP 1.0 with signature
    seeds.append(signature + [0x02])                          // revision 2
    seeds.append([0x05, 0x00, 0x68, 0x65, 0x6C, 0x6C])        // unversioned ZMTP 1.0
    seeds.append([0xFF, 0, 0, 0, 0, 0, 0, 0, 5, 0x7E, 0x00])  // long ZMTP 1.0 identity
    return seeds
}
