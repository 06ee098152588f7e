import Foundation
import SparrowCore
import SparrowGatewaySim
import SparrowStore
import SparrowTestSupport
import SparrowTransport
import Testing

/// `sparrow worker`: processes sharing one campaign through a PostgreSQL store.
@Suite(
    .enabled(if: TestDatabase.url != nil, "needs PostgreSQL: run under scripts/with-postgres.sh (make test does)"),
    .timeLimit(.minutes(3)))
struct WorkerCommandTests {
    /// `send` journals and sends; two workers join it. One is killed with SIGKILL partway: once its lease runs out,
    /// the others take over what it held, the messages it had in flight sent again under their keys. The gateway,
    /// honouring keys, took every row once, and every message is accepted.
    @Test func workersShareACampaignAndTakeOverADeadOnesMessages() async throws {
        let simulator = GatewaySimulator(faults: .init(latency: .milliseconds(5)), honoursIdempotency: true)
        let rows = 2000
        try await StoreKind.postgres.withNew(in: FileManager.default.temporaryDirectory) { location, store in
            try await withSimulator(simulator) { base in
                let (folder, recipients) = try SparrowProcess.campaignFolder(
                    gateway: base, maxInFlight: 4, rows: rows, store: location,
                    gatewayOptions: "idempotency: { honoured: true }")
                let empty = folder.appendingPathComponent("empty")
                try Data().write(to: empty)
                func worker(_ name: String, _ more: [String] = []) throws -> (SparrowProcess.Running, URL) {
                    let log = folder.appendingPathComponent("\(name).err")
                    let process = try SparrowProcess.start(
                        ["worker", "-c", "sparrow.yaml", "--campaign", "shared", "--lease", "2", "--poll", "100"]
                            + more, stdin: empty, in: folder, stderr: log)
                    return (process, log)
                }
                let (doomed, _) = try worker("doomed")
                let (survivor, survivorLog) = try worker("survivor", ["--metrics-listen", "127.0.0.1:0"])
                let sendLog = folder.appendingPathComponent("send.err")
                let send = try SparrowProcess.start(
                    ["send", "-c", "sparrow.yaml", "--campaign", "shared", "--text", "您好"], stdin: recipients,
                    in: folder, stderr: sendLog)
                while simulator.stats.messages < rows / 4, !send.hasExited {
                    try await Task.sleep(for: .milliseconds(5))
                }
                kill(doomed.pid, SIGKILL)
                // After the kill, and before the survivor has taken over (the dead one's lease runs 2 s): a
                // heartbeat is renewed every two thirds of a second.
                try await Task.sleep(for: .milliseconds(800))
                let metrics = try await SparrowProcess.scrapeMetrics(of: survivor, log: survivorLog) ?? ""
                let listed = try await SparrowProcess.outcome(
                    ["workers", "-c", "sparrow.yaml", "--format", "json"], in: folder)
                let sent = await send.exited()
                let sendSays = try String(contentsOf: sendLog, encoding: .utf8)
                #expect(sent.status == 0, "\(sendSays)")
                let survived = await survivor.exited()
                let survivorSays = try String(contentsOf: survivorLog, encoding: .utf8)
                #expect(survived.status == 0, "\(survivorSays)")
                let own = try #require(survivorSays.firstMatch(of: /this worker sent (\d+) messages/)).1
                #expect(Int(own)! > 0, "\(survivorSays)")
                let claimed = metrics.firstMatch(of: /\nsparrow_worker_claimed_total (\d+)\n/).map { Int($0.1)! }
                #expect((claimed ?? 0) > 0, "\(metrics)")
                let renewed = metrics.firstMatch(of: /sparrow_worker_heartbeats_total\{result="renewed"\} (\d+)\n/)
                #expect((renewed.map { Int($0.1)! } ?? 0) >= 1, "\(metrics)")
                #expect(metrics.contains(#"sparrow_worker_heartbeats_total{result="missed"} 0"#), "\(metrics)")
                #expect(metrics.contains("sparrow_worker_left_to_others_total "), "\(metrics)")
                // The survivor and `send` are listed, each with what it has sent by its last heartbeat.
                #expect(listed.status == 0, "\(listed.stderr)")
                #expect(listed.stdout.contains(#""pid":\#(survivor.pid),"#), "\(listed.stdout)")
                #expect(listed.stdout.contains(#""messages_per_second":"#), "\(listed.stdout)")
                _ = await doomed.exited()
            }
            let figures = try await store { try await $0.figures(campaign: "shared") }
            #expect(figures.total.accepted == rows && figures.total.unknown == 0)
            #expect(simulator.stats.distinctKeys == rows)
            print("worker test: \(simulator.stats.duplicates) repeats recognised after the kill")
        }
    }

