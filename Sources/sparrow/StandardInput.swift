import SparrowDispatch

/// What standard input is, for the progress bar and for `resume`.
enum StandardInput {
    /// The size of standard input when it is a regular file.
    static var regularFileSize: Int? {
        if case .regularFile(let size) = InputSource(descriptor: 0) { size } else { nil }
    }

    /// Whether standard input may hold a campaign's rows again: not a terminal, not `/dev/null`, not an empty file
    /// (as cron and service managers start commands).
    static var mayHoldRows: Bool {
        switch InputSource(descriptor: 0) {
        case .regularFile(let size): size > 0
        case .stream: true
        case .terminal, .device: false
        }
    }
}
