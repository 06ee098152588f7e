import Foundation
import SparrowCore
import SparrowStore
import Testing

/// `sparrow plan` over real files: a real YAML configuration, a real CSV with the faults spreadsheets produce.
@Suite struct PlanCommandTests {
    static let configuration = """
        store: ./state.sqlite
        signature: "【青禾】"
        optout_suffix: "回T退订"
        quiet_hours: { start: "21:00", end: "08:00" }
        gateways:
          - { name: primary, url: "http://127.0.0.1:9/send", format: json, price_per_segment: 0.05 }
        """

    /// A CSV file with a BOM, CRLF line ends, a quoted field holding a comma, a quote and a line break, a row of
    /// invalid UTF-8, an over-long row, a duplicate, a recipient abroad and a row missing a variable.
    static var recipients: Data {
        var data = Data([0xEF, 0xBB, 0xBF])
        data += Data("phone,name,item,tz\r\n".utf8)
        data += Data("138 0013 8000,王芳,\"围巾, \"\"羊绒\"\"\n特价\",\r\n".utf8)  // line 2, spans two lines
        data += Data("+86 198-1234-5678,李,茶,\r\n".utf8)  // line 4
        data += Data("13800138000,王芳,围巾,\r\n".utf8)  // line 5: duplicate of line 2
        data += Data("139".utf8) + Data([0x2C, 0xC3, 0x28]) + Data(",x,\r\n".utf8)  // line 6: invalid UTF-8
        data += Data(("150" + String(repeating: "9", count: 70_000) + ",a,b,\r\n").utf8)  // line 7: over-long
        data += Data("1380013800,短,x,\r\n".utf8)  // line 8: too short
        data += Data("13900139000,,x,\r\n".utf8)  // line 9: missing name
        data += Data("13700137000,Ann,tea,America/New_York\r\n".utf8)  // line 10: abroad
        return data
    }

    static func plan(now: String = "2026-11-22T13:30:00Z", stdin: Data = recipients, extra: [String] = [])
        throws -> (SparrowProcess.Outcome, rejects: [String])
    {
        let folder = try SparrowProcess.temporaryFolder()
        try configuration.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        let outcome = try SparrowProcess.run(
            [
                "plan", "--config", "sparrow.yaml", "--text", "{{name}}，您的{{item}}已发货", "--now", now,
                "--rejects", "rejects.jsonl",
            ] + extra,
            stdin: stdin, in: folder)
        let rejects = (try? String(contentsOf: folder.appendingPathComponent("rejects.jsonl"), encoding: .utf8)) ?? ""
        return (outcome, rejects.split(separator: "\n").map(String.init))
    }

