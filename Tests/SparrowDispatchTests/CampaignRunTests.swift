import Foundation
import GRDB
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowGatewaySim
import SparrowReceipts
import SparrowStore
import SparrowTestSupport
import SparrowTransport
import Synchronization
import ServiceLifecycleTestKit
import Testing

/// A campaign's moving parts over a real store file, real loopback HTTP and a real input file.
struct CampaignFixture {
    let folder: URL
    let configuration: SparrowConfiguration
    let store: SQLiteStore

    /// `gateway` is YAML for one gateway at `base`, or `gateways` the whole list; the rest of the configuration is
    /// the example's.
    init(
        base: String, gateway: String = "idempotency: { honoured: true }", gateways: String? = nil, extra: String = "",
        folder: URL = CampaignFixture.newFolder()
    ) throws {
        self.folder = folder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let yaml = """
            store: \(folder.path)/s.sqlite
            default_region: CN
            signature: "【青禾】"
            frequency_cap: { max: 1, per: 24h }
            \(extra)
            gateways:
            """
            + (gateways ?? """

                  - name: primary
                    url: \(base)/v1/sms
                    format: json
                    fields: { to: "{{to}}", text: "{{text}}" }
                    response: { message_id: message_id }
                    max_in_flight: 8
                    \(gateway)
                """)
        configuration = try SparrowConfiguration.parse(yaml: yaml, path: folder.appendingPathComponent("s.yaml").path)
        store = try SQLiteStore(path: configuration.store.description)
    }

    /// A settler for the configuration's provider gateways, on the campaign clock of `now`.
    func settler(transport: CurlTransport, now: String, reopenAfter: Duration = .zero) -> StatusSettler {
        StatusSettler(
            gateways: configuration.gateways.map(\.endpoint), store: store, transport: transport,
            clock: CampaignClock(origin: Timestamp(rfc3339: now)!), reopenAfter: reopenAfter)
    }

    /// A receipts webhook (token `t0ken`) writing to the store of a fixture made in `folder`, reading each of
    /// `gateways`' receipts by its mapping.
    static func webhook(in folder: URL, gateways: [String: ReceiptMapping] = [:]) throws -> ReceiptServer {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return ReceiptServer(
            configuration: .init(port: 0, token: Secret("t0ken"), gateways: gateways),
            store: try SQLiteStore(path: folder.appendingPathComponent("s.sqlite").path))
    }

    /// The campaign's total and the suppression list's size once `done` holds of them, or after 60 s (a machine
    /// under ThreadSanitizer and other loads is slow): receipts and replies come in after the run.
    func awaitTotal(
        _ campaign: String, until done: (_ total: Funnel, _ suppressed: Int) -> Bool
    ) async throws -> (total: Funnel, suppressed: Int) {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let total = try await store.figures(campaign: campaign).total
            let suppressed = try await store.suppressedNumbers().count
            if done(total, suppressed) || ContinuousClock.now >= deadline { return (total, suppressed) }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func newFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-run-\(UUID().uuidString)")
    }

    /// Writes `csv` to a file and opens it for reading.
    func input(_ csv: String) throws -> Int32 {
        let path = folder.appendingPathComponent("recipients-\(UUID().uuidString).csv").path
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        return open(path, O_RDONLY)
    }

    func run(
        _ campaign: String, template: String = "{{name}}，您的订单已发货", csv: String?, now: String,
        transport: CurlTransport, progress: SendProgress = SendProgress(),
        wait: Bool = false, batchSize: Int = 16, clock: RunClock = .continuous, holdout: Double = 0,
        approved: String? = nil, settler: StatusSettler? = nil
    ) async throws -> CampaignRun.Outcome {
        let instant = Timestamp(rfc3339: now)!
        let message: CampaignMessage =
            if let approved { .approved(configuration.templates[approved]!) } else {
                .text(try MessageTemplate(template))
            }
        let run = CampaignRun(
            options: .init(
                campaign: campaign, template: message.template.source, waitForDeferred: wait, window: 8,
                holdout: holdout, approved: approved),
            store: store,
            client: GatewayClient(
                gateways: configuration.gateways.map(\.endpoint), transport: transport,
                approved: message.approved),
            idempotentGateways: Set(configuration.gateways.filter(\.retry.honoursIdempotencyKey).map(\.name)),
            carriers: configuration.carriers,
            quietHours: configuration.quietHours.map { QuietHoursCheck($0, zones: SystemZones(around: instant)) },
            clock: CampaignClock(origin: instant, monotonic: clock), progress: progress, settler: settler)
        guard let csv else { return try await run.run(reading: nil) }
        let contacts = ContactPolicy(
            suppressed: NumberSet(try await store.suppressedNumbers()),
            capped: NumberSet(try await store.cappedNumbers(since: instant + -86_400, excluding: campaign, sends: 1)))
        let reader = PlanRun(
            settings: configuration.planSettings(message: message),
            zones: SystemZones(around: instant),
            options: .init(
                format: nil, now: instant, rejectsPath: folder.appendingPathComponent("rejects.jsonl").path,
                batchSize: batchSize),
            contacts: contacts)
        let descriptor = try input(csv)
        defer { close(descriptor) }
        return try await run.run(reading: (reader, descriptor))
    }
}

