import SparrowCore
import Testing

@Suite struct ValueSelectionTests {
    /// A message as the selection sees it.
    struct Message: Hashable {
        var value: Double?
        var line: Int
        var cost: Double
    }

    /// What the limit admits, the slow way: every message ranked (value, most first; then line), and the longest run
    /// of the ranking that fits.
    static func expected(_ messages: [Message], _ limit: ValueLimit) -> Set<Int> {
        let ranked = messages.sorted { a, b in
            let (x, y) = (a.value ?? -.infinity, b.value ?? -.infinity)
            return x != y ? x > y : a.line < b.line
        }
        var admitted: Set<Int> = []
        var spent = 0.0
        for message in ranked {
            switch limit {
            case .messages(let count): guard admitted.count < count else { return admitted }
            case .budget(let budget): guard spent + message.cost <= budget + 1e-9 else { return admitted }
            }
            spent += message.cost
            admitted.insert(message.line)
        }
        return admitted
    }

    /// The lines the selection's cut admits.
    static func admitted(_ messages: [Message], _ limit: ValueLimit) -> Set<Int> {
        var selection = ValueSelection(limit: limit)
        for message in messages { selection.add(value: message.value, line: message.line, cost: message.cost) }
        let cut = selection.cut
        let lines = Set(messages.filter { cut?.admits(value: $0.value, line: $0.line) ?? true }.map(\.line))
        #expect(selection.admitted.messages == lines.count)
        return lines
    }

    @Test(arguments: [
        ValueLimit.messages(0), .messages(1), .messages(7), .messages(60), .budget(0), .budget(0.05),
        .budget(0.5), .budget(1.23), .budget(100),
    ])
    func theCutAdmitsTheLongestRunOfTheRankingThatFits(_ limit: ValueLimit) {
        var generator = SplitMix64(seed: 26)
        for _ in 0..<50 {
            // Few distinct values, so that ties are common; some rows have none; one or two segments each.
            let messages = (1...Int(generator.next() % 50 + 1)).map { line in
                Message(
                    value: generator.next() % 6 == 0 ? nil : Double(generator.next() % 8) * 12.5, line: line,
                    cost: generator.next() % 3 == 0 ? 0.1 : 0.05)
            }.shuffled(using: &generator)
            #expect(Self.admitted(messages, limit) == Self.expected(messages, limit), "\(limit) \(messages)")
        }
    }

    @Test func withoutAnythingDroppedThereIsNoCut() {
        var selection = ValueSelection(limit: .messages(3))
        selection.add(value: 5, line: 1, cost: 0.05)
        selection.add(value: nil, line: 2, cost: 0.05)
        #expect(selection.cut == nil)
        selection.add(value: 1, line: 3, cost: 0.05)
        selection.add(value: 1, line: 4, cost: 0.05)
        selection.add(value: 1, line: 5, cost: 0.05)
        // Of equal values, the earlier lines stay; the row without a value ranks last.
        #expect(selection.cut == ValueCut(value: 1, line: 4))
        #expect(selection.cut?.admits(value: 1, line: 5) == false)
        #expect(selection.cut?.admits(value: nil, line: 2) == false)
    }

    @Test func aBudgetBelowEveryMessageAdmitsNothing() {
        var selection = ValueSelection(limit: .budget(0.04))
        selection.add(value: 100, line: 1, cost: 0.05)
        #expect(selection.cut == .nothing)
        #expect(selection.cut?.admits(value: .greatestFiniteMagnitude, line: 1) == false)
        #expect(selection.admitted.messages == 0 && selection.admitted.cost == 0)
    }
}
