#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Called from each target's `LLVMFuzzerInitialize`. When the environment variable
/// `FUZZ_WRITE_SEEDS` names a directory, writes `seeds()` there (one file per seed, named by
/// content hash) and exits without fuzzing. run.sh uses this to add programmatically built
/// seeds (valid handshakes, whole transcripts) to each corpus.
public func writeSeedsIfRequested(target: String, _ seeds: () -> [[UInt8]]) {
    guard let raw = getenv("FUZZ_WRITE_SEEDS") else { return }
    let directory = String(cString: raw)
    _ = mkdir(directory, 0o755)
    var written = 0
    for seed in seeds() {
        let path = "\(directory)/gen-\(hex(withUnsafeBytes(of: fnv1a(seed).bigEndian) { Array($0) }))"
        guard let file = fopen(path, "wb") else {
            printError("\(target): cannot write \(path)")
            exit(1)
        }
        if !seed.isEmpty {
            _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        }
        fclose(file)
        written += 1
    }
    printError("\(target): wrote \(written) generated seeds to \(directory)")
    exit(0)
}

/// Writes a line to standard error (file descriptor 2; the C `stderr` global is not concurrency-safe).
func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Called from the connection targets' `LLVMFuzzerInitialize`. When `FUZZ_DESCRIBE` names an
/// input file, prints (hex, on standard output) the whole byte stream the connection under test
/// reads for that input, recorded prefix included, and exits. run.sh stores it as the "stream"
/// of a regression vector, so the vector replays without the harness's recordings.
public func describeIfRequested(_ stream: ([UInt8]) -> [UInt8]) {
    guard let raw = getenv("FUZZ_DESCRIBE") else { return }
    let path = String(cString: raw)
    guard let file = fopen(path, "rb") else {
        printError("cannot read \(path)")
        exit(1)
    }
    var input: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if n <= 0 { break }
        input += buffer[0..<n]
    }
    fclose(file)
    let text = Array((hex(stream(input), limit: Int.max) + "\n").utf8)
    _ = text.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    exit(0)
}
