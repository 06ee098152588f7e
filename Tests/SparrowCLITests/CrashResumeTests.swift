import Foundation
import SparrowCore
import SparrowGatewaySim
import SparrowStore
import SparrowTestSupport
import Testing

/// `sparrow send` killed with SIGKILL at random moments, resumed each time: the gateway simulator's counters prove
/// that every row reached a gateway honouring idempotency keys exactly once, and one that does not at most once.
@Suite(.timeLimit(.minutes(5))) struct CrashResumeTests {
    /// The kills' moments come from `seed`, fixed so that a failure can be replayed (the timing of the runs still
    /// varies from machine to machine).
    /// On either store: the SQLite file, or a PostgreSQL database.
    @Test(arguments: StoreKind.available, [(true, 0x5EED_0001), (false, 0x5EED_0002)] as [(Bool, UInt64)])
    func killedAtRandomMomentsAndResumedNoRowIsSentTwice(_ kind: StoreKind, _ example: (honoured: Bool, seed: UInt64))
        async throws
    {
        let (honoured, seed) = example
        let simulator = GatewaySimulator(faults: .init(latency: .milliseconds(2)), honoursIdempotency: honoured)
        let rows = 3000
        var random = SplitMix64(seed: seed)
        let folder = try SparrowProcess.temporaryFolder()
        try await kind.withNew(in: folder) { location, store in
            try await withSimulator(simulator) { base in
                try """
                store: "\(location)"
                quiet_hours: off
                gateways:
                  - name: primary
                    url: \(base)/v1/sms
                    format: json
                    fields: { to: "{{to}}", text: "{{text}}" }
                    idempotency: { honoured: \(honoured) }
                    max_in_flight: 16
                """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
                let recipients = folder.appendingPathComponent("recipients.csv")
                try
                    ("phone,name\n" + (0..<rows).map { "1380\(String(1_000_000 + $0)),客户\($0)" }.joined(separator: "\n")
                    + "\n")
                    .write(to: recipients, atomically: true, encoding: .utf8)

                var kills = 0
                var runs = 0
                while true {
                    runs += 1
                    #expect(runs <= 40, "seed \(seed): the campaign never finished")
                    if runs > 40 { break }
                    let started = try await store { try await $0.campaign(id: "crash") != nil }
                    let arguments =
                        started
                        ? ["resume", "-c", "sparrow.yaml", "--campaign", "crash"]
                        : ["send", "-c", "sparrow.yaml", "--campaign", "crash", "--text", "{{name}}，您的包裹已发出"]
                    let process = try SparrowProcess.start(arguments, stdin: recipients, in: folder)
                    if kills < 6 {
                        try await Task.sleep(for: .milliseconds(50 + Int(random.next() % 700)))
                        if !process.hasExited {
                            kill(process.pid, SIGKILL)
                            kills += 1
                        }
                    }
                    let ending = await process.exited()
                    if ending.reason == .exit {
                        #expect(ending.status == 0, "seed \(seed): run \(runs) exited \(ending.status)")
                        break
                    }
                }
                #expect(kills >= 3, "seed \(seed): the runs finished before they could be killed")
                let figures = try await store { try await $0.figures(campaign: "crash") }
                #expect(figures.total.targeted == rows, "seed \(seed)")
                if honoured {
                    #expect(simulator.stats.messages == rows, "seed \(seed)")
                    #expect(simulator.stats.distinctKeys == rows, "seed \(seed)")
                    #expect(figures.total.accepted == rows, "seed \(seed)")
                    // Requests in flight at a kill were sent again under the same key: the gateway counted them as repeats.
                    print(
                        "crash test: \(kind) store, seed \(seed), \(kills) kills, \(runs) runs, \(simulator.stats.duplicates) repeats recognised"
                    )
                } else {
                    // Requests in flight at a kill were not sent again: their messages are unknown, for receipts to settle.
                    #expect(simulator.stats.messages <= rows, "seed \(seed): a message was sent twice")
                    #expect(figures.total.accepted + figures.total.unknown == rows, "seed \(seed)")
                    #expect(figures.total.accepted <= simulator.stats.messages, "seed \(seed)")
                    // A kill leaves as submitting at most two groups of the window's 16, marked ahead, and the answers the
                    // recorder had not committed yet: about 20 ms of the carrier's 500 a second, and one commit's worth.
                    #expect(figures.total.unknown <= kills * 64, "seed \(seed)")
                    print(
                        "crash test: \(kind) store, seed \(seed), \(kills) kills, \(runs) runs, \(figures.total.unknown) left unknown"
                    )
                }
            }
        }
    }

    /// On either store: a SQLite file's campaign is held by a lock file, a PostgreSQL database's by a session's lock.
    @Test(arguments: StoreKind.available)
    func sigtermDrainsTheRequestsInFlightAndTellsHowToResume(_ kind: StoreKind) async throws {
        let simulator = GatewaySimulator(faults: .init(latency: .milliseconds(10)))
        let rows = 600
        let stores = try SparrowProcess.temporaryFolder()
        try await kind.withNew(in: stores) { location, store in
            try await withSimulator(simulator) { base in
                let (folder, recipients) = try SparrowProcess.campaignFolder(
                    gateway: base, maxInFlight: 4, rows: rows, store: location)
                let log = folder.appendingPathComponent("stderr.txt")
                let process = try SparrowProcess.start(
                    ["send", "-c", "sparrow.yaml", "--campaign", "term", "--text", "您好"], stdin: recipients, in: folder,
                    stderr: log)
                while simulator.stats.messages < 40, !process.hasExited { try await Task.sleep(for: .milliseconds(5)) }
                // A second process on the same campaign is turned away while the first runs.
                let secondLog = folder.appendingPathComponent("second.txt")
                let second = try SparrowProcess.start(
                    ["resume", "-c", "sparrow.yaml", "--campaign", "term"], stdin: recipients, in: folder,
                    stderr: secondLog
                )
                #expect(await second.exited().status == 2)
                let refusal = try String(contentsOf: secondLog, encoding: .utf8)
                #expect(refusal.contains("campaign 'term' is being run by another process"), "\(refusal)")
                if kind == .sqlite { #expect(refusal.contains("(pid \(process.pid))")) }
                kill(process.pid, SIGTERM)
                let ending = await process.exited()
                let stderr = try String(contentsOf: log, encoding: .utf8)
                #expect(ending.reason == .exit && ending.status == 1, "\(stderr)")
                #expect(stderr.contains("stopping: no new messages"))
                #expect(stderr.contains("sparrow resume --config sparrow.yaml --campaign term"))
                let sent = simulator.stats.messages
                #expect(sent < rows)
                // Nothing was left in flight: the journal agrees with the gateway.
                let figures = try await store { try await $0.figures(campaign: "term") }
                #expect(figures.total.accepted == sent)

                let resumed = try SparrowProcess.start(
                    ["resume", "-c", "sparrow.yaml", "--campaign", "term"], stdin: recipients, in: folder)
                #expect(await resumed.exited().status == 0)
                #expect(simulator.stats.messages == rows)
                #expect(simulator.stats.duplicates == 0)
            }
        }
    }

    /// A second SIGTERM while the first one's drain waits for answers that do not come ends the process at once,
    /// with 130; the journal survives it as it survives a kill.
    @Test func aSecondSigtermQuitsAtOnce() async throws {
        let simulator = GatewaySimulator(faults: .init(neverAnswered: 1))
        try await withSimulator(simulator) { base in
            let folder = try SparrowProcess.temporaryFolder()
            try """
            store: ./state.sqlite
            quiet_hours: off
            gateways:
              - { name: primary, url: "\(base)/v1/sms", format: json, max_in_flight: 4, timeout: 60s }
            """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
            let recipients = folder.appendingPathComponent("recipients.csv")
            try "phone\n13900000001\n13900000002\n".write(to: recipients, atomically: true, encoding: .utf8)
            let log = folder.appendingPathComponent("stderr.txt")
            let process = try SparrowProcess.start(
                ["send", "-c", "sparrow.yaml", "--campaign", "twice", "--text", "您好"], stdin: recipients, in: folder,
                stderr: log)
            let store = folder.appendingPathComponent("state.sqlite").path
            while !process.hasExited {  // until both requests are out: then the first SIGTERM's drain waits for them
                let marked =
                    FileManager.default.fileExists(atPath: store)
                    ? (try? await SQLiteStore(path: store).figures(campaign: "twice").total.submitted) ?? 0 : 0
                if marked == 2 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            kill(process.pid, SIGTERM)
            while !process.hasExited, !(try String(contentsOf: log, encoding: .utf8)).contains("again to quit now") {
                try await Task.sleep(for: .milliseconds(20))
            }
            kill(process.pid, SIGTERM)
            let ending = await process.exited()
            let stderr = try String(contentsOf: log, encoding: .utf8)
            #expect(ending.reason == .exit && ending.status == 130, "\(stderr)")
        }
    }
}
