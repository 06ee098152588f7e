import Foundation
public import SparrowCore
import Yams

/// Sparrow's configuration: one YAML file, validated as a whole when it is loaded.
///
/// Every key but `store` and `gateways` has a default; see `docs/configuration.md` for the reference.
public struct SparrowConfiguration: Sendable {
    /// A frequency cap: at most `max` messages to a number per `window`, counted across campaigns.
    public struct FrequencyCap: Sendable, Hashable {
        public var max: Int
        public var window: Duration
    }

    /// The webhook that takes delivery receipts and replies (`sparrow receipts`).
    public struct Receipts: Sendable, Hashable {
        public var host: String
        /// 0 picks a free port.
        public var port: Int
        /// A token callers send as `Authorization: Bearer …`.
        public var token: Secret?
        /// A secret callers sign with instead: HMAC-SHA256 of `timestamp + "." + body`.
        public var hmacSecret: Secret?
        /// Bodies larger than this many bytes are refused.
        public var maxBody: Int
        /// Replies that unsubscribe their sender.
        public var unsubscribeKeywords: [String]
        /// Requests a second each caller (by address) may make, and how many at once.
        public var clientRate: Double
        public var clientBurst: Int

        /// `HOST:PORT`, as the configuration writes it.
        public var listen: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

        public init(
            host: String = "127.0.0.1", port: Int = 8089, token: Secret? = nil, hmacSecret: Secret? = nil,
            maxBody: Int = 65_536, unsubscribeKeywords: [String] = UnsubscribeKeywords.defaults,
            clientRate: Double = 10_000, clientBurst: Int = 20_000
        ) {
            self.clientRate = clientRate
            self.clientBurst = clientBurst
            self.host = host
            self.port = port
            self.token = token
            self.hmacSecret = hmacSecret
            self.maxBody = maxBody
            self.unsubscribeKeywords = unsubscribeKeywords
        }
    }

    /// Tracked links (`{{link}}` in a template): each recipient's short link, and where a click on it goes.
    public struct Links: Sendable, Hashable {
        /// What every link starts with, ending in `/`: the receipts server's `/s/` behind the store's short domain.
        public var base: String
        /// Where a click goes, unless `send --link-target` says otherwise.
        public var target: String?
        /// Query parameters added to the target (`utm_source`, `utm_medium`, …), in order.
        public var utm: [String: String]
        public var utmOrder: [String]

        /// The parameters in their configured order.
        public var utmPairs: [(String, String)] { utmOrder.map { ($0, utm[$0]!) } }

        /// Whether `text` may be a link's base or target: an http or https URL without spaces.
        public static func isURL(_ text: String) -> Bool {
            (text.hasPrefix("https://") || text.hasPrefix("http://")) && !text.contains(where: \.isWhitespace)
        }
    }

    /// Path of the file this configuration was read from.
    public var file: String
    /// The store: a SQLite file, or a PostgreSQL database that several processes share.
    public var store: StoreLocation
    public var defaultRegion: String?
    public var defaultTimeZone: String
    public var signature: String
    public var optoutSuffix: String
    public var quietHours: QuietHours?
    public var frequencyCap: FrequencyCap?
    public var carriers: [Carrier]
    public var gateways: [Gateway]
    public var receipts: Receipts?
    public var links: Links?
    /// The templates the gateways' providers approved, by name.
    public var templates: [String: ApprovedTemplate] = [:]
    /// The lifecycle flows (`sparrow flows`); nil when the configuration has none.
    public var flows: FlowsConfiguration?
    /// The PostgreSQL database through which every process naming it holds each carrier to one rate
    /// (`shared_rates`); nil when this process keeps its carriers' rates alone.
    public var sharedRates: PostgresURL?
    public var lint = LintSettings()
    /// Where `quiet_hours` is written, when it is.
    public var quietHoursLocation: SourceLocation?
    /// Where each approved template's text is written, by name.
    public var templateLocations: [String: SourceLocation] = [:]
    /// When a gateway's circuit opens (failing traffic over to its backup) and how long it stays open.
    public var circuitBreaker = CircuitBreaker.Configuration()

    /// Things that load but deserve a word on stderr (a gateway without TLS verification), with their places.
    public var warnings: [String] {
        gateways.filter { !$0.connection.verifyTLS }.map { gateway in
            "\(gateway.location): warning: TLS verification is off for gateway '\(gateway.name)'"
        }
    }

