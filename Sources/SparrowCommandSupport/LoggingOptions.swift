package import ArgumentParser
import Foundation
package import Logging
import SparrowCore
import Synchronization

/// `--log-level` and `--log-format`, which every command takes: the logs go to standard error, as text or as JSON
/// Lines. The level also comes from `SPARROW_LOG_LEVEL`; without either it is `warning`, so that a command's own
/// output is all a person sees unless something goes wrong.
///
/// Nothing Sparrow logs at `info` or above names a phone number, a message's text or a secret.
package struct LoggingOptions: ParsableArguments {
    package enum Level: String, CaseIterable, ExpressibleByArgument {
        case trace, debug, info, notice, warning, error, critical

        package var level: Logger.Level { Logger.Level(rawValue: rawValue)! }
    }

    package enum Format: String, CaseIterable, ExpressibleByArgument {
        case text, json
    }

    @Option(
        help:
            "Log at this level and above: trace, debug, info, notice, warning, error or critical (default: SPARROW_LOG_LEVEL, else warning)."
    )
    package var logLevel: Level?

    @Option(help: "text or json (one JSON object a line).")
    package var logFormat: Format = .text

    package init() {}

    package func validate() throws {
        if logLevel == nil, let text = ProcessInfo.processInfo.environment["SPARROW_LOG_LEVEL"],
            Level(rawValue: text) == nil
        {
            throw ValidationError(
                "SPARROW_LOG_LEVEL: '\(text)' is not one of \(Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// The level in force: the option's, the environment's, or `warning`.
    package var level: Logger.Level {
        (logLevel ?? ProcessInfo.processInfo.environment["SPARROW_LOG_LEVEL"].flatMap(Level.init(rawValue:)))?.level
            ?? .warning
    }

    /// Sends every logger of the process to standard error, at the level in force. Each command that takes these
    /// options calls it first thing, before any logger is made.
    package func bootstrap() {
        let (level, format) = (self.level, logFormat)
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                switch format {
                case .text: StreamLogHandler.standardError(label: label)
                case .json: JSONLinesLogHandler(label: label)
                }
            handler.logLevel = level
            return handler
        }
    }
}

/// Writes each log event as one JSON object on a line of standard error: `time` (RFC 3339, UTC, with
/// milliseconds), `level`, `label`, `message`, then the metadata's keys in order, values as strings.
struct JSONLinesLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let metadata = event.metadata { merged.merge(metadata) { $1 } }
        var json = JSONWriter(capacity: 256)
        json.object { line in
            line.field("time", Self.now())
            line.field("level", event.level.rawValue)
            line.field("label", label)
            line.field("message", event.message.description)
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
                line.field(named: key, value.description)
            }
        }
        json.newline()
        Self.output.withLock { _ in FileHandle.standardError.write(Data(json.bytes)) }
    }

    /// Whole lines from threads logging at once.
    private static let output = Lock(())

    private static func now() -> String {
        let milliseconds = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))  // after 1970: positive
        let second = Timestamp(secondsSince1970: milliseconds / 1000).description  // …T12:00:00Z
        return second.dropLast() + "." + String(milliseconds % 1000 + 1000).dropFirst() + "Z"
    }
}
