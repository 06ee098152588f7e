import Foundation
public import PostgresNIO

/// Where a PostgreSQL database is, from a `postgres://` URL:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`, the form libpq reads.
/// TLS is preferred when `sslmode` is not given, as libpq does: used when the server offers it.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public let configuration: PostgresClient.Configuration
    /// The URL without its password, for messages.
    public let description: String

    /// - Throws: `PostgresLocation.Invalid` naming what is wrong with `url`.
    public init(_ url: String) throws {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme) else {
            throw Invalid(url: url, reason: "not a postgres:// URL")
        }
        guard let host = parts.host, !host.isEmpty else { throw Invalid(url: url, reason: "no host") }
        guard let user = parts.user, !user.isEmpty else { throw Invalid(url: url, reason: "no user") }
        let database = String(parts.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw Invalid(url: url, reason: "no database") }
        let mode = parts.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch mode {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: throw Invalid(url: url, reason: "sslmode '\(mode)' is none of disable, prefer, require")
        }
        configuration = PostgresClient.Configuration(
            host: host, port: parts.port ?? 5432, username: user, password: parts.password, database: database,
            tls: tls)
        description = "postgres://\(user)@\(host):\(parts.port ?? 5432)/\(database)"
    }

    /// A URL that names no database Sparrow can reach.
    public struct Invalid: Error, CustomStringConvertible {
        public let url: String
        public let reason: String

        public var description: String {
            var shown = URLComponents(string: url)
            if shown?.password != nil { shown?.password = "…" }
            return "\(shown?.string ?? url): \(reason)"
        }
    }
}
