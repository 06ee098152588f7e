import HeapModule

/// Where a campaign with a budget or a message limit stops: its messages ranked by a recipient column's value, most
/// first, then by line, it sends those ranked at or above the cut and journals the others `over-budget`. The cut is
/// fixed before the first message goes and stored with the campaign, so a resumed run reading the same input admits
/// the same messages.
public struct ValueCut: Sendable, Hashable {
    /// The value of the lowest admitted message; `-infinity` for a message whose row has no value.
    public let value: Double
    /// Its line: of messages of equal value, the earlier lines are admitted.
    public let line: Int

    public init(value: Double, line: Int) {
        self.value = value
        self.line = line
    }

    /// The cut that admits nothing: the budget does not pay for even the most valuable message.
    public static let nothing = ValueCut(value: .infinity, line: 0)

    /// Whether the message of `line` whose row's value is `value` (nil for none) is admitted.
    public func admits(value: Double?, line: Int) -> Bool {
        let value = value ?? -.infinity
        return value > self.value || (value == self.value && line <= self.line)
    }
}

/// How a campaign with a budget or a message limit ranks its recipients, and where its cut fell.
public struct CampaignRanking: Sendable, Hashable {
    /// The recipients' column whose numbers rank them, most first; nil for input order.
    public var column: String?
    /// Nil when the limit admits every message.
    public var cut: ValueCut?

    public init(column: String?, cut: ValueCut?) {
        self.column = column
        self.cut = cut
    }
}

/// The limit a campaign's most valuable messages are chosen under.
public enum ValueLimit: Sendable, Hashable {
    /// At most this many messages.
    case messages(Int)
    /// Messages whose planned cost adds up to at most this amount.
    case budget(Double)
}

/// Finds a campaign's `ValueCut` in one pass over its messages, in any order: it keeps the messages the limit admits
/// so far and drops the least valuable whenever the limit is passed, and with it everything ranked below: once the
/// ranking's run stops fitting at a message, more valuable messages coming later only make it fit less. What is left
/// is exactly the longest run of the ranking that fits the limit. Memory holds one entry (24 bytes) per admitted
/// message.
public struct ValueSelection: Sendable {
    private struct Entry: Comparable {
        var value: Double
        var line: Int
        var cost: Double

        /// Less valuable first: a lower value, or an equal value on a later line.
        static func < (lhs: Entry, rhs: Entry) -> Bool {
            lhs.value != rhs.value ? lhs.value < rhs.value : lhs.line > rhs.line
        }
    }

    public let limit: ValueLimit
    /// The admitted messages, the least valuable on top.
    private var heap = Heap<Entry>()
    private var cost = 0.0
    /// The most valuable message dropped: nothing ranked below it is admitted. Nil while the limit admits every
    /// message counted in.
    private var floor: Entry?

    public init(limit: ValueLimit) {
        self.limit = limit
    }

    /// Counts in the message of `line` whose row's value is `value` (nil for none) and whose planned cost is `cost`.
    public mutating func add(value: Double?, line: Int, cost: Double) {
        let entry = Entry(value: value ?? -.infinity, line: line, cost: cost)
        if let floor, entry < floor { return }
        heap.insert(entry)
        self.cost += cost
        while isOver, let least = heap.popMin() {
            self.cost -= least.cost
            floor = least
        }
    }

    /// The cut; nil when the limit admits every message counted in.
    public var cut: ValueCut? {
        guard floor != nil else { return nil }
        return heap.min.map { ValueCut(value: $0.value, line: $0.line) } ?? .nothing
    }

    /// Messages admitted so far, and their planned cost.
    public var admitted: (messages: Int, cost: Double) { (heap.count, cost) }

    private var isOver: Bool {
        switch limit {
        case .messages(let limit): heap.count > limit
        // A tolerance for the sum's rounding: a budget that pays for a message exactly admits it.
        case .budget(let budget): cost > budget + 1e-9 * max(1, budget)
        }
    }
}
