import Foundation
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
}