    /// Two `sparrow receipts` webhooks on one database, as behind a load balancer that retries on another instance:
    /// every receipt posted to both at once. Each message takes its receipt once, whichever instance wrote it first.
    @Test func twoReceiptsWebhooksShareOneDatabase() async throws {
        let simulator = GatewaySimulator()
        let rows = 300
        try await StoreKind.postgres.withNew(in: FileManager.default.temporaryDirectory) { location, store in
            try await withSimulator(simulator) { base in
                let (folder, recipients) = try SparrowProcess.campaignFolder(
                    gateway: base, maxInFlight: 8, rows: rows, store: location,
                    extra: #"receipts: { listen: "127.0.0.1:0", token: t0ken }"#)
                let send = try await SparrowProcess.outcome(
                    ["send", "-c", "sparrow.yaml", "--campaign", "dlr", "--text", "您好"],
                    stdin: try Data(contentsOf: recipients), in: folder)
                #expect(send.status == 0, "\(send.stderr)")
                let empty = folder.appendingPathComponent("empty")
                try Data().write(to: empty)
                var webhooks: [(process: SparrowProcess.Running, base: String)] = []
                for name in ["a", "b"] {
                    let printed = folder.appendingPathComponent("receipts-\(name).out")
                    let process = try SparrowProcess.start(
                        ["receipts", "-c", "sparrow.yaml"], stdin: empty, in: folder, stdout: printed)
                    let listening = try await SparrowProcess.said(
                        /listening on (http:\/\/127\.0\.0\.1:\d+)/, in: printed, by: process)
                    webhooks.append((process, try #require(listening)))
                }
                // Two in three delivered, the rest undelivered; each posted to both webhooks at once.
                let transport = CurlTransport()
                defer { transport.shutdown() }
                @Sendable func post(_ body: String, to base: String) async -> Int {
                    let request = GatewayRequest(
                        url: base + "/dlr", method: .post,
                        headers: ["Authorization: Bearer t0ken", "Content-Type: application/json"],
                        body: Array(body.utf8))
                    guard case .answered(let answer) = await transport.perform(request) else { return 0 }
                    return answer.status
                }
                var statuses: [Int] = []
                let (a, b) = (webhooks[0].base, webhooks[1].base)
                for message in 1...rows {
                    let status = message % 3 == 0 ? "failed" : "delivered"
                    let body = #"{"message_id":"sim-\#(message)","status":"\#(status)"}"#
                    async let first = post(body, to: a)
                    async let second = post(body, to: b)
                    statuses += [await first, await second]
                }
                #expect(statuses.count == 2 * rows && statuses.allSatisfy { $0 == 200 }, "\(Set(statuses))")
                for webhook in webhooks {
                    kill(webhook.process.pid, SIGTERM)
                    let ended = await webhook.process.exited()
                    #expect(ended.status == 0)
                }
            }
            let total = try await store { try await $0.figures(campaign: "dlr") }.total
            #expect(total.accepted == rows && total.pending == 0)
            #expect(total.delivered == rows - rows / 3 && total.failed == rows / 3, "\(total)")
        }
    }

    @Test func aFileStoreHasNoWorkers() throws {
        let folder = try SparrowProcess.temporaryFolder()
        try """
        store: ./state.sqlite
        gateways:
          - { name: primary, url: "http://127.0.0.1:9/v1/sms", format: json }
        """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        for command in [["worker", "--campaign", "c1"], ["workers"]] {
            let outcome = try SparrowProcess.run(command + ["-c", "sparrow.yaml"], in: folder)
            #expect(outcome.status == 2)
            #expect(outcome.stderr.contains("workers share a PostgreSQL store: set store to a postgres:// URL"))
        }
    }
}
