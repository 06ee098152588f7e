import Foundation
import SparrowGatewaySim
import SparrowTestSupport
import Testing

/// `plan` and `send` with a template a provider approved, through Tencent Cloud's API as the simulator plays it.
@Suite struct ApprovedTemplateCommandTests {
    static func configuration(_ base: String) -> String {
        """
        store: ./state.sqlite
        quiet_hours: off
        signature: "【青禾】"
        gateways:
          - { name: tencent, type: tencent, url: "\(base)/", region: ap-guangzhou, sdk_app_id: "1400006666",
              sign_name: 青禾, secret_id: AKIDexample, secret_key: "${TENCENTCLOUD_SECRET_KEY:-s3cr3t}" }
        templates:
          shipped: { text: "{1}，您的包裹已发出。拒收请回复R", columns: [name], ids: { tencent: "1110422" } }
        """
    }

    @Test func aCampaignSendsItsTemplateAndOnlyATemplate() async throws {
        let simulator = GatewaySimulator(tencent: .init(id: "AKIDexample", secret: "s3cr3t"))
        let folder = try SparrowProcess.temporaryFolder()
        let (plan, send, free, missing, report, resume) = try await withSimulator(simulator) { base in
            try Self.configuration(base).write(
                to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
            let recipients = Data("phone,name\n13800138000,林\n13800138001,王\n13800138002,\n".utf8)
            let plan = try await SparrowProcess.outcome(
                ["plan", "-c", "sparrow.yaml", "--approved", "shipped", "--now", "2026-11-22T04:00:00Z"],
                stdin: recipients, in: folder)
            let send = try await SparrowProcess.outcome(
                [
                    "send", "-c", "sparrow.yaml", "--approved", "shipped", "--campaign", "ship",
                    "--now", "2026-11-22T04:00:00Z",
                ], stdin: recipients, in: folder)
            let free = try await SparrowProcess.outcome(
                ["send", "-c", "sparrow.yaml", "--text", "hi", "--campaign", "free"], stdin: recipients, in: folder)
            let missing = try await SparrowProcess.outcome(
                ["send", "-c", "sparrow.yaml", "--approved", "shiped", "--campaign", "x"], stdin: recipients,
                in: folder)
            let report = try await SparrowProcess.outcome(
                ["report", "-c", "sparrow.yaml", "--campaign", "ship", "--format", "csv"], in: folder)
            // A resume takes the campaign's template from the store, and needs the configuration to still have it.
            try Self.configuration(base).replacing("shipped:", with: "renamed:").write(
                to: folder.appendingPathComponent("renamed.yaml"), atomically: true, encoding: .utf8)
            let resume = try await SparrowProcess.outcome(
                ["resume", "-c", "renamed.yaml", "--campaign", "ship"], in: folder)
            return (plan, send, free, missing, report, resume)
        }
        #expect(plan.status == 0, "\(plan.stderr)")
        // The plan renders the approved text for segments and cost; the row without a name is a reject.
        #expect(plan.stdout.contains(#""encoding":"UCS-2","units":20,"segments":1"#), "\(plan.stdout)")
        #expect(plan.stderr.contains("rejected: 1") || plan.stdout.contains("missing-variable"), "\(plan.stderr)")
        #expect(send.status == 0, "\(send.stderr)")
        #expect(simulator.stats.messages == 2)
        #expect(
            report.stdoutLines.dropFirst().first?.hasPrefix("ship,total,,3,1,0,0,0,0,0,0,2,2,") == true,
            "\(report.stdout)")
        #expect(free.status == 2)
        #expect(free.stderr.contains("gateway 'tencent' sends only templates its provider approved"), "\(free.stderr)")
        #expect(resume.status == 2)
        #expect(
            resume.stderr.contains("campaign 'ship' sends template 'shipped', which renamed.yaml no longer has"),
            "\(resume.stderr)")
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no template 'shiped'") && missing.stderr.contains("did you mean 'shipped'"))
    }

    /// Answers lost to reset connections leave messages unknown; `settle` pulls Tencent's reports and settles them
    /// all, and says what it did.
    @Test func settleAsksTheProviderWhatBecameOfTheMessagesInDoubt() async throws {
        let simulator = GatewaySimulator(
            faults: .init(connectionReset: 0.5), seed: 4, tencent: .init(id: "AKIDexample", secret: "s3cr3t"))
        let folder = try SparrowProcess.temporaryFolder()
        let (send, settle, report, again, unknown) = try await withSimulator(simulator) { base in
            try Self.configuration(base).write(
                to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
            let recipients = Data(
                ("phone,name\n" + (0..<40).map { "1380013\(String(8000 + $0)),客\($0)" }.joined(separator: "\n")).utf8)
            let send = try await SparrowProcess.outcome(
                ["send", "-c", "sparrow.yaml", "--approved", "shipped", "--campaign", "ship"], stdin: recipients,
                in: folder)
            let settle = try await SparrowProcess.outcome(
                ["settle", "-c", "sparrow.yaml", "--campaign", "ship"], in: folder)
            let report = try await SparrowProcess.outcome(
                ["report", "-c", "sparrow.yaml", "--campaign", "ship", "--format", "json"], in: folder)
            let again = try await SparrowProcess.outcome(
                ["settle", "-c", "sparrow.yaml", "--campaign", "ship"], in: folder)
            let unknown = try await SparrowProcess.outcome(
                ["settle", "-c", "sparrow.yaml", "--campaign", "nope"], in: folder)
            return (send, settle, report, again, unknown)
        }
        #expect(send.status == 0, "\(send.stderr)")
        #expect(send.stderr.contains("unknown"), "\(send.stderr)")
        #expect(settle.status == 0, "\(settle.stderr)")
        #expect(
            settle.stderr.contains("sparrow: status queries: 40 messages settled, 40 reports pulled"),
            "\(settle.stderr)")
        #expect(
            report.stdout.contains(#""delivered":40"#) && report.stdout.contains(#""unknown":0"#), "\(report.stdout)")
        // Nothing is left in doubt: the second settle asks nothing.
        #expect(
            again.status == 0 && again.stderr.contains("sparrow: status queries: 0 messages settled"), "\(again.stderr)"
        )
        #expect(unknown.status == 2 && unknown.stderr.contains("no campaign 'nope'"), "\(unknown.stderr)")
    }
}
