// zmqcat: the command-line ZeroMQ peer. Everything is in ZeroMQCat; this file only hands it the
// process's arguments and standard streams, and exits with the status it returns.
#if canImport(Glibc)
import Glibc
#endif
#if Tools
import ZeroMQCat

Signals.install()
let status = await Zmqcat.main(Array(CommandLine.arguments.dropFirst()), console: .standard)
exit(status.rawValue)
#else
// Built without the trait that brings in swift-argument-parser: say how to get the real one.
print("zmqcat needs the package trait \"Tools\": swift build --traits Tools --product zmqcat")
exit(1)
#endif
