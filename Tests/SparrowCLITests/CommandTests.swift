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

@Suite struct AudienceCommandTests {
    /// Taobao's GBK export in, one row per customer who bought out, highest spender first, ready for `plan`.
    @Test func scoresTheCustomersOfATaobaoExport() throws {
        let folder = try SparrowProcess.temporaryFolder()
        let export = repositoryRoot.appendingPathComponent("Tests/Fixtures/taobao-orders-gbk.csv").path
        let outcome = try SparrowProcess.run(
            ["audience", "--orders", export, "--now", "2026-12-01T00:00:00Z"], in: folder)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(
            outcome.stdoutLines == [
                "phone,name,nickname,customer,segment,r_score,f_score,m_score,recency_days,frequency,monetary,aov,"
                    + "first_purchase,last_purchase,last_item,categories,grid_recency,grid_frequency,grid_value,action",
                "+8615800158000,钱七,钱七,钱七,promising,4,1,4,2,1,560.00,560.00,2026-11-28T13:02:00Z,2026-11-28T13:02:00Z,"
                    + "\"真丝连衣裙, 女\",,≤30d,1,high,new_customer_offer",
                "+8613800138000,王小明,小王,小王,at_risk,2,4,2,10,2,200.00,100.00,2026-11-01T02:05:00Z,2026-11-20T01:01:00Z,"
                    + "羊绒围巾,,≤30d,2,high,membership_upgrade",
                "+8613900139000,李四,阿李,阿李,hibernating,1,1,1,547,1,45.50,45.50,2025-06-01T02:05:00Z,2025-06-01T02:05:00Z,"
                    + "棉袜 五双装,,>365d,1,mid,leave_out",
            ])
        #expect(outcome.stderr.contains("7 orders (taobao, gbk) of 5 customers; 3 bought, 2 did not"))
        #expect(outcome.stderr.contains("1 rejected rows in rejects.jsonl"))
        let rejects = try String(contentsOf: folder.appendingPathComponent("rejects.jsonl"), encoding: .utf8)
        #expect(rejects.contains(#""line":7,"reason":"invalid-amount""#))
    }

    /// What it writes is a recipient file: `plan` reads it as it is.
    @Test func itsOutputPlansAsItIs() throws {
        let folder = try SparrowProcess.temporaryFolder()
        let export = repositoryRoot.appendingPathComponent("Tests/Fixtures/taobao-orders-gbk.csv").path
        let audience = try SparrowProcess.run(
            ["audience", "--orders", export, "--now", "2026-12-01T00:00:00Z", "--output", "jsonl"], in: folder)
        try """
        store: ./state.sqlite
        quiet_hours: off
        gateways:
          - { name: primary, url: "http://127.0.0.1:9/send", format: json }
        """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        let plan = try SparrowProcess.run(
            [
                "plan", "-c", "sparrow.yaml", "--text", "【麻雀小店】{{name}}，您的{{last_item}}还好吗？", "--now",
                "2026-12-01T04:00:00Z",
            ], stdin: Data(audience.stdout.utf8), in: folder)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdoutLines.count == 3)
        #expect(plan.stdoutLines.allSatisfy { $0.contains(#""status":"ready""#) })  // every variable was there
    }
}

@Suite struct ReportCommandTests {
    /// Without `--campaign`, `report` lists the store's campaigns, the latest first, with their totals.
    /// On either store, named by `--store` in place of the configuration's: the SQLite file, or a PostgreSQL database.
    @Test(arguments: StoreKind.available)
    func withoutACampaignItListsThem(_ kind: StoreKind) async throws {
        let simulator = GatewaySimulator()
        let folder = try SparrowProcess.temporaryFolder()
        let outcomes = try await kind.withNew(in: folder) { location, _ in
            try await withSimulator(simulator) { base in
                try """
                store: ./unused.sqlite
                quiet_hours: off
                gateways:
                  - { name: primary, url: "\(base)/v1/sms", format: json, price_per_segment: 0.05 }
                """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
                let recipients = Data("phone\n13800138000\n13800138001\n13800138002\n".utf8)
                for (campaign, now) in [("first", "2026-11-20T04:00:00Z"), ("second", "2026-11-22T04:00:00Z")] {
                    let send = try await SparrowProcess.outcome(
                        [
                            "send", "-c", "sparrow.yaml", "--store", location, "--campaign", campaign, "--text", "hi",
                            "--now", now,
                        ], stdin: recipients, in: folder)
                    #expect(send.status == 0, "\(send.stderr)")
                }
                var reports: [SparrowProcess.Outcome] = []
                for format in ["table", "csv", "json"] {
                    reports.append(
                        try await SparrowProcess.outcome(
                            ["report", "-c", "sparrow.yaml", "--store", location, "--format", format], in: folder))
                }
                return reports
            }
        }
        let (table, csv, json) = (outcomes[0], outcomes[1], outcomes[2])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(
            table.stdoutLines == [
                "campaign                 began  targeted  held_out  submitted  delivered  failed  pending  cost  delivery_rate  response_rate  roi",
                "second    2026-11-22T04:00:00Z         3         0          3          0       0        3  0.15           0.0%",
                "first     2026-11-20T04:00:00Z         3         0          3          0       0        3  0.15           0.0%",
            ])
        // Accepted, no receipt yet; never measured.
        #expect(csv.stdoutLines.last == "first,2026-11-20T04:00:00Z,3,0,3,0,0,3,0.15,0.0,,")
        #expect(json.stdout.hasPrefix(#"[{"campaign":"second","began":"2026-11-22T04:00:00Z","total":{"targeted":3,"#))
        let html = try SparrowProcess.run(["report", "-c", "/dev/null", "--format", "html"])
        #expect(html.status == 2 && html.stderr.contains("--format html needs --campaign"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("unused.sqlite").path))
        // A URL that cannot be read is refused without being shown: it may hold a password.
        let refused = try SparrowProcess.run(
            ["report", "-c", "sparrow.yaml", "--store", "postgres://sparrow:s3cret@db:port/sparrow"], in: folder)
        #expect(refused.status == 2 && refused.stderr.contains("sparrow: --store: "), "\(refused.stderr)")
        #expect(!refused.stderr.contains("s3cret"))
    }
}

@Suite struct AudienceFilterCommandTests {
    /// `--filter` keeps the customers who meet it, and a filter that does not compile is a usage error naming its
    /// column.
    @Test func keepsWhoMeetsTheFilterAndNamesTheColumnOfAMistake() throws {
        let folder = try SparrowProcess.temporaryFolder()
        let export = repositoryRoot.appendingPathComponent("Tests/Fixtures/taobao-orders-gbk.csv").path
        let kept = try SparrowProcess.run(
            [
                "audience", "--orders", export, "--now", "2026-12-01T00:00:00Z", "--filter",
                "aov >= 100 and frequency = 1",
            ],
            in: folder)
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(kept.stdoutLines.dropFirst().map { $0.split(separator: ",")[2] } == ["钱七"])
        #expect(kept.stderr.contains("2 customers who bought do not meet the filter"))
        let mistaken = try SparrowProcess.run(
            ["audience", "--orders", export, "--filter", "segment in [at_risk, cant_loose]"], in: folder)
        #expect(mistaken.status == 2)
        #expect(
            mistaken.stderr.contains("--filter: column 22: 'cant_loose' is not a segment (did you mean 'cant_lose'?)"))
    }
}
