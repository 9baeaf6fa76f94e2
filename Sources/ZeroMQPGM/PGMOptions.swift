/// libzmq's PGM socket options and the libpgm values they become (`pgm_socket.cpp`, traced on
/// Debian's libzmq 4.3.4 with an LD_PRELOAD shim: NOTES.md §5). Pure arithmetic: the socket
/// layer passes the results to `pgm_setsockopt`.
///
/// | ZMQ option | Default | libpgm option |
/// |---|---|---|
/// | `ZMQ_RATE` (kbit/s) | 100 | sender `PGM_ODATA_MAX_RTE` = rate × 1000 / 8 B/s; sizes both windows |
/// | `ZMQ_RECOVERY_IVL` (ms) | 10 000 | sizes both windows only |
/// | `ZMQ_MULTICAST_MAXTPDU` (B) | 1500 | `PGM_MTU`; sizes both windows |
/// | `ZMQ_MULTICAST_HOPS` | 1 | `PGM_MULTICAST_HOPS` (IP TTL) |
///
/// Each side sizes its own window from its own options: a SUB left at the defaults gets an
/// 80-packet receive window whatever the PUB uses (NOTES.md §4, "Window sizing").
public struct PGMOptions: Hashable, Sendable {
    /// `ZMQ_RATE` default, kbit/s.
    public static let defaultRate = 100
    /// `ZMQ_RECOVERY_IVL` default, ms.
    public static let defaultRecoveryInterval = 10_000
    /// `ZMQ_MULTICAST_MAXTPDU` default, octets.
    public static let defaultMaxTPDU = 1500
    /// `ZMQ_MULTICAST_HOPS` default.
    public static let defaultHops = 1
    /// The smallest `PGM_MTU` that leaves a TSDU of ``PGMEncoder/minTSDUSize`` after the
    /// largest (epgm) overhead.
    public static let minMaxTPDU = epgmOverhead + PGMEncoder.minTSDUSize
    /// The largest `PGM_MTU`: a TPDU's length must fit the IPv4 16-bit total length.
    public static let maxMaxTPDU = Int(UInt16.max)
    /// libpgm takes its rates and window sizes as C `int`.
    public static let maxCInt = Int(Int32.max)

    /// `ZMQ_RATE`, kbit/s (> 0).
    public var rate: Int
    /// `ZMQ_RECOVERY_IVL`, ms (>= 0).
    public var recoveryInterval: Int
    /// `ZMQ_MULTICAST_MAXTPDU`, octets.
    public var maxTPDU: Int
    /// `ZMQ_MULTICAST_HOPS` (> 0).
    public var hops: Int

    /// libzmq's defaults unless given.
    public init(rate: Int = PGMOptions.defaultRate, recoveryInterval: Int = PGMOptions.defaultRecoveryInterval,
                maxTPDU: Int = PGMOptions.defaultMaxTPDU, hops: Int = PGMOptions.defaultHops) {
        self.rate = rate
        self.recoveryInterval = recoveryInterval
        self.maxTPDU = maxTPDU
        self.hops = hops
    }

    /// Checks every value as libzmq's setters do (RATE, HOPS and MAXTPDU > 0, RECOVERY_IVL >= 0)
    /// plus what libpgm needs (the results fit a C int; an MTU that leaves room for data).
    /// - Throws: ``PGMError/Code/invalidOption`` blamed on ``/ZMTP/ZMTPError/Blame/apiMisuse``.
    public func validate() throws(PGMError) {
        guard rate > 0 else { throw .misuse(.invalidOption, "ZMQ_RATE \(rate) must be > 0") }
        _ = try Self.rateBytesPerSecond(rate: rate)
        guard recoveryInterval >= 0 else {
            throw .misuse(.invalidOption, "ZMQ_RECOVERY_IVL \(recoveryInterval) must be >= 0")
        }
        guard (Self.minMaxTPDU...Self.maxMaxTPDU).contains(maxTPDU) else {
            throw .misuse(.invalidOption, "ZMQ_MULTICAST_MAXTPDU \(maxTPDU) outside \(Self.minMaxTPDU)...\(Self.maxMaxTPDU)")
        }
        guard hops > 0, hops <= Int(UInt8.max) else {
            throw .misuse(.invalidOption, "ZMQ_MULTICAST_HOPS \(hops) outside 1...255 (an IP TTL)")
        }
        _ = try windowSequences
    }

    /// `PGM_ODATA_MAX_RTE` for ``rate``, in octets per second.
    public var rateBytesPerSecond: Int {
        get throws(PGMError) { try Self.rateBytesPerSecond(rate: rate) }
    }

    /// `PGM_TXW_SQNS` (sender) or `PGM_RXW_SQNS` (receiver) for these options.
    public var windowSequences: Int {
        get throws(PGMError) {
            try Self.windowSequences(rate: rate, recoveryInterval: recoveryInterval, maxTPDU: maxTPDU)
        }
    }

    // MARK: The formulas

    /// `ZMQ_RATE` kbit/s → `PGM_ODATA_MAX_RTE` B/s: `rate * 1000 / 8` (100 → 12 500).
    public static func rateBytesPerSecond(rate: Int) throws(PGMError) -> Int {
        guard rate > 0 else { throw .misuse(.invalidOption, "ZMQ_RATE \(rate) must be > 0") }
        let (product, overflow) = rate.multipliedReportingOverflow(by: 1000)
        guard !overflow, product / 8 <= maxCInt else {
            throw .misuse(.invalidOption, "ZMQ_RATE \(rate) kbit/s overflows libpgm's int rate")
        }
        return product / 8
    }

    /// The window in packets: `recoveryInterval * (rate / 8) / maxTPDU`, integer division with
    /// `rate / 8` truncated first, at least 1 (libzmq `compute_sqns`). Traced: 100 / 10 000 /
    /// 1500 → 80; RATE 1000 → 833; RATE 10 000 → 8333; 100 000 / 2000 / 9000 → 2777.
    public static func windowSequences(rate: Int, recoveryInterval: Int, maxTPDU: Int) throws(PGMError) -> Int {
        guard rate > 0, recoveryInterval >= 0, maxTPDU > 0 else {
            throw .misuse(.invalidOption, "window from RATE \(rate), RECOVERY_IVL \(recoveryInterval), MAXTPDU \(maxTPDU)")
        }
        let (size, overflow) = recoveryInterval.multipliedReportingOverflow(by: rate / 8)
        guard !overflow, size / maxTPDU <= maxCInt else {
            throw .misuse(.invalidOption, "window of RATE \(rate) × RECOVERY_IVL \(recoveryInterval) overflows libpgm's int")
        }
        return max(1, size / maxTPDU)
    }

    // MARK: TSDU size

    /// IPv4 20 + UDP 8 + PGM 16 + ODATA 8 + 20 reserved for OPT_LENGTH and OPT_FRAGMENT.
    public static let epgmOverhead = 72
    /// As ``epgmOverhead`` without the UDP header.
    public static let pgmOverhead = 64

    /// The TSDU libpgm reports as `PGM_MSS` over IPv4: MTU − 72 for epgm, − 64 for pgm (1428
    /// and 1436 at 1500; 8928 for epgm at 9000). The socket should still read `PGM_MSS` itself
    /// after `pgm_connect` (IPv6 headers are larger).
    public static func expectedIPv4TSDUSize(maxTPDU: Int, scheme: PGMEndpoint.Scheme) -> Int {
        switch scheme {
        case .epgm: return maxTPDU - epgmOverhead
        case .pgm: return maxTPDU - pgmOverhead
        }
    }
}