    /// The planner's view of this configuration, with `template` as the message.
    public func planSettings(template: MessageTemplate) -> PlanSettings {
        PlanSettings(
            template: template, signature: signature, optoutSuffix: optoutSuffix, defaultRegion: defaultRegion,
            defaultTimeZone: defaultTimeZone, quietHours: quietHours, carriers: CarrierDirectory(carriers),
            gateways: gateways.map(\.route))
    }
}

extension SparrowConfiguration {
    static let topLevelKeys = [
        "store", "default_region", "default_timezone", "signature", "optout_suffix", "quiet_hours",
        "frequency_cap", "carriers", "gateways", "receipts", "circuit_breaker", "templates", "links", "flows", "lint",
        "shared_rates",
    ]

    /// Loads and validates the configuration at `path`.
    /// - Parameter environment: where `${NAME}` values come from; the process environment when nil.
    /// - Throws: `ConfigError` naming the file, line and column of the first fault.
    public static func load(
        path: String, environment: [String: String]? = nil
    ) throws(ConfigError) -> SparrowConfiguration {
        do {
            let root = try YAMLFile.read(path, environment: environment ?? ProcessInfo.processInfo.environment)
            return try parse(root)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(.unreadable, "\(error)", at: SourceLocation(file: path, line: 1, column: nil))
        }
    }

    /// Parses configuration text as if it were the file `path`, which relative paths are resolved against.
    public static func parse(
        yaml: String, path: String, environment: [String: String] = [:]
    ) throws(ConfigError) -> SparrowConfiguration {
        do {
            return try parse(YAMLFile.parse(yaml, file: path, environment: environment))
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(.unreadable, "\(error)", at: SourceLocation(file: path, line: 1, column: nil))
        }
    }

    private static func parse(_ root: YAMLNode) throws -> SparrowConfiguration {
        let map = try root.mapping(keys: topLevelKeys)
        let folder = (root.file as NSString).deletingLastPathComponent

        let defaultRegion =
            try map["default_region"].map { node in
                let region = try node.string().uppercased()
                guard PhoneRegions.isKnown(region) else {
                    throw node.error(.invalidValue, "'\(region)' is not a region code (ISO 3166, e.g. CN)")
                }
                return region
            } ?? "CN"
        let defaultTimeZone = try map["default_timezone"].map(TimeZoneValidation.validated) ?? "Asia/Shanghai"
        let carriers = try CarrierTables.read(map["carriers"], folder: folder, environment: root.environment)
        let gateways = try Gateway.readAll(map.required("gateways"), carriers: carriers, folder: folder)

        var configuration = SparrowConfiguration(
            file: root.file,
            store: try readStore(map.required("store"), folder: folder),
            defaultRegion: defaultRegion,
            defaultTimeZone: defaultTimeZone,
            signature: try map["signature"]?.string() ?? "",
            optoutSuffix: try map["optout_suffix"]?.string() ?? "",
            quietHours: try readQuietHours(map.entries["quiet_hours"]),
            frequencyCap: try map["frequency_cap"].map(readFrequencyCap),
            carriers: carriers,
            gateways: gateways,
            receipts: try map["receipts"].map(readReceipts))
        if let breaker = map["circuit_breaker"] { configuration.circuitBreaker = try readCircuitBreaker(breaker) }
        configuration.templates = try readTemplates(map["templates"], gateways: gateways)
        configuration.links = try map["links"].map(readLinks)
        configuration.flows = try map["flows"].map {
            try readFlows($0, folder: folder, templates: configuration.templates)
        }
        configuration.quietHoursLocation = map.entries["quiet_hours"]?.location
        if let lint = map["lint"] { configuration.lint = try readLint(lint) }
        configuration.templateLocations = try templateLocations(map["templates"])
        configuration.sharedRates = try map["shared_rates"].map { try readDatabase($0, key: "shared_rates") }
        return configuration
    }

    /// A SQLite file's path, resolved against the configuration's folder, or a `postgres://` URL.
    private static func readStore(_ node: YAMLNode, folder: String) throws -> StoreLocation {
        do {
            return try StoreLocation(try node.string(), relativeTo: folder)
        } catch let invalid as PostgresURL.Invalid {
            // The reason alone, never the URL: it may hold a password.
            throw node.error(.invalidValue, "store: \(invalid.reason)")
        }
    }

