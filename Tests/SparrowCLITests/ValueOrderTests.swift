import Foundation
import SparrowCore
import SparrowGatewaySim
import SparrowStore
import SparrowTestSupport
import Testing

/// `send --max-messages` and `--budget` with `--order-by`: the most valuable recipients get the messages, the others
/// are journaled `over-budget`, whether the recipients come from a file or a pipe.
@Suite struct ValueOrderTests {
    static let rows = 30
    static func number(_ index: Int) -> String { "1380013\(String(8000 + index))" }
    /// Few distinct values, so that ties are decided by line; one row without a value, one with text.
    static func value(_ index: Int) -> String {
        index == 5 ? "" : index == 12 ? "lots" : String((index * 7) % 10 * 10) + ".5"
    }
    static let recipients = Data(
        ("phone,name,monetary\n" + (0..<rows).map { "\(number($0)),客户\($0),\(value($0))" }.joined(separator: "\n")
            + "\n").utf8)

    /// The indices a limit of `count` messages (or a budget of `count` one-segment messages) admits, of those not
    /// held out: by value, most first, then by line.
    static func mostValuable(_ count: Int, holdout: Holdout) -> Set<Int> {
        let eligible = (0..<rows).filter { $0 != 12 && !holdout.holds("+86" + number($0)) }
        let ranked = eligible.sorted { a, b in
            let (x, y) = (Double(value(a)) ?? -.infinity, Double(value(b)) ?? -.infinity)
            return x != y ? x > y : a < b
        }
        return Set(ranked.prefix(count))
    }

    /// Sends campaign `id` with `options` to a fresh simulator, its recipients on standard input through a pipe when
    /// `piped` (else from a file); the indices the gateway got and the send's outcome.
    static func send(_ id: String, _ options: [String], piped: Bool, in folder: URL) async throws -> (
        sent: Set<Int>, send: SparrowProcess.Outcome
    ) {
        let bodies = folder.appendingPathComponent("\(id).bodies")
        let simulator = GatewaySimulator(bodyLog: bodies.path)
        let send = try await withSimulator(simulator) { base in
            try """
            store: ./state.sqlite
            quiet_hours: off
            gateways:
              - { name: primary, url: "\(base)/v1/sms", format: json, price_per_segment: 0.05 }
            """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
            let arguments = ["send", "-c", "sparrow.yaml", "--campaign", id, "--text", "{{name}} 您好"] + options
            guard piped else { return try await SparrowProcess.outcome(arguments, stdin: Self.recipients, in: folder) }
            try Self.recipients.write(to: folder.appendingPathComponent("recipients.csv"))
            let command =
                "cat recipients.csv | '\(SparrowProcess.executable)' "
                + arguments.map { "'\($0)'" }.joined(
                    separator: " ")
            return try await SparrowProcess.outcome(["-c", command], in: folder, program: "/bin/sh")
        }
        let log = (try? String(contentsOf: bodies, encoding: .utf8)) ?? ""
        let sent = log.matches(of: /"to":"\+861380013(\d{4})"/).compactMap { Int($0.1).map { $0 - 8000 } }
        return (Set(sent), send)
    }

    @Test func aMessageLimitGoesToTheMostValuableRecipientsOutsideTheHoldout() async throws {
        let folder = try SparrowProcess.temporaryFolder()
        let (sent, send) = try await Self.send(
            "top", ["--max-messages", "8", "--order-by", "monetary", "--holdout", "20%"], piped: false, in: folder)
        #expect(send.status == 0, "\(send.stderr)")
        let holdout = Holdout(share: 0.2, campaign: "top")
        let held = (0..<Self.rows).filter { $0 != 12 && holdout.holds("+86" + Self.number($0)) }.count
        #expect(sent == Self.mostValuable(8, holdout: holdout))
        #expect(
            send.stderr.contains("sparrow: 8 messages (cost 0.40) are within the limit, the highest monetary first"))
        let report = try await SparrowProcess.outcome(
            ["report", "-c", "sparrow.yaml", "--campaign", "top", "--format", "json"], in: folder)
        let total = try #require(
            (try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])?["total"]
                as? [String: Any])
        #expect(total["over_budget"] as? Int == Self.rows - 1 - held - 8)
        #expect(total["rejected"] as? Int == 1)  // the row whose value is text
        #expect(total["submitted"] as? Int == 8)
        let rejects = try String(contentsOf: folder.appendingPathComponent("rejects.jsonl"), encoding: .utf8)
        #expect(rejects.contains(#""line":14,"reason":"invalid-value""#), "\(rejects)")
        // The cut is kept with the campaign, for a resumed run reading the input again.
        let store = try SQLiteStore(path: folder.appendingPathComponent("state.sqlite").path)
        let ranking = try #require(try await store.campaign(id: "top")?.ranking)
        #expect(ranking.column == "monetary" && ranking.cut != nil)
    }

    @Test func aBudgetReadsPipedRecipientsTwice() async throws {
        let folder = try SparrowProcess.temporaryFolder()
        // 0.30 at 0.05 a one-segment message: six messages.
        let (sent, send) = try await Self.send(
            "budget", ["--budget", "0.30", "--order-by", "monetary"], piped: true, in: folder)
        #expect(send.status == 0, "\(send.stderr)")
        #expect(sent == Self.mostValuable(6, holdout: Holdout(share: 0, campaign: "budget")))
        #expect(send.stderr.contains("over_budget"), "\(send.stderr)")
    }

    @Test func aBudgetThatPaysForNothingSendsNothing() async throws {
        let folder = try SparrowProcess.temporaryFolder()
        let (sent, send) = try await Self.send("none", ["--budget", "0.01"], piped: false, in: folder)
        #expect(send.status == 0, "\(send.stderr)")
        #expect(sent.isEmpty)
        let store = try SQLiteStore(path: folder.appendingPathComponent("state.sqlite").path)
        #expect(try await store.campaign(id: "none")?.ranking == CampaignRanking(column: nil, cut: .nothing))
    }
}
