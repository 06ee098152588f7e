import Synchronization

/// Running counts of a campaign, updated lock-free from every stage and read by the progress display.
public final class SendProgress: Sendable {
    private let rows = Atomic(0)
    private let journaled = Atomic(0)
    private let accepted = Atomic(0)
    private let failed = Atomic(0)
    private let unknown = Atomic(0)
    private let inputBytes = Atomic(0)

    public init() {}

    public struct Snapshot: Sendable, Hashable {
        /// Input rows decided, and messages journaled to send.
        public var rows: Int
        public var journaled: Int
        /// Answers so far.
        public var accepted: Int
        public var failed: Int
        public var unknown: Int
        /// Input bytes read.
        public var inputBytes: Int

        public var answered: Int { accepted + failed + unknown }
    }

    public var snapshot: Snapshot {
        Snapshot(
            rows: rows.load(ordering: .relaxed), journaled: journaled.load(ordering: .relaxed),
            accepted: accepted.load(ordering: .relaxed), failed: failed.load(ordering: .relaxed),
            unknown: unknown.load(ordering: .relaxed), inputBytes: inputBytes.load(ordering: .relaxed))
    }

    func read(bytes: Int) { inputBytes.add(bytes, ordering: .relaxed) }

    func decided(rows count: Int, toSend: Int) {
        rows.add(count, ordering: .relaxed)
        journaled.add(toSend, ordering: .relaxed)
    }

    func count(_ outcome: SubmitOutcome) {
        switch outcome.status {
        case .accepted: accepted.add(1, ordering: .relaxed)
        case .failed: failed.add(1, ordering: .relaxed)
        case .unknown: unknown.add(1, ordering: .relaxed)
        }
    }
}