    private static func readDatabase(_ node: YAMLNode, key: String) throws -> PostgresURL {
        do {
            return try PostgresURL(node.string())
        } catch let invalid as PostgresURL.Invalid {
            // The reason alone, never the URL: it may hold a password.
            throw node.error(.invalidValue, "\(key): \(invalid.reason)")
        }
    }

    private static func readLinks(_ node: YAMLNode) throws -> Links {
        let map = try node.mapping(keys: ["base", "target", "utm"])
        func url(_ key: String) throws -> String? {
            guard let value = map[key] else { return nil }
            let text = try value.string()
            guard Links.isURL(text) else {
                throw value.error(.invalidValue, "\(key) must be an http or https URL")
            }
            return text
        }
        _ = try map.required("base")
        let base = try url("base")!
        guard base.hasSuffix("/") else {
            throw map["base"]!.error(.invalidValue, "base must end with '/': the code follows it")
        }
        var utm: [String: String] = [:]
        var order: [String] = []
        if let node = map["utm"] {
            for (key, value) in try node.openMapping() {
                utm[key] = try value.string()
                order.append(key)
            }
        }
        return Links(base: base, target: try url("target"), utm: utm, utmOrder: order)
    }

    private static func readCircuitBreaker(_ node: YAMLNode) throws -> CircuitBreaker.Configuration {
        let map = try node.mapping(keys: ["failures", "cool_down", "max_cool_down"])
        let defaults = CircuitBreaker.Configuration()
        let failures = try map["failures"]?.int(in: 1...1_000_000) ?? defaults.failureThreshold
        func positive(_ key: String) throws -> Duration? {
            guard let value = map[key] else { return nil }
            let duration = try value.duration()
            guard duration > .zero else { throw value.error(.invalidValue, "\(key) must be longer than 0") }
            return duration
        }
        let coolDown = try positive("cool_down") ?? defaults.coolDown
        let maxCoolDown = try positive("max_cool_down") ?? max(defaults.maxCoolDown, coolDown)
        guard maxCoolDown >= coolDown else {
            throw map["max_cool_down"]!.error(.invalidValue, "max_cool_down must be at least cool_down")
        }
        return CircuitBreaker.Configuration(failureThreshold: failures, coolDown: coolDown, maxCoolDown: maxCoolDown)
    }

    /// Default `21:00`–`08:00`; `quiet_hours: off` turns them off.
    private static func readQuietHours(_ node: YAMLNode?) throws -> QuietHours? {
        guard let node else {
            return QuietHours(start: WallTime(hour: 21, minute: 0)!, end: WallTime(hour: 8, minute: 0)!)
        }
        if node.isNull || (node.node.scalar != nil && (try? node.bool()) == false) { return nil }
        return try readWindow(node)
    }

    /// `{ start: "21:00", end: "08:00" }`.
    static func readWindow(_ node: YAMLNode) throws -> QuietHours {
        let map = try node.mapping(keys: ["start", "end"])
        func time(_ key: String) throws -> WallTime {
            let value = try map.required(key)
            let text = try value.string()
            guard let time = WallTime(text) else { throw value.error(.invalidValue, "'\(text)' is not a time (HH:MM)") }
            return time
        }
        let start = try time("start")
        let end = try time("end")
        guard start != end else { throw node.error(.invalidValue, "quiet hours need different start and end times") }
        return QuietHours(start: start, end: end)
    }

    private static func readLint(_ node: YAMLNode) throws -> LintSettings {
        let map = try node.mapping(keys: ["strict", "link_domains"])
        return LintSettings(
            strict: try map["strict"]?.bool() ?? false,
            linkDomains: try map["link_domains"]?.list().map { try $0.string().lowercased() } ?? [])
    }

    private static func readFrequencyCap(_ node: YAMLNode) throws -> FrequencyCap {
        let map = try node.mapping(keys: ["max", "per"])
        let window = try map.required("per")
        let duration = try window.duration()
        guard duration > .zero else { throw window.error(.invalidValue, "the cap's window must be longer than 0") }
        return FrequencyCap(max: try map.required("max").int(in: 1...1_000_000), window: duration)
    }

