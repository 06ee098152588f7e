import Foundation
import ServiceLifecycle
import SparrowCommandSupport
import SparrowDispatch

/// Progress of a running campaign on stderr: a bar with rate and ETA redrawn in place on a terminal, a line every
/// ten seconds otherwise (a log). A service: it shows progress until the group shuts down.
struct ProgressDisplay: Service {
    let progress: SendProgress
    /// The input's size in bytes, when it is a regular file: the bar's whole.
    let inputSize: Int?
    private let isTerminal = isatty(2) != 0

    init(_ progress: SendProgress, inputSize: Int?) {
        self.progress = progress
        self.inputSize = inputSize
    }

    /// Shows progress until a graceful shutdown or a cancellation, then clears the bar.
    func run() async {
        let clock = ContinuousClock()
        let start = clock.now
        let interval: Duration = isTerminal ? .milliseconds(250) : .seconds(10)
        try? await cancelWhenGracefulShutdown {
            while true {
                try await clock.sleep(for: interval)
                let seconds = (clock.now - start) / .seconds(1)
                let line = Self.line(progress.snapshot, seconds: seconds, inputSize: inputSize)
                printError(isTerminal ? "\r\u{1B}[2K" + line : "sparrow: " + line, newline: !isTerminal)
            }
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
            parts.append(
                "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]")
            parts.append("\(Int(done * 100))%")
            if done > 0.01, done < 1 { parts.append("ETA \(Int(seconds / done - seconds)) s") }
        }
        parts.append("\(snapshot.rows) rows")
        parts.append("\(snapshot.accepted) accepted, \(snapshot.failed) failed, \(snapshot.unknown) unknown")
        parts.append("\(Int(rate)) msg/s")
        return parts.joined(separator: "  ")
    }
}
