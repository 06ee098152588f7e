public import PostgresNIO
public import SparrowCore

/// Where a PostgreSQL database is (`PostgresURL`), as postgres-nio's client connects to it.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public let url: PostgresURL
    public let configuration: PostgresClient.Configuration

    public init(_ url: PostgresURL) {
        self.url = url
        let tls: PostgresClient.Configuration.TLS =
            switch url.tls {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
        configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: tls)
    }

    /// - Throws: `PostgresURL.Invalid`.
    public init(_ text: String) throws {
        self.init(try PostgresURL(text))
    }

    /// The URL without its password.
    public var description: String { url.description }
}
