import Foundation
import SparrowGatewaySim
import SparrowTestSupport
import Testing

/// The whole loop as a store runs it: an order export (`scripts/gen-orders.py`), its customers scored by
/// `audience`, a campaign sent to them with a holdout, the orders that followed with an effect the generator planted,
/// and `effect` finding that effect within its interval.
@Suite struct CRMLoopTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs `scripts/gen-orders.py` (or another of the scripts' generators) with `arguments` in `folder`, its output to
    /// the file `output`.
    static func generate(
        _ arguments: [String], to output: String, in folder: URL, generator: String = "gen-orders.py"
    ) throws -> String {
        let errors = folder.appendingPathComponent(output + ".err")
        let ending = try ChildProcess(
            ["/usr/bin/env", "python3", repository.appendingPathComponent("scripts/" + generator).path] + arguments,
            in: folder.path, stdout: .file(folder.appendingPathComponent(output).path), stderr: .file(errors.path)
        ).waitUntilExit()
        #expect(ending.reason == .exit && ending.status == 0)
        return try String(contentsOf: errors, encoding: .utf8)
    }

    @Test(arguments: [(0.06, true), (0.0, false)])
    func effectFindsTheLiftTheOrdersCarry(planted: Double, significant: Bool) async throws {
        let folder = try SparrowProcess.temporaryFolder()
        let start = "2026-11-22T04:00:00Z"
        _ = try Self.generate(
            ["8000", "--customers", "3000", "--seed", "5", "--now", "2026-11-22"], to: "orders.csv", in: folder)
        let audience = try SparrowProcess.run(["audience", "--orders", "orders.csv", "--now", start], in: folder)
        #expect(audience.status == 0, "\(audience.stderr)")
        let simulator = GatewaySimulator()
        let (send, effect) = try await withSimulator(simulator) { base in
            try """
            store: ./state.sqlite
            quiet_hours: off
            gateways:
              - { name: primary, url: "\(base)/v1/sms", format: json, price_per_segment: 0.05 }
            """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
            let send = try await SparrowProcess.outcome(
                [
                    "send", "-c", "sparrow.yaml", "--campaign", "winter", "--holdout", "30%", "--now", start,
                    "--text", "{{name}}，您的{{last_item}}有新款了",
                ], stdin: Data(audience.stdout.utf8), in: folder)
            _ = try Self.generate(
                [
                    "--after", "state.sqlite", "--campaign", "winter", "--history", "orders.csv", "--base-rate",
                    "0.05", "--lift", "\(planted)", "--seed", "9",
                ], to: "after.csv", in: folder)
            let history = try String(contentsOf: folder.appendingPathComponent("orders.csv"), encoding: .utf8)
            let after = try String(contentsOf: folder.appendingPathComponent("after.csv"), encoding: .utf8)
            try (history + after).write(
                to: folder.appendingPathComponent("now.csv"), atomically: true, encoding: .utf8)
            let effect = try await SparrowProcess.outcome(
                [
                    "effect", "-c", "sparrow.yaml", "--campaign", "winter", "--orders", "now.csv", "--now",
                    "2026-11-26T04:00:00Z", "--format", "json",
                ], in: folder)
            return (send, effect)
        }
        #expect(send.status == 0, "\(send.stderr)")
        #expect(effect.status == 0, "\(effect.stderr)")
        let measured = try #require(
            try JSONSerialization.jsonObject(with: Data(effect.stdout.utf8)) as? [String: Any])
        let rows = try #require(measured["rows"] as? [[String: Any]])
        let lift = try #require(rows.first?["lift"] as? [String: Any])
        let conversion = try #require(lift["conversion"] as? [String: Double])
        let (lower, upper) = (try #require(conversion["lower"]), try #require(conversion["upper"]))
        #expect(lower <= planted && planted <= upper, "\(lower) to \(upper) around \(planted)")
        #expect(lift["significant"] as? Bool == significant)
        #expect(rows.contains { $0["dimension"] as? String == "segment" && $0["key"] as? String != "none" })
    }
}
