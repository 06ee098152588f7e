import ArgumentParser

/// HOST:PORT, as `--listen` and `--metrics-listen` take it; port 0 picks a free one.
package struct ListenAddress: ExpressibleByArgument, CustomStringConvertible, Sendable {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    package init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"), let port = Int(argument[argument.index(after: colon)...]),
            (0...65_535).contains(port), colon > argument.startIndex
        else { return nil }
        self.init(host: String(argument[..<colon]), port: port)
    }

    package var description: String { "\(host):\(port)" }
}
