#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A network namespace this test creates (`ip netns add`), with `lo` up, and removes again: PGM
/// needs multicast, and the tests never touch the host's own interfaces. Needs root (CI runs as
/// root); ``available`` says whether this process can.
final class NetworkNamespace: @unchecked Sendable {
    let name: String
    private static let counter = Atomic<Int>(0)

    /// Whether namespaces can be made here: root and the `ip` tool.
    static var available: Bool {
        getuid() == 0 && (FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") || FileManager.default.isExecutableFile(atPath: "/sbin/ip"))
    }

    /// A fresh namespace with `lo` up. OpenPGM resolves interface names through the hosts
    /// database: `/etc/netns/NAME/nsswitch.conf` keeps that to `/etc/hosts`, never DNS.
    init() throws {
        name = "zmqpgm-\(getpid())-\(Self.counter.add(1, ordering: .relaxed).oldValue)"
        try Self.ip(["netns", "add", name])
        try Self.ip(["-n", name, "link", "set", "lo", "up"])
        let directory = "/etc/netns/\(name)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "hosts: files\n".write(toFile: directory + "/nsswitch.conf", atomically: true, encoding: .utf8)
    }

    deinit {
        try? Self.ip(["netns", "del", name])
        try? FileManager.default.removeItem(atPath: "/etc/netns/\(name)")
    }

    /// Joins `self` and `other` with a veth pair, `address`/24 here and `otherAddress`/24 there,
    /// both up. Deleting either namespace deletes the pair.
    func link(to other: NetworkNamespace, address: String, otherAddress: String) throws -> (here: String, there: String) {
        let suffix = name.split(separator: "-").last.map(String.init) ?? "0"
        let here = "vz\(getpid() % 10000)a\(suffix)", there = "vz\(getpid() % 10000)b\(suffix)"
        try Self.ip(["link", "add", here, "netns", name, "type", "veth", "peer", "name", there, "netns", other.name])
        try Self.ip(["-n", name, "addr", "add", address + "/24", "dev", here])
        try Self.ip(["-n", other.name, "addr", "add", otherAddress + "/24", "dev", there])
        try Self.ip(["-n", name, "link", "set", here, "up"])
        try Self.ip(["-n", other.name, "link", "set", there, "up"])
        return (here, there)
    }

    /// Runs `body` on a thread that has entered this namespace, and waits for it: sockets made
    /// there (a PGM bind or connect makes its descriptors at once) live in the namespace.
    func run<T>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let result = Mutex<Result<T, Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let path = "/var/run/netns/\(name)"
        let thread = Thread {
            defer { done.signal() }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0, let enter = NetworkNamespace.setns, enter(fd, NetworkNamespace.cloneNewNet) == 0 else {
                let code = errno
                if fd >= 0 { close(fd) }
                result.withLock { $0 = .failure(NamespaceError("setns \(path): errno \(code)")) }
                return
            }
            close(fd)
            result.withLock { $0 = Result { try body() } }
        }
        thread.start()
        done.wait()
        guard let outcome = result.withLock({ $0 }) else { throw NamespaceError("the namespace thread gave no result") }
        return try outcome.get()
    }

    /// Runs a command inside the namespace (`ip netns exec`), e.g. a pyzmq peer.
    func process(_ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.ipPath)
        process.arguments = ["netns", "exec", name] + arguments
        return process
    }

    /// glibc's setns(2) and CLONE_NEWNET, which Swift's Glibc module leaves out (_GNU_SOURCE).
    fileprivate typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
    fileprivate static let cloneNewNet: Int32 = 0x4000_0000
    fileprivate static var setns: SetNamespace? {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "setns") else { return nil }
        return unsafeBitCast(symbol, to: SetNamespace.self)
    }

    /// Loads an nftables ruleset inside the namespace.
    func nft(_ ruleset: String) throws {
        let file = NSTemporaryDirectory() + "\(name).nft"
        try ruleset.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Self.ip(["netns", "exec", name, "nft", "-f", file])
    }

    /// The packets the namespace's nftables rules counted and dropped (the `counter` of the
    /// loss test's rule).
    func nftDropCount() throws -> Int {
        let process = self.process(["nft", "list", "ruleset"])
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let range = text.range(of: "packets ") else { return 0 }
        return Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
    }

    static var ipPath: String { FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") ? "/usr/sbin/ip" : "/sbin/ip" }

    /// Runs `ip` with `arguments`; throws with its output when it fails.
    static func ip(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ipPath)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NamespaceError("ip \(arguments.joined(separator: " ")): \(text)")
        }
    }
}

struct NamespaceError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
