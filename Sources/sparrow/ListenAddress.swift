import ArgumentParser

/// HOST:PORT, as `--listen` and `--metrics-listen` take it; port 0 picks a free one.
struct ListenAddress: ExpressibleByArgument, CustomStringConvertible, Sendable {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"), let port = Int(argument[argument.index(after: colon)...]),
            (0...65_535).contains(port), colon > argument.startIndex
        else { return nil }
        self.init(host: String(argument[..<colon]), port: port)
    }

    var description: String { "\(host):\(port)" }
}
