#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A network namespace the test creates (`ip netns add`), with `lo` up, removed again when this
/// object goes; peers run inside it through `ip netns exec` (``PeerProcess``). Needs root and
/// iproute2 (``available``), nftables for partitions.
final class FaultNamespace: @unchecked Sendable {
    let name: String
    private static let counter = Atomic<Int>(0)

    static var available: Bool {
        getuid() == 0 && access("/usr/sbin/ip", X_OK) == 0 && access("/usr/sbin/nft", X_OK) == 0
    }

    init() throws {
        name = "zmqfault-\(getpid())-\(Self.counter.add(1, ordering: .relaxed).oldValue)"
        try Self.run(["/usr/sbin/ip", "netns", "add", name])
        try Self.run(["/usr/sbin/ip", "-n", name, "link", "set", "lo", "up"])
    }

    deinit {
        try? Self.run(["/usr/sbin/ip", "netns", "del", name])
    }

    /// Joins `self` and `other` with a veth pair: `address`/24 here, `otherAddress`/24 there.
    func link(to other: FaultNamespace, address: String, otherAddress: String) throws {
        let tag = "\(getpid() % 100_000)x\(name.split(separator: "-").last ?? "0")"
        let here = "vf\(tag)a", there = "vf\(tag)b"
        try Self.run(["/usr/sbin/ip", "link", "add", here, "netns", name, "type", "veth", "peer", "name", there, "netns", other.name])
        try Self.run(["/usr/sbin/ip", "-n", name, "addr", "add", address + "/24", "dev", here])
        try Self.run(["/usr/sbin/ip", "-n", other.name, "addr", "add", otherAddress + "/24", "dev", there])
        try Self.run(["/usr/sbin/ip", "-n", name, "link", "set", here, "up"])
        try Self.run(["/usr/sbin/ip", "-n", other.name, "link", "set", there, "up"])
    }

    /// Makes every interface of the namespace process what it receives on `cpu` (RPS): what a
    /// peer here must do in answer to a packet (free its send queue on a reset, say) is then
    /// done on that CPU, as it would be on the peer's own host, not on the sender's.
    func steerReceiveProcessing(toCPU cpu: Int) throws {
        let mask = String(1 << cpu, radix: 16)
        try Self.run(["/usr/sbin/ip", "netns", "exec", name, "/bin/sh", "-c",
                      "for queue in /sys/class/net/*/queues/rx-*/rps_cpus; do echo \(mask) > $queue; done"])
    }

    /// Moves the calling thread (only it) into the namespace: sockets it opens afterwards are
    /// the namespace's. Glibc's Swift module lacks `setns` (behind _GNU_SOURCE), so it is looked up.
    func enterOnThisThread() throws {
        typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "setns") else { throw FaultError("no setns") }
        let fd = open("/var/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FaultError("open /var/run/netns/\(name): errno \(errno)") }
        defer { close(fd) }
        let cloneNewNet: Int32 = 0x4000_0000
        guard unsafeBitCast(symbol, to: SetNamespace.self)(fd, cloneNewNet) == 0 else {
            throw FaultError("setns \(name): errno \(errno)")
        }
    }

    /// Runs `nft` inside the namespace with `commands` on its stdin (`nft -f -`).
    func nft(_ commands: String) throws {
        try Self.run(["/usr/sbin/ip", "netns", "exec", name, "/usr/sbin/nft", "-f", "-"], input: commands)
    }

    /// Runs a command to its end; throws with its output when it fails.
    static func run(_ arguments: [String], input: String = "") throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = stdin
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FaultError("\(arguments.joined(separator: " ")): \(text)") }
    }
}