func number(_ text: String) -> PhoneNumber {
    try! PhoneNumberParser.parse(text, defaultRegion: "CN").get().number
}

@Suite(.timeLimit(.minutes(2))) struct CampaignRunTests {
    /// 04:00Z is noon in Shanghai and 23:00 in New York.
    static let noon = "2026-11-22T04:00:00Z"

    /// 400 recipients in Shanghai, for the campaigns that are stopped midway.
    static let fourHundredRows =
        "phone,name\n" + (0..<400).map { "1380000\(String(1000 + $0)),客户\($0)" }.joined(separator: "\n")

    /// A 25% holdout journals its share of the numbers as held out and sends them nothing; a resume reading the input
    /// again holds out the same numbers with the share the campaign began with, whatever it is given.
    @Test func aHoldoutIsNeverSentAndKeepsItsShareAcrossAResume() async throws {
        let simulator = GatewaySimulator()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(base: base, extra: "quiet_hours: off")
            _ = try await fixture.run(
                "held", csv: Self.fourHundredRows, now: Self.noon, transport: transport, holdout: 0.25)
            let holdout = Holdout(share: 0.25, campaign: "held")
            let held = (0..<400).filter { holdout.holds(number("1380000\(String(1000 + $0))").e164) }.count
            #expect((60...140).contains(held))
            var figures = try await fixture.store.figures(campaign: "held")
            #expect(figures.total.heldOut == held)
            #expect(figures.total.targeted == 400)
            #expect(simulator.stats.messages == 400 - held)
            _ = try await fixture.run(
                "held", csv: Self.fourHundredRows, now: Self.noon, transport: transport, holdout: 0.9)
            figures = try await fixture.store.figures(campaign: "held")
            #expect(figures.total.heldOut == held)
            #expect(simulator.stats.messages == 400 - held)
        }
    }

    @Test func theFunnelCountsEveryRowExactlyOnce() async throws {
        let simulator = GatewaySimulator()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(base: base)
            try await fixture.store.suppress([number("13900139000").e164Value])
            // An earlier campaign reached 13700137000 an hour ago: the cap (1 a day) holds it back.
            let earlier = Timestamp(rfc3339: "2026-11-22T03:00:00Z")!
            try await fixture.store.beginCampaign(id: "old", template: "x", at: earlier)
            _ = try await fixture.store.journal(
                campaign: "old",
                messages: [
                    JournalEntry(
                        id: "old-2", campaign: "old", line: 2, to: "+8613700137000", carrier: nil, gateway: "primary",
                        text: "x", segments: 1, throttleUnits: 1, cost: 0, sendAt: earlier, state: .ready)
                ], skipped: [])
            try await fixture.store.record([
                SubmitRecord(
                    id: "old-2", campaign: "old", recipient: "+8613700137000", state: .accepted, gateway: "primary",
                    gatewayMessageID: "g", attempts: 1, latency: .milliseconds(1), error: nil, at: earlier)
            ])
            let csv = """
                phone,name,tz
                13800138000,王,
                138 0013 8000,王,
                12345,李,
                13900139000,赵,
                13700137000,钱,
                +1 202 555 0123,Ann,America/New_York
                15000150000,,
                18600186000,孙,

                """
            let outcome = try await fixture.run("spring", csv: csv, now: Self.noon, transport: transport)
            #expect(!outcome.stopped && outcome.inputComplete)
            #expect(outcome.nextRelease == Timestamp(rfc3339: "2026-11-22T13:00:00Z"))  // 08:00 in New York
            let figures = try await fixture.store.figures(campaign: "spring")
            var expected = Funnel()
            (expected.targeted, expected.rejected, expected.duplicate, expected.suppressed, expected.capped) = (
                8, 2, 1, 1, 1
            )
            (expected.deferred, expected.submitted, expected.accepted, expected.pending) = (1, 2, 2, 2)
            expected.segments = 2
            #expect(figures.total.latencyP50 != nil)
            expected.latencyP50 = figures.total.latencyP50
            expected.latencyP99 = figures.total.latencyP99
            #expect(figures.total == expected)
            #expect(simulator.stats.messages == 2)
            let rejects = try String(
                contentsOf: fixture.folder.appendingPathComponent("rejects.jsonl"), encoding: .utf8)
            #expect(rejects.contains(#""line":4,"reason":"invalid-phone""#))
            #expect(rejects.contains(#""line":8,"reason":"missing-variable""#))

            // Resumed after the quiet hours ended in New York: the deferred message goes, nothing else again.
            let later = try await fixture.run("spring", csv: nil, now: "2026-11-22T13:00:00Z", transport: transport)
            #expect(later.nextRelease == nil)
            #expect(simulator.stats.messages == 3)
            #expect(simulator.stats.duplicates == 0)
            #expect(try await fixture.store.figures(campaign: "spring").total.accepted == 3)
        }
    }

    @Test func aStoppedCampaignResumesWithoutSendingAnythingTwice() async throws {
        let simulator = GatewaySimulator(faults: .init(latency: .milliseconds(5)))
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(base: base)
            let csv = Self.fourHundredRows
            let progress = SendProgress()
            let first = try await testGracefulShutdown { shutdown in
                let watcher = Task {
                    while progress.snapshot.accepted < 60 { try await Task.sleep(for: .milliseconds(2)) }
                    shutdown.triggerGracefulShutdown()
                }
                defer { watcher.cancel() }
                return try await fixture.run(
                    "resumed", csv: csv, now: Self.noon, transport: transport, progress: progress)
            }
            #expect(first.stopped)
            #expect(!first.inputComplete)
            let sentBefore = simulator.stats.messages
            #expect(sentBefore >= 60 && sentBefore < 400)
            let pending = try await fixture.store.figures(campaign: "resumed").total.pending
            #expect(pending == 400 - sentBefore || pending > 0)

            let second = try await fixture.run("resumed", csv: csv, now: Self.noon, transport: transport)
            #expect(!second.stopped && second.inputComplete)
            #expect(simulator.stats.messages == 400)
            #expect(simulator.stats.duplicates == 0)  // a clean stop leaves nothing in flight
            let figures = try await fixture.store.figures(campaign: "resumed")
            #expect(figures.total.targeted == 400 && figures.total.accepted == 400)
        }
    }

    /// Cancelling a run's task stops it at once: it throws `CancellationError` without waiting for the requests in
    /// flight, and a resume sends every message that had not reached the gateway, once.
    @Test func aCancelledRunStopsAtOnceAndAResumeFinishesIt() async throws {
        let simulator = GatewaySimulator(faults: .init(latency: .milliseconds(5)))
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(base: base)
            let csv = Self.fourHundredRows
            let progress = SendProgress()
            let running = Task {
                try await fixture.run("cut", csv: csv, now: Self.noon, transport: transport, progress: progress)
            }
            while progress.snapshot.accepted < 60 { try await Task.sleep(for: .milliseconds(2)) }
            running.cancel()
            await #expect(throws: CancellationError.self) { try await running.value }
            #expect(simulator.stats.messages < 400)

            let resumed = try await fixture.run("cut", csv: csv, now: Self.noon, transport: transport)
            #expect(!resumed.stopped && resumed.inputComplete)
            #expect(simulator.stats.distinctKeys == 400)  // every message reached the gateway, under its own key
            let figures = try await fixture.store.figures(campaign: "cut")
            #expect(figures.total.targeted == 400 && figures.total.accepted == 400)
        }
    }

    /// A run waiting for deferred messages sleeps on its clock until their release, then sends them; a graceful
    /// shutdown while it sleeps ends it, stopped, with the release still ahead.
    @Test(arguments: [false, true]) func aRunWaitsOnItsClockForDeferredMessages(shutDownWhileWaiting: Bool) async throws
    {
        let simulator = GatewaySimulator()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(base: base)
            let csv = "phone,name,tz\n13800138000,王,\n+1 202 555 0123,Ann,America/New_York\n"
            let clock = TestClock()
            let outcome = try await testGracefulShutdown { shutdown in
                let running = Task {
                    try await fixture.run(
                        "later", csv: csv, now: Self.noon, transport: transport, wait: true, clock: RunClock(clock))
                }
                try await clock.sleeper(until: CarrierThrottle.hold)  // China Mobile's lane holds its request
                clock.advance(by: CarrierThrottle.hold)
                try await clock.sleeper(until: .seconds(9 * 3600))  // 08:00 in New York, nine hours on
                #expect(simulator.stats.messages == 1)
                if shutDownWhileWaiting {
                    shutdown.triggerGracefulShutdown()
                } else {
                    clock.advance(by: .seconds(9 * 3600))
                }
                return try await running.value
            }
            #expect(outcome.stopped == shutDownWhileWaiting)
            #expect(outcome.nextRelease == (shutDownWhileWaiting ? Timestamp(rfc3339: "2026-11-22T13:00:00Z") : nil))
            #expect(simulator.stats.messages == (shutDownWhileWaiting ? 1 : 2))
        }
    }

    /// A throttled lane's requests go a hold after their group's admission, on the run's clock, and not before: they
    /// leave on the throttle's schedule whenever their mark was committed.
    @Test func aThrottledGroupGoesAHoldAfterItsAdmission() async throws {
        let simulator = GatewaySimulator()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(base: base)
            let csv = "phone,name\n13800138000,王\n13900139000,李\n13700137000,张\n"
            let clock = TestClock()
            let running = Task {
                try await fixture.run("held", csv: csv, now: Self.noon, transport: transport, clock: RunClock(clock))
            }
            try await clock.sleeper(until: CarrierThrottle.hold)
            #expect(simulator.stats.messages == 0)
            clock.advance(by: CarrierThrottle.hold - .nanoseconds(1))
            try await Task.sleep(for: .milliseconds(100))
            #expect(simulator.stats.messages == 0)
            clock.advance(by: .nanoseconds(1))
            _ = try await running.value
            #expect(simulator.stats.messages == 3)
            #expect(try await fixture.store.figures(campaign: "held").total.accepted == 3)
        }
    }

    @Test(arguments: [true, false])
    func messagesInFlightAtACrashAreResentOnlyToAGatewayHonouringKeys(honoured: Bool) async throws {
        let simulator = GatewaySimulator(honoursIdempotency: honoured)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(base: base, gateway: "idempotency: { honoured: \(honoured) }")
            // As a crash leaves them: three messages marked as submitting, their requests gone, the answers lost.
            let entries = try await fixture.journalFive("crashed", reached: 3, transport: transport)
            try await fixture.store.markSubmitting(entries.prefix(3).map { ($0.id, "primary") })

            let outcome = try await fixture.run("crashed", csv: nil, now: Self.noon, transport: transport)
            #expect(outcome.inFlightResent == (honoured ? 3 : 0))
            #expect(outcome.inFlightUnknown == (honoured ? 0 : 3))
            #expect(simulator.stats.messages == 5)  // every customer got the message once
            #expect(simulator.stats.duplicates == (honoured ? 3 : 0))  // the gateway recognised the resent keys
            let figures = try await fixture.store.figures(campaign: "crashed")
            #expect(figures.total.accepted == (honoured ? 5 : 2))
            #expect(figures.total.pending == 5)  // accepted and awaiting receipts, or unknown
            #expect(figures.total.unknown == (honoured ? 0 : 3))
        }
    }

    /// A lane marks messages as submitting ahead of their requests: two groups of the window's size (8) at most
    /// when a crash would leave them unknown, groups of up to 256 when every gateway honours keys and they would be
    /// resent (groups of four windows, as before, reach 72 at most). Sampled through the run: the `submitting` rows
    /// whose requests have not been answered, so the marked ones and the 8 in flight. The carrier has no rate: a
    /// throttled lane also has what it admitted within its last hold marked ahead (`CarrierThrottle.hold`).
    @Test(arguments: [true, false])
    func lanesMarkAheadFurtherOnlyWhenEveryGatewayHonoursKeys(honoured: Bool) async throws {
        let simulator = GatewaySimulator(faults: .init(latency: .milliseconds(50)), honoursIdempotency: honoured)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(
                base: base, gateway: "idempotency: { honoured: \(honoured) }",
                extra: "carriers: [{ id: china-mobile, country_code: 86, prefixes: [138] }]")
            let csv = "phone,name\n" + (0..<200).map { "1380000\(String(1000 + $0)),客户\($0)" }.joined(separator: "\n")
            var readOnly = Configuration()
            readOnly.readonly = true
            let reader = try DatabaseQueue(path: fixture.configuration.store.description, configuration: readOnly)
            let done = Atomic(false)
            let sampling = Task {
                var (deepest, samples) = (0, 0)
                while !done.load(ordering: .acquiring) {
                    let (submitting, answered) = try await reader.read { db in
                        let counts = try Row.fetchOne(
                            db, sql: "SELECT SUM(state = 'submitting'), SUM(rank >= 2) FROM message")
                        return (counts?[0] as Int? ?? 0, counts?[1] as Int? ?? 0)
                    }
                    // Answers the recorder has not written yet are still `submitting` in the journal.
                    deepest = max(deepest, submitting - (simulator.stats.messages - answered))
                    samples += 1
                    try await Task.sleep(for: .milliseconds(2))
                }
                return (deepest, samples)
            }
            // The rows in one batch: a lane's groups are never larger than the batches it is handed.
            _ = try await fixture.run("ahead", csv: csv, now: Self.noon, transport: transport, batchSize: 512)
            done.store(true, ordering: .releasing)
            let (deepest, samples) = try await sampling.value
            #expect(simulator.stats.messages == 200)
            #expect(samples > 50)
            if honoured { #expect(deepest > 80, "\(deepest)") } else { #expect(deepest <= 24, "\(deepest)") }
        }
    }

    @Test(arguments: [true, false])
    func messagesLeftUnknownAreResentOnlyToAGatewayHonouringKeys(honoured: Bool) async throws {
        let simulator = GatewaySimulator(honoursIdempotency: honoured)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(base: base, gateway: "idempotency: { honoured: \(honoured) }")
            // As an earlier run left them: three messages whose attempts all failed, one of them after the request
            // left; the gateway took two of them, and nobody knows.
            let now = Timestamp(rfc3339: Self.noon)!
            let entries = try await fixture.journalFive("unsure", reached: 2, transport: transport)
            try await fixture.store.record(
                entries.prefix(3).map {
                    SubmitRecord(
                        id: $0.id, campaign: $0.campaign, recipient: $0.to, state: .unknown, gateway: "primary",
                        gatewayMessageID: nil, attempts: 4, latency: nil, error: "gave up after 4 attempts: timed out",
                        at: now)
                })

            let outcome = try await fixture.run("unsure", csv: nil, now: Self.noon, transport: transport)
            #expect(outcome.unknownResent == (honoured ? 3 : 0))
            #expect(outcome.inFlightResent == 0)
            #expect(simulator.stats.messages == (honoured ? 5 : 4))  // nobody got it twice; all got it when honoured
            #expect(simulator.stats.duplicates == (honoured ? 2 : 0))  // the gateway recognised the two it had
            let figures = try await fixture.store.figures(campaign: "unsure")
            #expect(figures.total.accepted == (honoured ? 5 : 2))
            #expect(figures.total.unknown == (honoured ? 0 : 3))
            // Each counts once against the cap.
            #expect(try await fixture.store.cappedNumbers(since: now + -60, excluding: nil, sends: 1).count == 5)
            #expect(try await fixture.store.cappedNumbers(since: now + -60, excluding: nil, sends: 2).isEmpty)
        }
    }

    /// Receipts posted one a request, and in JSON lists of up to 16.
    @Test(arguments: [1, 16])
    func receiptsSettleTheCampaignAndAnUnsubscribeHoldsTheNextOne(perPost: Int) async throws {
        let folder = CampaignFixture.newFolder()
        let webhook = try CampaignFixture.webhook(in: folder)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withReceiptServer(webhook) { receiptsBase in
            // Receipts out of order (up to 300 ms apart) and half of them twice.
            let simulator = GatewaySimulator(
                receipts: .init(
                    url: receiptsBase + "/dlr", token: "t0ken", delay: .milliseconds(20), jitter: .milliseconds(300),
                    delivered: 0.7, failed: 0.2, duplicates: 0.5, perPost: perPost))
            try await withSimulator(simulator) { base in
                let fixture = try CampaignFixture(base: base, folder: folder)
                let csv =
                    "phone,name\n" + (0..<200).map { "1360000\(String(1000 + $0)),客户\($0)" }.joined(separator: "\n")
                _ = try await fixture.run("dlr", csv: csv, now: Self.noon, transport: transport)
                let total = try await fixture.awaitTotal("dlr") { total, _ in total.pending == 0 }.total
                #expect(total.accepted == 200 && total.pending == 0)
                #expect(total.delivered + total.failed == 200)
                #expect((100..<180).contains(total.delivered), "\(total.delivered) delivered of 200 at 70%")
                let stats = simulator.stats
                #expect(stats.receipts >= 200)
                if perPost == 1 {
                    #expect(stats.receiptPosts == stats.receipts)
                } else {
                    // Lists were posted; how full they are depends on the timing (under ThreadSanitizer, 3.7 a post).
                    #expect(stats.receiptPosts < stats.receipts, "\(stats.receiptPosts) posts")
                }

                // The customer of line 2 answers "TD": the next campaign holds that number back.
                let reply = await transport.perform(
                    GatewayRequest(
                        url: receiptsBase + "/mo",
                        headers: ["Authorization: Bearer t0ken", "Content-Type: application/x-www-form-urlencoded"],
                        body: Array("from=%2B8613600001000&text=TD".utf8)))
                guard case .answered(let answer) = reply else { throw CancellationError() }
                #expect(answer.status == 200)
                _ = try await fixture.run("next", csv: csv, now: "2026-11-25T04:00:00Z", transport: transport)
                let next = try await fixture.store.figures(campaign: "next").total
                #expect(next.suppressed == 1 && next.accepted == 199)
            }
        }
    }

    /// Held by quiet hours, then sent in the morning: except to a number unsubscribed in the meantime.
    @Test func messagesWhoseQuietHoursBeganWhileTheyWaitedAreHeldAgain() async throws {
        let simulator = GatewaySimulator()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(base: base)
            let noon = Timestamp(rfc3339: Self.noon)!
            // Decided at noon in Shanghai; the run stopped before they went, and is resumed at 23:00 there.
            try await fixture.store.beginCampaign(id: "late", template: "您好", at: noon)
            _ = try await fixture.store.journal(
                campaign: "late",
                messages: (2...4).map { line in
                    JournalEntry(
                        id: "late-\(line)", campaign: "late", line: line, to: "+861390000100\(line)", carrier: nil,
                        gateway: "primary", text: "您好", segments: 1, throttleUnits: 1, cost: 0, sendAt: noon,
                        state: .ready, timeZone: "Asia/Shanghai")
                }, skipped: [])
            let night = try await fixture.run("late", csv: nil, now: "2026-11-22T15:00:00Z", transport: transport)
            #expect(simulator.stats.messages == 0)
            #expect(night.nextRelease == Timestamp(rfc3339: "2026-11-23T00:00:00Z"))  // 08:00 in Shanghai
            #expect(try await fixture.store.figures(campaign: "late").total.deferred == 3)

            // Overnight, the customer of line 3 answered another campaign's message with TD.
            try await fixture.store.suppress([PhoneNumber.value(ofE164: "+8613900001003")])
            let morning = try await fixture.run("late", csv: nil, now: "2026-11-23T00:00:00Z", transport: transport)
            #expect(morning.nextRelease == nil)
            #expect(simulator.stats.messages == 2)  // never to someone who unsubscribed
            let figures = try await fixture.store.figures(campaign: "late").total
            #expect(figures.accepted == 2 && figures.failed == 1)
        }
    }
}

extension CampaignFixture {
    /// Journals five ready messages of `campaign` (lines 2…6) at noon, and hands the first `reached` of them to the
    /// gateway straight through a client, as an earlier run did before it lost their answers.
    func journalFive(_ campaign: String, reached: Int, transport: CurlTransport) async throws -> [JournalEntry] {
        let now = Timestamp(rfc3339: CampaignRunTests.noon)!
        let entries = (2...6).map { line in
            JournalEntry(
                id: "\(campaign)-\(line)", campaign: campaign, line: line, to: "+861390000100\(line)", carrier: nil,
                gateway: "primary", text: "您好", segments: 1, throttleUnits: 1, cost: 0, sendAt: now, state: .ready)
        }
        try await store.beginCampaign(id: campaign, template: "您好", at: now)
        _ = try await store.journal(campaign: campaign, messages: entries, skipped: [])
        let client = GatewayClient(gateways: configuration.gateways.map(\.endpoint), transport: transport)
        for entry in entries.prefix(reached) {
            _ = try await client.submit(
                OutboundMessage(id: entry.id, to: entry.to, text: entry.text, gateway: "primary"))
        }
        return entries
    }
}
