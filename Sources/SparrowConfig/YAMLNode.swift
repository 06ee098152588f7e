import SparrowCore
import Yams

/// A YAML node with the file it came from, read into typed values with located errors. Scalars go through
/// `${NAME}` interpolation from the environment (`${NAME:-fallback}` gives a default).
struct YAMLNode {
    let node: Node
    let file: String
    let environment: [String: String]

    var location: SourceLocation {
        let mark = node.mark
        return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column)
    }

    func error(_ code: ConfigError.Code, _ message: String) -> ConfigError {
        ConfigError(code, message, at: location)
    }

    /// Where a scalar's text itself begins: after its opening quote, when it has one.
    var textLocation: SourceLocation {
        var location = self.location
        if case .scalar(let scalar) = node, scalar.style == .singleQuoted || scalar.style == .doubleQuoted {
            location.column = location.column.map { $0 + 1 }
        }
        return location
    }

    var isNull: Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    var isSequence: Bool {
        if case .sequence = node { return true }
        return false
    }

    /// The node as a mapping whose keys must come from `keys`; an unknown key is an error with a suggestion.
    func mapping(keys: [String]) throws -> YAMLMapping {
        guard case .mapping(let mapping) = node else { throw error(.invalidValue, "expected a mapping") }
        var entries: [String: YAMLNode] = [:]
        for (keyNode, value) in mapping {
            let key = YAMLNode(node: keyNode, file: file, environment: environment)
            guard let name = keyNode.scalar?.string else { throw key.error(.invalidValue, "keys must be strings") }
            guard keys.contains(name) else {
                let hint = Suggestion.closest(to: name, in: keys).map { " (did you mean '\($0)'?)" } ?? ""
                throw key.error(.unknownKey, "unknown key '\(name)'\(hint)")
            }
            entries[name] = YAMLNode(node: value, file: file, environment: environment)
        }
        return YAMLMapping(entries: entries, owner: self)
    }

    /// The node as a mapping with keys of the user's choosing, in the order written (field maps, headers).
    func openMapping() throws -> [(key: String, value: YAMLNode)] {
        guard case .mapping(let mapping) = node else { throw error(.invalidValue, "expected a mapping") }
        return try mapping.map { keyNode, value in
            let key = YAMLNode(node: keyNode, file: file, environment: environment)
            guard let name = keyNode.scalar?.string, !name.isEmpty else {
                throw key.error(.invalidValue, "keys must be non-empty strings")
            }
            return (name, YAMLNode(node: value, file: file, environment: environment))
        }
    }

    func list() throws -> [YAMLNode] {
        guard case .sequence(let sequence) = node else { throw error(.invalidValue, "expected a list") }
        return sequence.map { YAMLNode(node: $0, file: file, environment: environment) }
    }

    /// The scalar's text after `${NAME}` interpolation.
    func string() throws -> String {
        try interpolate(verbatim())
    }

    /// The scalar as written, without `${NAME}` replaced: for text whose own placeholders look alike (an Alibaba
    /// Cloud template's `${order}`).
    func verbatim() throws -> String {
        guard case .scalar(let scalar) = node else { throw error(.invalidValue, "expected a string") }
        return scalar.string
    }

    func int(in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        guard let value = Int(try string()), range.contains(value) else {
            throw error(.invalidValue, "expected a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func positiveDouble() throws -> Double {
        guard let value = Double(try string()), value.isFinite, value >= 0 else {
            throw error(.invalidValue, "expected a number ≥ 0")
        }
        return value
    }

    func bool() throws -> Bool {
        switch try string() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(.invalidValue, "expected true or false")
        }
    }

    func duration() throws -> Duration {
        let text = try string()
        guard let duration = DurationText.parse(text) else {
            throw error(.invalidValue, "invalid duration '\(text)' (write e.g. 500ms, 30s, 5m, 24h)")
        }
        return duration
    }

    /// A size in bytes: `65536`, `64KiB` or `1MiB`.
    func byteCount(in range: ClosedRange<Int>) throws -> Int {
        let text = try string()
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let unit: Int? =
            switch text.dropFirst(digits.count) {
            case "", "B": 1
            case "KiB": 1 << 10
            case "MiB": 1 << 20
            default: nil
            }
        guard let unit, let count = Int(digits), count <= range.upperBound / unit, range.contains(count * unit) else {
            throw error(
                .invalidValue,
                "expected a size from \(range.lowerBound) B to \(range.upperBound >> 20)MiB, e.g. 65536, 64KiB or 1MiB")
        }
        return count * unit
    }

    func oneOf<Value: RawRepresentable<String> & CaseIterable>(_ type: Value.Type) throws -> Value {
        let text = try string()
        guard let value = Value(rawValue: text) else {
            let names = Value.allCases.map(\.rawValue)
            throw error(.invalidValue, "'\(text)' is not one of \(names.joined(separator: ", "))")
        }
        return value
    }

    private func interpolate(_ text: String) throws -> String {
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            let afterDollar = rest.index(after: dollar)
            guard afterDollar < rest.endIndex, rest[afterDollar] == "{" else {
                result += rest[...dollar]
                rest = rest[afterDollar...]
                continue
            }
            result += rest[..<dollar]
            let nameStart = rest.index(after: afterDollar)
            guard let close = rest[nameStart...].firstIndex(of: "}") else {
                throw error(.invalidValue, "unterminated ${ in value")
            }
            let reference = rest[nameStart..<close]
            let name: Substring
            var fallback: Substring?
            if let colon = reference.firstIndex(of: ":"), reference[colon...].hasPrefix(":-") {
                name = reference[..<colon]
                fallback = reference[reference.index(colon, offsetBy: 2)...]
            } else {
                name = reference
            }
            if let value = environment[String(name)], !value.isEmpty {
                result += value
            } else if let fallback {
                result += fallback
            } else {
                throw error(.missingEnvironment, "environment variable '\(name)' is not set")
            }
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }
}

/// A mapping whose keys were checked against a schema.
struct YAMLMapping {
    let entries: [String: YAMLNode]
    let owner: YAMLNode

    /// The value of `key`, or nil when it is absent or null.
    subscript(key: String) -> YAMLNode? {
        guard let node = entries[key], !node.isNull else { return nil }
        return node
    }

    func required(_ key: String) throws -> YAMLNode {
        guard let node = self[key] else { throw owner.error(.missingKey, "missing key '\(key)'") }
        return node
    }
}
