#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import ArgumentParser

/// `zmqcat options`: the names `--sockopt` takes, with their values and meanings.
struct OptionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "options",
        abstract: "List the socket options --sockopt NAME=VALUE sets, by libzmq's names.")

    func execute(_ console: Console) -> ExitStatus {
        console.output.write(Array(SocketOptionName.listing.utf8))
        return .success
    }
}
#endif  // Tools
