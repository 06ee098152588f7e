/// A secret from the configuration (a token, a password). It prints as `<redacted>` wherever it is interpolated
/// into text, so it cannot leak into logs, errors or reports by accident.
public struct Secret: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret itself, for the one place that sends it.
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
