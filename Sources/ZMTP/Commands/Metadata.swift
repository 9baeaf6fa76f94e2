/// ZMTP metadata: the properties carried by READY, INITIATE and ZAP replies (RFC 23 §NULL,
/// RFC 37 §Metadata).
///
/// ```
/// metadata = *property
/// property = name value
/// name     = OCTET 1*255name-char          ; length, then ALPHA DIGIT "-" "_" "." "+"
/// value    = 4OCTET *OCTET                 ; uint32 big-endian length (< 2^31), then bytes
/// ```
/// Names compare case-insensitively (RFC 37). Properties keep the order they were added in, so
/// encoding is deterministic.
public struct Metadata: Hashable, Sendable, CustomStringConvertible, ExpressibleByDictionaryLiteral {
    /// A property name may be at most 255 bytes (one length octet).
    public static let maxNameLength = 255
    /// A property value's length must fit a signed 32-bit integer (RFC 37).
    public static let maxValueLength = Int(Int32.max)

    /// The properties, in order.
    public private(set) var properties: [(name: String, value: [UInt8])]

    /// No properties.
    public init() { properties = [] }

    public init(dictionaryLiteral elements: (String, String)...) {
        properties = elements.map { ($0.0, Array($0.1.utf8)) }
    }

    /// The value of `name`, compared case-insensitively, or nil.
    public subscript(name: String) -> [UInt8]? {
        get {
            let key = Metadata.fold(name)
            return properties.first { Metadata.fold($0.name) == key }?.value
        }
        set {
            let key = Metadata.fold(name)
            properties.removeAll { Metadata.fold($0.name) == key }
            if let newValue { properties.append((name, newValue)) }
        }
    }

    /// The value of `name` as UTF-8 text.
    public func string(_ name: String) -> String? {
        self[name].map { String(decoding: $0, as: UTF8.self) }
    }

    /// Appends a property without replacing an existing one of the same name.
    public mutating func append(name: String, value: [UInt8]) {
        properties.append((name, value))
    }

    /// Whether `name` is a valid property name (RFC 37: 1..255 of ALPHA DIGIT - _ . +).
    public static func isValidName(_ name: some Collection<UInt8>) -> Bool {
        guard !name.isEmpty, name.count <= maxNameLength else { return false }
        return name.allSatisfy { c in
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
                || c == 0x2D || c == 0x5F || c == 0x2E || c == 0x2B
        }
    }

    // MARK: Wire form

    /// The encoded size in bytes.
    public var encodedCount: Int {
        properties.reduce(0) { $0 + 1 + $1.name.utf8.count + 4 + $1.value.count }
    }

    /// Appends the wire form to `out`.
    /// - Throws: ``ZMTPError/Code/invalidArgument`` for an invalid name or oversized value.
    public func encode(into out: inout [UInt8]) throws(ZMTPError) {
        for (name, value) in properties {
            let nameBytes = Array(name.utf8)
            guard Metadata.isValidName(nameBytes) else {
                throw .misuse(.invalidArgument, "invalid metadata property name \(name)")
            }
            guard value.count <= Metadata.maxValueLength else {
                throw .misuse(.invalidArgument, "metadata value of \(name) too long")
            }
            out.append(UInt8(nameBytes.count))
            out.append(contentsOf: nameBytes)
            appendBigEndian(UInt32(value.count), to: &out)
            out.append(contentsOf: value)
        }
    }

    /// Parses the wire form. Every length is checked against the bytes present before anything
    /// is allocated.
    /// - Throws: a peer error with `code` (the caller says which command was malformed).
    public static func parse(_ bytes: ArraySlice<UInt8>, errorCode: ZMTPError.Code = .invalidMetadata) throws(ZMTPError) -> Metadata {
        var result = Metadata()
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let nameLength = Int(bytes[i])
            i += 1
            guard nameLength > 0, bytes.endIndex - i >= nameLength else {
                throw .peer(errorCode, "metadata name length \(nameLength) runs past the end")
            }
            let nameBytes = bytes[i..<(i + nameLength)]
            guard isValidName(nameBytes) else {
                throw .peer(errorCode, "invalid metadata name")
            }
            i += nameLength
            guard bytes.endIndex - i >= 4 else {
                throw .peer(errorCode, "metadata value length truncated")
            }
            let valueLength = Int(readBigEndianUInt32(bytes, at: i))
            i += 4
            guard valueLength <= maxValueLength, bytes.endIndex - i >= valueLength else {
                throw .peer(errorCode, "metadata value length \(valueLength) runs past the end")
            }
            result.properties.append((String(decoding: nameBytes, as: UTF8.self), Array(bytes[i..<(i + valueLength)])))
            i += valueLength
        }
        return result
    }

    // MARK: Conformances

    public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.properties.count == rhs.properties.count
            && zip(lhs.properties, rhs.properties).allSatisfy { fold($0.name) == fold($1.name) && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for p in properties {
            hasher.combine(Metadata.fold(p.name))
            hasher.combine(p.value)
        }
    }

    public var description: String {
        "[" + properties.map { "\($0.name)=\(String(decoding: $0.value, as: UTF8.self))" }.joined(separator: ", ") + "]"
    }

    /// ASCII case folding (property names are ASCII by grammar).
    static func fold(_ name: String) -> String {
        String(decoding: name.utf8.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}

extension Metadata {
    /// The standard property names (RFC 23, RFC 37).
    public enum Name {
        /// `Socket-Type`: the sender's socket type, checked against ours (RFC 23).
        public static let socketType = "Socket-Type"
        /// `Identity`: the routing id a REQ, DEALER or ROUTER asks its peer to use for it.
        public static let identity = "Identity"
        /// `Resource`: the resource a ZMTP 3.1 client names for virtual hosting (RFC 37).
        public static let resource = "Resource"
        /// `User-Id`: the user id authentication gave the peer, attached to each of its messages.
        public static let userID = "User-Id"
    }
}

// MARK: Byte helpers shared by the core

@inlinable
func appendBigEndian(_ value: UInt32, to out: inout [UInt8]) {
    out.append(UInt8(truncatingIfNeeded: value >> 24))
    out.append(UInt8(truncatingIfNeeded: value >> 16))
    out.append(UInt8(truncatingIfNeeded: value >> 8))
    out.append(UInt8(truncatingIfNeeded: value))
}

@inlinable
func appendBigEndian(_ value: UInt64, to out: inout [UInt8]) {
    var shift: UInt64 = 56
    while true {
        out.append(UInt8(truncatingIfNeeded: value >> shift))
        if shift == 0 { break }
        shift -= 8
    }
}

@inlinable
func appendBigEndian(_ value: UInt16, to out: inout [UInt8]) {
    out.append(UInt8(truncatingIfNeeded: value >> 8))
    out.append(UInt8(truncatingIfNeeded: value))
}

@inlinable
func readBigEndianUInt32(_ bytes: ArraySlice<UInt8>, at i: Int) -> UInt32 {
    UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
}

@inlinable
func readBigEndianUInt64(_ bytes: ArraySlice<UInt8>, at i: Int) -> UInt64 {
    var v: UInt64 = 0
    for k in 0..<8 { v = v << 8 | UInt64(bytes[i + k]) }
    return v
}
