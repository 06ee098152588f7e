public import Logging
import Synchronization
import SparrowCore

/// A logger whose events a test can read back: every level, in order, with their metadata as text.
public final class LogCapture: Sendable {
    public struct Event: Sendable, Hashable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
    }

    private let recorded = Lock<[Event]>([])

    public init() {}

    /// A logger at `trace` that records into this capture.
    public var logger: Logger {
        Logger(label: "test") { _ in Handler(capture: self) }
    }

    /// What was logged so far.
    public var events: [Event] { recorded.withLock { $0 } }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var logLevel = Logger.Level.trace
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let recorded = Event(
                level: event.level, message: event.message.description,
                metadata: merged.mapValues { $0.description })
            capture.recorded.withLock { $0.append(recorded) }
        }
    }
}