    private static func readReceipts(_ node: YAMLNode) throws -> Receipts {
        let map = try node.mapping(keys: [
            "listen", "token", "hmac_secret", "max_body", "unsubscribe_keywords", "rate_limit",
        ])
        var receipts = Receipts()
        if let listen = map["listen"] { (receipts.host, receipts.port) = try listenAddress(listen) }
        receipts.token = try map["token"].map(secret)
        receipts.hmacSecret = try map["hmac_secret"].map(secret)
        if let maxBody = map["max_body"] { receipts.maxBody = try maxBody.byteCount(in: 1...(16 << 20)) }
        if let limit = map["rate_limit"] {
            let limits = try limit.mapping(keys: ["per_client", "burst"])
            let rateNode = try limits.required("per_client")
            receipts.clientRate = try rateNode.positiveDouble()
            guard receipts.clientRate > 0 else { throw rateNode.error(.invalidValue, "a rate must be above 0") }
            receipts.clientBurst = try limits["burst"]?.int(in: 1...1_000_000) ?? max(1, Int(receipts.clientRate * 2))
        }
        if let keywords = map["unsubscribe_keywords"] {
            receipts.unsubscribeKeywords = try keywords.list().map { keyword in
                let text = try keyword.string()
                guard !text.trimmingSpaces.isEmpty else {
                    throw keyword.error(.invalidValue, "a keyword cannot be empty")
                }
                return text
            }
        }
        return receipts
    }

    /// `HOST:PORT` or `[IPv6]:PORT`; port 0 picks a free one.
    static func listenAddress(_ node: YAMLNode) throws -> (host: String, port: Int) {
        let text = try node.string()
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port)
        else { throw node.error(.invalidValue, "expected HOST:PORT, e.g. 127.0.0.1:8089") }
        var host = text[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { throw node.error(.invalidValue, "expected HOST:PORT, e.g. 127.0.0.1:8089") }
        return (String(host), port)
    }

    /// A token or a secret; an empty one would admit anyone who sends an empty one.
    static func secret(_ node: YAMLNode) throws -> Secret {
        let value = try node.string()
        guard !value.isEmpty else { throw node.error(.invalidValue, "a secret cannot be empty") }
        return Secret(value)
    }

    static func resolve(_ path: String, against folder: String) -> String {
        path.hasPrefix("/") || folder.isEmpty ? path : folder + "/" + path
    }
}

enum TimeZoneValidation {
    static func validated(_ node: YAMLNode) throws -> String {
        let identifier = try node.string()
        guard TimeZone(identifier: identifier) != nil else {
            throw node.error(.invalidValue, "'\(identifier)' is not an IANA time zone (is tzdata installed?)")
        }
        return identifier
    }
}

/// Reading a YAML file into a located root node.
enum YAMLFile {
    static func read(_ path: String, environment: [String: String]) throws -> YAMLNode {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(.unreadable, "cannot read the file", at: SourceLocation(file: path, line: 1, column: nil))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(
                .unreadable, "the file is not UTF-8", at: SourceLocation(file: path, line: 1, column: nil))
        }
        return try parse(text, file: path, environment: environment)
    }

    static func parse(_ text: String, file: String, environment: [String: String]) throws -> YAMLNode {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ConfigError(.syntax, "the file is empty", at: SourceLocation(file: file, line: 1, column: nil))
            }
            return YAMLNode(node: node, file: file, environment: environment)
        } catch let error as YamlError {
            throw syntaxError(error, file: file)
        }
    }

    private static func syntaxError(_ error: YamlError, file: String) -> ConfigError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let what = context.map { "\(problem) \($0.text)" } ?? problem
            return ConfigError(.syntax, what, at: SourceLocation(file: file, line: mark.line, column: mark.column))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigError(
                .syntax, "duplicate key '\(duplicates.joined(separator: "', '"))'",
                at: SourceLocation(file: file, line: context.mark.line, column: context.mark.column))
        default:
            return ConfigError(.syntax, "\(error)", at: SourceLocation(file: file, line: 1, column: nil))
        }
    }
}

/// Where Sparrow keeps its journal, receipts and lists (`store`).
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    /// A SQLite file, the embedded default: one process sends a campaign.
    case file(String)
    /// A PostgreSQL database: processes on several hosts share it.
    case postgres(PostgresURL)

    /// `text` as `store` takes it: a `postgres://` (or `postgresql://`) URL, or a SQLite file's path, resolved against
    /// `folder` when it is relative.
    public init(_ text: String, relativeTo folder: String) throws(PostgresURL.Invalid) {
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") else {
            self = .file(SparrowConfiguration.resolve(text, against: folder))
            return
        }
        self = .postgres(try PostgresURL(text))
    }

    /// The file's path, or the database's URL without its password.
    public var description: String {
        switch self {
        case .file(let path): path
        case .postgres(let url): url.description
        }
    }
}
