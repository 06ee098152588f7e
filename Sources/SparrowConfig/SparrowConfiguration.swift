import Foundation
public import SparrowCore
import Yams

/// A secret from the configuration (a token, a password). It prints as `<redacted>` wherever it is interpolated
/// into text, so it cannot leak into logs, errors or reports by accident.
public struct Secret: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret itself, for the one place that sends it.
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

/// Sparrow's configuration: one YAML file, validated as a whole when it is loaded.
///
/// Every key but `store` and `gateways` has a default; see `config/README.md` for the reference.
public struct SparrowConfiguration: Sendable {
    /// A frequency cap: at most `max` messages to a number per `window`, counted across campaigns.
    public struct FrequencyCap: Sendable, Hashable {
        public var max: Int
        public var window: Duration
    }

    /// How a gateway takes a message's fields.
    public enum BodyFormat: String, Sendable, Hashable, CaseIterable {
        case json, form, query
    }

    /// An HTTP SMS gateway (the dialect details grow with the transport).
    public struct Gateway: Sendable, Hashable {
        public var name: String
        public var url: String
        public var format: BodyFormat
        public var method: String
        public var pricePerSegment: Double
        /// Carrier ids served; empty serves all.
        public var carriers: [String]
        /// Gateway to fail over to.
        public var backup: String?
        public var maxInFlight: Int
        public var connectTimeout: Duration
        public var timeout: Duration
        public var location: SourceLocation

        public var route: GatewayRoute {
            GatewayRoute(name: name, pricePerSegment: pricePerSegment, carriers: carriers)
        }
    }

    /// The webhook that takes delivery receipts and replies.
    public struct Receipts: Sendable, Hashable {
        public var listen: String
        public var token: Secret?
    }

    /// Path of the file this configuration was read from.
    public var file: String
    /// The store: a SQLite file path, resolved against the configuration file's folder.
    public var store: String
    public var defaultRegion: String?
    public var defaultTimeZone: String
    public var signature: String
    public var optoutSuffix: String
    public var quietHours: QuietHours?
    public var frequencyCap: FrequencyCap?
    public var carriers: [Carrier]
    public var gateways: [Gateway]
    public var receipts: Receipts?

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
        "frequency_cap", "carriers", "gateways", "receipts",
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

        let defaultRegion = try map["default_region"].map { node in
            let region = try node.string().uppercased()
            guard PhoneRegions.isKnown(region) else {
                throw node.error(.invalidValue, "'\(region)' is not a region code (ISO 3166, e.g. CN)")
            }
            return region
        } ?? "CN"
        let defaultTimeZone = try map["default_timezone"].map(TimeZoneValidation.validated) ?? "Asia/Shanghai"
        let carriers = try CarrierTables.read(map["carriers"], folder: folder, environment: root.environment)
        let gateways = try readGateways(map.required("gateways"), carriers: carriers)

        return SparrowConfiguration(
            file: root.file,
            store: try resolve(map.required("store").string(), against: folder),
            defaultRegion: defaultRegion,
            defaultTimeZone: defaultTimeZone,
            signature: try map["signature"]?.string() ?? "",
            optoutSuffix: try map["optout_suffix"]?.string() ?? "",
            quietHours: try readQuietHours(map.entries["quiet_hours"]),
            frequencyCap: try map["frequency_cap"].map(readFrequencyCap),
            carriers: carriers,
            gateways: gateways,
            receipts: try map["receipts"].map(readReceipts))
    }

    /// Default `21:00`–`08:00`; `quiet_hours: off` turns them off.
    private static func readQuietHours(_ node: YAMLNode?) throws -> QuietHours? {
        guard let node else { return QuietHours(start: WallTime(hour: 21, minute: 0)!, end: WallTime(hour: 8, minute: 0)!) }
        if node.isNull || (node.node.scalar != nil && (try? node.bool()) == false) { return nil }
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

    private static func readFrequencyCap(_ node: YAMLNode) throws -> FrequencyCap {
        let map = try node.mapping(keys: ["max", "per"])
        let window = try map.required("per")
        let duration = try window.duration()
        guard duration > .zero else { throw window.error(.invalidValue, "the cap's window must be longer than 0") }
        return FrequencyCap(max: try map.required("max").int(in: 1...1_000_000), window: duration)
    }

    private static func readReceipts(_ node: YAMLNode) throws -> Receipts {
        let map = try node.mapping(keys: ["listen", "token"])
        return Receipts(
            listen: try map["listen"]?.string() ?? "127.0.0.1:8089",
            token: try map["token"].map { Secret(try $0.string()) })
    }

    private static func readGateways(_ node: YAMLNode, carriers: [Carrier]) throws -> [Gateway] {
        let items = try node.list()
        guard !items.isEmpty else { throw node.error(.invalidValue, "at least one gateway is needed") }
        var gateways: [Gateway] = []
        var backups: [(String, YAMLNode)] = []
        let carrierIDs = Set(carriers.map(\.id))
        for item in items {
            let map = try item.mapping(keys: [
                "name", "url", "format", "method", "price_per_segment", "carriers", "backup", "max_in_flight",
                "connect_timeout", "timeout",
            ])
            let nameNode = try map.required("name")
            let name = try nameNode.string()
            guard !gateways.contains(where: { $0.name == name }) else {
                throw nameNode.error(.invalidValue, "duplicate gateway name '\(name)'")
            }
            let urlNode = try map.required("url")
            let url = try urlNode.string()
            guard let parsed = URLComponents(string: url), ["http", "https"].contains(parsed.scheme?.lowercased()),
                parsed.host?.isEmpty == false
            else { throw urlNode.error(.invalidValue, "expected an http:// or https:// URL") }
            var served: [String] = []
            for carrier in try map["carriers"]?.list() ?? [] {
                let id = try carrier.string()
                guard carrierIDs.contains(id) else {
                    let hint = Suggestion.closest(to: id, in: carriers.map(\.id)).map { " (did you mean '\($0)'?)" }
                    throw carrier.error(.invalidValue, "unknown carrier '\(id)'\(hint ?? "")")
                }
                served.append(id)
            }
            if let backup = map["backup"] { backups.append((name, backup)) }
            gateways.append(
                Gateway(
                    name: name, url: url, format: try map.required("format").oneOf(BodyFormat.self),
                    method: try map["method"]?.oneOf(HTTPMethod.self).rawValue ?? "POST",
                    pricePerSegment: try map["price_per_segment"]?.positiveDouble() ?? 0,
                    carriers: served, backup: try map["backup"]?.string(),
                    maxInFlight: try map["max_in_flight"]?.int(in: 1...4096) ?? 16,
                    connectTimeout: try map["connect_timeout"]?.duration() ?? .seconds(3),
                    timeout: try map["timeout"]?.duration() ?? .seconds(10),
                    location: item.location))
        }
        for (name, backup) in backups {
            let target = try backup.string()
            guard target != name, gateways.contains(where: { $0.name == target }) else {
                throw backup.error(.invalidValue, "backup '\(target)' is not another gateway of this file")
            }
        }
        return gateways
    }

    private enum HTTPMethod: String, CaseIterable { case GET, POST, PUT }

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
            throw ConfigError(.unreadable, "the file is not UTF-8", at: SourceLocation(file: path, line: 1, column: nil))
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