    @Test func oneLinePerRowInInputOrder() throws {
        let (outcome, rejects) = try Self.plan()  // 21:30 in Shanghai (quiet hours), 08:30 in New York
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let lines = outcome.stdoutLines
        #expect(
            lines == [
                #"{"line":2,"to":"+8613800138000","status":"deferred","reason":null,"carrier":"china-mobile","gateway":"primary","encoding":"UCS-2","units":27,"segments":1,"send_at":"2026-11-23T00:00:00Z"}"#,
                #"{"line":4,"to":"+8619812345678","status":"deferred","reason":null,"carrier":"china-mobile","gateway":"primary","encoding":"UCS-2","units":16,"segments":1,"send_at":"2026-11-23T00:00:00Z"}"#,
                #"{"line":5,"to":"+8613800138000","status":"duplicate","reason":null,"carrier":"china-mobile","gateway":"primary","encoding":"UCS-2","units":18,"segments":1,"send_at":null}"#,
                #"{"line":6,"to":null,"status":"rejected","reason":"invalid-utf8","carrier":null,"gateway":null,"encoding":null,"units":null,"segments":null,"send_at":null}"#,
                #"{"line":7,"to":null,"status":"rejected","reason":"row-too-long","carrier":null,"gateway":null,"encoding":null,"units":null,"segments":null,"send_at":null}"#,
                #"{"line":8,"to":null,"status":"rejected","reason":"invalid-phone","carrier":null,"gateway":null,"encoding":null,"units":null,"segments":null,"send_at":null}"#,
                #"{"line":9,"to":null,"status":"rejected","reason":"missing-variable","carrier":null,"gateway":null,"encoding":null,"units":null,"segments":null,"send_at":null}"#,
                #"{"line":10,"to":"+8613700137000","status":"ready","reason":null,"carrier":"china-mobile","gateway":"primary","encoding":"UCS-2","units":20,"segments":1,"send_at":"2026-11-22T13:30:00Z"}"#,
            ])
        #expect(rejects.count == 4)
        #expect(
            rejects[0].hasPrefix(
                #"{"line":6,"reason":"invalid-utf8","message":"column 'name' is not valid UTF-8","raw":"139,\#u{FFFD}(,x,"}"#
            ))
        #expect(
            rejects[2].hasPrefix(
                #"{"line":8,"reason":"invalid-phone","message":"phone '1380013800' is not a valid number for region CN"#
            ))
        #expect(
            rejects[3]
                == #"{"line":9,"reason":"missing-variable","message":"the template needs 'name' and the row has none","raw":"13900139000,,x,"}"#
        )
        #expect(outcome.stderr.contains("status    ready 1, deferred 2, duplicate 1, rejected 4"))
        #expect(outcome.stderr.contains("total     3 messages, 3 segments, cost 0.15"))
        #expect(outcome.stderr.contains("rejects   4 rows in rejects.jsonl"))
    }

    @Test func jsonLinesInput() throws {
        let input = Data(
            #"{"phone":"13800138000","name":"王芳","item":"茶"}"#.utf8 + [0x0A] + #"{"phone":"x"}"#.utf8 + [0x0A])
        let (outcome, rejects) = try Self.plan(now: "2026-11-22T04:00:00Z", stdin: input)
        #expect(outcome.status == 0)
        #expect(outcome.stdoutLines.count == 2)
        #expect(outcome.stdoutLines[0].contains(#""status":"ready""#))
        #expect(rejects.count == 1 && rejects[0].hasPrefix(#"{"line":2,"reason":"invalid-phone""#))
    }

    @Test func configurationErrorsExitTwoWithTheirLocation() throws {
        let folder = try SparrowProcess.temporaryFolder()
        try (Self.configuration + "\nquiet_hour: off\n").write(
            to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        let outcome = try SparrowProcess.run(["plan", "-c", "sparrow.yaml", "--text", "x"], in: folder)
        #expect(outcome.status == 2)
        #expect(outcome.stderr == "sparrow: sparrow.yaml:7:1: unknown key 'quiet_hour' (did you mean 'quiet_hours'?)\n")
    }

    @Test(arguments: [
        (["plan", "-c", "sparrow.yaml"], "exactly one of --text, --template or --approved"),
        (["plan", "-c", "sparrow.yaml", "--text", "{{#a}}"], "--text:1:7: section is not closed"),
        (["plan", "-c", "sparrow.yaml", "--text", "x", "--now", "soon"], "--now 'soon' is not an RFC 3339 date-time"),
        (["plan", "-c", "missing.yaml", "--text", "x"], "missing.yaml:1: cannot read the file"),
    ])
    func usageErrorsExitTwo(_ arguments: [String], message: String) throws {
        let folder = try SparrowProcess.temporaryFolder()
        try Self.configuration.write(
            to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        let outcome = try SparrowProcess.run(arguments, in: folder)
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains(message), "\(outcome.stderr)")
    }

    /// `--max-segments`: the `|fit` variable is shortened to fit one segment, with the signature and opt-out line;
    /// a row whose message cannot fit is rejected with the reason.
    @Test func messagesAreFittedIntoTheirSegments() throws {
        let folder = try SparrowProcess.temporaryFolder()
        try Self.configuration.write(
            to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        let recipients =
            "phone,name,item\n13800138000,\(String(repeating: "芳", count: 90)),围巾\n"
            + "13800138001,芳,\(String(repeating: "围", count: 70))\n"
        let outcome = try SparrowProcess.run(
            [
                "plan", "--config", "sparrow.yaml", "--text", "{{name|fit}}，您的{{item}}已发货", "--max-segments", "1",
                "--now", "2026-11-22T04:00:00Z", "--rejects", "rejects.jsonl",
            ], stdin: Data(recipients.utf8), in: folder)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdoutLines.first?.contains(#""status":"ready""#) == true)
        #expect(outcome.stdoutLines.first?.contains(#""units":70,"segments":1"#) == true)
        #expect(outcome.stdoutLines.last?.contains(#""status":"rejected","reason":"too-long""#) == true)
        let rejects = try String(contentsOf: folder.appendingPathComponent("rejects.jsonl"), encoding: .utf8)
        #expect(rejects.contains("more than the 1 allowed, even with {{name}} cut to one character"), "\(rejects)")
        let invalid = try SparrowProcess.run(
            ["plan", "--config", "sparrow.yaml", "--text", "x", "--max-segments", "0"], in: folder)
        #expect(invalid.status == 2, "\(invalid.stderr)")
        #expect(invalid.stderr.contains("--max-segments must be 1 or more"))
    }

    @Test func aFileWithoutAPhoneColumnIsRefused() throws {
        let (outcome, _) = try Self.plan(stdin: Data("name,item\nWang,tea\n".utf8))
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("recipients: line 1: the header has no phone column"))
    }
}

@Suite struct PlanWithStoreTests {
    @Test func suppressedAndCappedNumbersAreMarked() async throws {
        let folder = try SparrowProcess.temporaryFolder()
        try """
        store: ./state.sqlite
        frequency_cap: { max: 1, per: 24h }
        quiet_hours: off
        gateways:
          - { name: primary, url: "http://127.0.0.1:9/send", format: json }
        """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        let store = try SQLiteStore(path: folder.appendingPathComponent("state.sqlite").path)
        try await store.suppress([
            try PhoneNumberParser.parse("13800138000", defaultRegion: "CN").get().number.e164Value
        ])
        let earlier = Timestamp(rfc3339: "2026-11-22T10:00:00Z")!
        try await store.beginCampaign(id: "old", template: "x", at: earlier)
        _ = try await store.journal(
            campaign: "old",
            messages: [
                JournalEntry(
                    id: "old-2", campaign: "old", line: 2, to: "+8613900139000", carrier: nil, gateway: "primary",
                    text: "x", segments: 1, throttleUnits: 1, cost: 0, sendAt: earlier, state: .ready)
            ], skipped: [])
        try await store.record([
            SubmitRecord(
                id: "old-2", campaign: "old", recipient: "+8613900139000", state: .accepted, gateway: "primary",
                gatewayMessageID: "g", attempts: 1, latency: .milliseconds(1), error: nil, at: earlier)
        ])
        let outcome = try SparrowProcess.run(
            ["plan", "-c", "sparrow.yaml", "--text", "hi", "--now", "2026-11-22T12:00:00Z"],
            stdin: Data("phone\n13800138000\n13900139000\n13700137000\n13800138000\n".utf8), in: folder)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let statuses = outcome.stdoutLines.map { line in
            line.split(separator: ",").first { $0.hasPrefix(#""status""#) }.map(String.init) ?? ""
        }
        #expect(
            statuses == [
                #""status":"suppressed""#, #""status":"capped""#, #""status":"ready""#, #""status":"suppressed""#,
            ])
        #expect(outcome.stderr.contains("status    ready 1, suppressed 2, capped 1"))
    }
}

@Suite struct SegmentLimitTests {
    /// `send --max-segments` keeps the limit with the campaign, for `resume` to fit the rows it reads again alike.
    @Test func aCampaignKeepsItsSegmentLimit() async throws {
        let folder = try SparrowProcess.temporaryFolder()
        let (sent, send) = try await ValueOrderTests.send("fit", ["--max-segments", "1"], piped: false, in: folder)
        #expect(send.status == 0, "\(send.stderr)")
        #expect(sent.count == ValueOrderTests.rows)
        let store = try SQLiteStore(path: folder.appendingPathComponent("state.sqlite").path)
        #expect(try await store.campaign(id: "fit")?.maxSegments == 1)
    }
}
