// zmtp-conformance: the live conformance runner. Everything is in ZMTPConformance; this file
// hands it the arguments and standard output, and exits with its status.
#if canImport(Glibc)
import Glibc
#endif
import ZMTPConformance

// A target that closes the connection mid-write must not end the runner.
signal(SIGPIPE, SIG_IGN)
let status = ConformanceRunner.main(Array(CommandLine.arguments.dropFirst())) { line in
    // One write per line, unbuffered: results show as they come, also through a pipe.
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let count = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if count > 0 { offset += count } else if count < 0 && errno == EINTR { continue } else { break }
    }
}
exit(status)
