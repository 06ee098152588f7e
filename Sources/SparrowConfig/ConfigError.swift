/// Where something stands in a configuration file: `config/sparrow.yaml:14:7`.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based, like Yams' `Mark`.
    public var line: Int
    public var column: Int?

    public init(file: String, line: Int, column: Int?) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { column.map { "\(file):\(line):\($0)" } ?? "\(file):\(line)" }
}

/// A configuration that cannot be used, with where and why. Its description is the whole message a user sees:
/// `config/sparrow.yaml:14:7: unknown key 'rate_limt' (did you mean 'rate_limit'?)`. Secrets never appear in
/// it: a value is quoted only for keys that hold no secret.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String {
            case syntax, unknownKey = "unknown-key", missingKey = "missing-key", invalidValue = "invalid-value"
            case unreadable, missingEnvironment = "missing-environment"
        }
        private let wrapped: Wrapped
        public var description: String { wrapped.rawValue }

        public static var syntax: Self { .init(wrapped: .syntax) }
        public static var unknownKey: Self { .init(wrapped: .unknownKey) }
        public static var missingKey: Self { .init(wrapped: .missingKey) }
        public static var invalidValue: Self { .init(wrapped: .invalidValue) }
        public static var unreadable: Self { .init(wrapped: .unreadable) }
        public static var missingEnvironment: Self { .init(wrapped: .missingEnvironment) }
    }

    public var code: Code
    public var message: String
    public var location: SourceLocation

    public init(_ code: Code, _ message: String, at location: SourceLocation) {
        self.code = code
        self.message = message
        self.location = location
    }

    public var description: String { "\(location): \(message)" }
}
