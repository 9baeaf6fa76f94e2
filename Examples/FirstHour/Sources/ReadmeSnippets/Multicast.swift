// The README's multicast snippet, in a file of its own for its `import ZeroMQPGM` (see Snippets.swift).
import ZeroMQ
import ZeroMQPGM

// "Multicast: pgm:// and epgm://"
func multicast() throws {
    let context = try Context()
    context.register(PGMTransport.epgm)          // and PGMTransport.pgm for raw IP protocol 113 (root)
    let publisher = try context.socket(.pub)
    publisher.options.rate = 100_000             // kbit/s; libzmq's default (100) is very slow
    try publisher.connect("epgm://192.168.1.10;239.192.1.1:5555")   // interface (address or name);group:port
    let subscriber = try context.socket(.sub)   // on another host of that network
    subscriber.options.rate = 100_000           // also sizes the receive window: set it on both sides
    try subscriber.subscribe("")
    try subscriber.connect("epgm://eth0;239.192.1.1:5555")
}
