/// A PostgreSQL database's address as libpq reads it:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&sslrootcert=FILE]` (`postgresql://` too; an IPv6
/// host in brackets; user, password and database percent-encoded where they must be). The modes are libpq's:
/// `disable`; `prefer` (the default: TLS when the server offers it) and `require`, which check no certificate;
/// `verify-ca`, which checks that the server's certificate is signed by a trusted CA (`sslrootcert`, or the system's),
/// and `verify-full`, which also checks that it names the host.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    public enum TLS: String, Sendable, Hashable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLS
    /// The CA certificates (PEM) that `verify-ca` and `verify-full` trust; nil for the system's.
    public var rootCertificates: String?

    /// - Throws: `PostgresURL.Invalid` naming what is wrong, without the password.
    public init(_ text: String) throws(Invalid) {
        func invalid(_ reason: String) -> Invalid { Invalid(url: Self.hidingPassword(text), reason: reason) }
        guard let schemeEnd = text.firstRange(of: "://"),
            ["postgres", "postgresql"].contains(text[..<schemeEnd.lowerBound])
        else { throw invalid("not a postgres:// URL") }
        var rest = text[schemeEnd.upperBound...]
        var query = Substring("")
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let at = rest.lastIndex(of: "@") else { throw invalid("no user") }
        let credentials = rest[..<at]
        rest = rest[rest.index(after: at)...]
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let address = rest[..<slash]
        guard let userPart = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first,
            let user = Self.decoded(userPart), !user.isEmpty
        else { throw invalid("no user") }
        self.user = user
        if let colon = credentials.firstIndex(of: ":") {
            guard let password = Self.decoded(credentials[credentials.index(after: colon)...]) else {
                throw invalid("the password is not percent-encoded")
            }
            self.password = password
        }
        var hostPart = address
        var portPart: Substring?
        if address.hasPrefix("[") {
            guard let close = address.firstIndex(of: "]") else { throw invalid("an IPv6 host without its ']'") }
            hostPart = address[address.index(after: address.startIndex)..<close]
            let after = address[address.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("junk after the host") }
                portPart = after.dropFirst()
            }
        } else if let colon = address.lastIndex(of: ":") {
            hostPart = address[..<colon]
            portPart = address[address.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { throw invalid("no host") }
        host = String(hostPart)
        if let portPart {
            guard let port = Int(portPart), (1...65_535).contains(port) else {
                throw invalid("port '\(portPart)' is not a number from 1 to 65535")
            }
            self.port = port
        } else {
            port = 5432
        }
        guard slash < rest.endIndex, let database = Self.decoded(rest[rest.index(after: slash)...]), !database.isEmpty
        else { throw invalid("no database") }
        self.database = database
        tls = .prefer
        for parameter in query.split(separator: "&") {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = pair.count > 1 ? Self.decoded(pair[1]) ?? "" : ""
            switch pair[0] {
            case "sslmode":
                guard let mode = value == "allow" ? .prefer : TLS(rawValue: value) else {
                    throw invalid("sslmode '\(value)' is none of disable, prefer, require, verify-ca, verify-full")
                }
                tls = mode
            case "sslrootcert": rootCertificates = value
            default: continue  // libpq's other parameters do not concern Sparrow
            }
        }
    }

    /// The URL without its password, for messages.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(shownHost):\(port)/\(database)"
    }

    /// A URL that names no database: why, and the URL with its password hidden.
    public struct Invalid: Error, Hashable, CustomStringConvertible {
        public let url: String
        public let reason: String

        public var description: String { "\(url): \(reason)" }
    }

    /// `text` with whatever may be a password (between the user's `:` and the last `@`) as `…`.
    private static func hidingPassword(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@") else { return text }
        let credentials = text.firstRange(of: "://").map { text[$0.upperBound..<at] } ?? text[..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":…" + String(text[at...])
    }

    /// `text` with its `%XX` escapes decoded; nil when an escape is broken or the bytes are not UTF-8.
    private static func decoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(value)
            utf8 = utf8.dropFirst(2)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
