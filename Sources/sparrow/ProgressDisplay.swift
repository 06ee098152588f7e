import Dispatch
import Foundation
import SparrowDispatch

/// Progress of a running campaign on stderr: a bar with rate and ETA redrawn in place on a terminal, a line every
/// ten seconds otherwise (a log).
struct ProgressDisplay: Sendable {
    let progress: SendProgress
    /// The input's size in bytes, when it is a regular file: the bar's whole.
    let inputSize: Int?
    private let isTerminal = isatty(2) != 0

    init(_ progress: SendProgress, inputSize: Int?) {
        self.progress = progress
        self.inputSize = inputSize
    }

    /// Shows progress until cancelled, then clears the bar.
    func run() async {
        let clock = ContinuousClock()
        let start = clock.now
        let interval: Duration = isTerminal ? .milliseconds(250) : .seconds(10)
        while (try? await clock.sleep(for: interval)) != nil {
            let seconds = (clock.now - start) / .seconds(1)
            let line = Self.line(progress.snapshot, seconds: seconds, inputSize: inputSize)
            printError(isTerminal ? "\r\u{1B}[2K" + line : "sparrow: " + line, newline: !isTerminal)
        }
        if isTerminal { printError("\r\u{1B}[2K", newline: false) }
    }

    static func line(_ snapshot: SendProgress.Snapshot, seconds: Double, inputSize: Int?) -> String {
        let rate = seconds > 0 ? Double(snapshot.answered) / seconds : 0
        var parts: [String] = []
        if let inputSize, inputSize > 0 {
            let done = min(1, Double(snapshot.inputBytes) / Double(inputSize))
            let width = 24
            let filled = Int(done * Double(width))
            parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]")
            parts.append("\(Int(done * 100))%")
            if done > 0.01, done < 1 { parts.append("ETA \(Int(seconds / done - seconds)) s") }
        }
        parts.append("\(snapshot.rows) rows")
        parts.append("\(snapshot.accepted) accepted, \(snapshot.failed) failed, \(snapshot.unknown) unknown")
        parts.append("\(Int(rate)) msg/s")
        return parts.joined(separator: "  ")
    }
}

/// Turns the first Ctrl-C or SIGTERM into a gentle stop, announced with `notice`; a second one ends the process at
/// once (exit 130), which the journal also survives.
final class StopOnSignals {
    private let sources: [any DispatchSourceSignal]

    init(_ notice: String, stop: @escaping @Sendable () -> Void) {
        let signalled = StopSignal()
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler {
                if signalled.isSet { exit(130) }
                printError("\nsparrow: \(notice) (again to quit now)")
                signalled.set()
                stop()
            }
            source.resume()
            return source
        }
    }

    /// Serves with `serve` until Ctrl-C or SIGTERM cancels it, which shuts a server down gracefully: no new
    /// connections, the requests in flight answered.
    static func serving(_ name: String, _ serve: @escaping @Sendable () async throws -> Void) async throws {
        let task = Task { try await serve() }
        let signals = StopOnSignals("\(name): stopping: answering the requests in flight") { task.cancel() }
        defer { signals.cancel() }
        try await task.value
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
