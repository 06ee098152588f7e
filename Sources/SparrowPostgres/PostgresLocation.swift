import NIOSSL
public import PostgresNIO
public import SparrowCore

/// Where a PostgreSQL database is (`PostgresURL`), as postgres-nio's client connects to it.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public let url: PostgresURL
    public let configuration: PostgresClient.Configuration

    public init(_ url: PostgresURL) {
        self.url = url
        var checks = TLSConfiguration.makeClientConfiguration()
        switch url.tls {
        // As libpq: encryption alone, unless `require` names a CA to trust (then it is `verify-ca`).
        case .require where url.rootCertificates != nil: checks.certificateVerification = .noHostnameVerification
        case .disable, .prefer, .require: checks.certificateVerification = .none
        case .verifyCA: checks.certificateVerification = .noHostnameVerification
        case .verifyFull: checks.certificateVerification = .fullVerification
        }
        if let file = url.rootCertificates { checks.trustRoots = .file(file) }
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: url.tls == .disable ? .disable : url.tls == .prefer ? .prefer(checks) : .require(checks))
        // A worker that vanishes inside a transaction (its host lost) must not hold a row lock until the server
        // notices its connection is gone, hours later: its session ends after 5 s idle in a transaction. A lock
        // another session holds longer than 10 s fails the statement instead of waiting on.
        configuration.options.additionalStartupParameters = [
            ("idle_in_transaction_session_timeout", "5s"), ("lock_timeout", "10s"),
        ]
        self.configuration = configuration
    }

    /// - Throws: `PostgresURL.Invalid`.
    public init(_ text: String) throws {
        self.init(try PostgresURL(text))
    }

    /// The URL without its password.
    public var description: String { url.description }
}
