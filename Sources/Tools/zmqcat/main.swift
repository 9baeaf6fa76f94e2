// zmqcat: the command-line ZeroMQ peer. Everything is in ZeroMQCat; this file only hands it the
// process's arguments and standard streams, and exits with the status it returns.
#if canImport(Glibc)
import Glibc
#endif
import ZeroMQCat

Signals.install()
let status = await Zmqcat.main(Array(CommandLine.arguments.dropFirst()), console: .standard)
exit(status.rawValue)
