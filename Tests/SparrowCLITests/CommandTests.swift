import Foundation
import SparrowGatewaySim
import SparrowTestSupport
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite struct SegmentCommandTests {
    @Test func printsTheSpecShape() throws {
        let outcome = try SparrowProcess.run(["segment", "--", "-{a}"])
        #expect(outcome.status == 0)
        #expect(outcome.stdout == #"{"encoding":"GSM-7","units":6,"segments":1,"parts":["-{a}"]}"# + "\n")
    }

    @Test func readsStandardInputAndSplits() throws {
        let text = String(repeating: "您", count: 70) + "好"
        let outcome = try SparrowProcess.run(["segment"], stdin: Data((text + "\n").utf8))
        let first = String(repeating: "您", count: 67)
        let second = String(repeating: "您", count: 3) + "好"
        #expect(
            outcome.stdout == #"{"encoding":"UCS-2","units":71,"segments":2,"parts":[""# + first + #"",""# + second
                + #""]}"# + "\n")
    }

    @Test func emptyText() throws {
        #expect(
            try SparrowProcess.run(["segment", ""]).stdout
                == #"{"encoding":"GSM-7","units":0,"segments":1,"parts":[""]}"# + "\n")
    }
}

@Suite struct PhoneCommandTests {
    @Test(arguments: [
        (
            ["phone", "198 1234 5678"],
            #"{"input":"198 1234 5678","valid":true,"e164":"+8619812345678","region":"CN","type":"mobile","carrier":"china-mobile"}"#
        ),
        (
            ["phone", "+86 192-1234-5678"],
            #"{"input":"+86 192-1234-5678","valid":true,"e164":"+8619212345678","region":"CN","type":"mobile","carrier":"china-broadnet"}"#
        ),
        (
            ["phone", "1380013800", "--region", "cn"],
            #"{"input":"1380013800","valid":false,"e164":null,"region":null,"type":null,"carrier":null}"#
        ),
    ])
    func printsTheSpecShape(_ arguments: [String], expected: String) throws {
        let outcome = try SparrowProcess.run(arguments)
        #expect(outcome.status == 0)
        #expect(outcome.stdout == expected + "\n")
    }

    @Test func anUnknownRegionIsAUsageError() throws {
        let outcome = try SparrowProcess.run(["phone", "123", "--region", "QQ"])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("'QQ' is not a region code"))
    }
}

@Suite struct ReceiptsCommandTests {
    @Test func aWebhookWithoutCredentialsRefusesToStart() throws {
        let folder = try SparrowProcess.temporaryFolder()
        try """
        store: ./state.sqlite
        gateways:
          - { name: primary, url: "http://127.0.0.1:9/send", format: json }
        receipts: { listen: "0.0.0.0:0" }
        """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        for command in [["receipts"], ["send", "--text", "hi", "--receipts"]] {
            let outcome = try SparrowProcess.run(
                command + ["-c", "sparrow.yaml"], stdin: Data("phone\n13800138000\n".utf8), in: folder)
            #expect(outcome.status == 2)
            #expect(outcome.stderr.contains("receipts has neither a token nor an hmac_secret"), "\(outcome.stderr)")
        }
    }

    /// `send --receipts` whose webhook's address is taken stops with the webhook's error, and sends nothing.
    @Test func aWebhookThatCannotListenStopsTheCampaign() async throws {
        let simulator = GatewaySimulator()
        let ending = try await withSimulator(simulator) { base in
            let folder = try SparrowProcess.temporaryFolder()
            let taken = base.split(separator: ":").last!  // the simulator's own port
            try """
            store: ./state.sqlite
            gateways:
              - { name: primary, url: "\(base)/send", format: json }
            receipts: { listen: "127.0.0.1:\(taken)", token: secret-token }
            """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
            let recipients = folder.appendingPathComponent("recipients.csv")
            try "phone\n13800138000\n13800138001\n".write(to: recipients, atomically: true, encoding: .utf8)
            let stderr = folder.appendingPathComponent("send.err")
            let process = try SparrowProcess.start(
                ["send", "-c", "sparrow.yaml", "--text", "hi", "--receipts"], stdin: recipients, in: folder,
                stderr: stderr)
            return (await process.exited(), try String(contentsOf: stderr, encoding: .utf8))
        }
        #expect(ending.0.reason == .exit && ending.0.status == 1)
        #expect(ending.1.contains("receipts: the webhook stopped:"), "\(ending.1)")
        #expect(simulator.stats.messages == 0)
    }
}
