import Benchmark
import Foundation
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowGatewaySim
import SparrowStore
import SparrowTestSupport
import SparrowTransport
import Synchronization

/// Inputs shared by the suites: a realistic Chinese marketing text, a two-variable template and rows.
enum Fixture {
    static let chinese = "【青禾旗舰店】王芳，您拍下的羊绒围巾还未付款，库存有限，付款后我们会尽快为您发货。回T退订"
    static let english =
        "Hi Anna, your cart still holds the cashmere scarf. Complete your order today: shop.example/c/8. Reply STOP to opt out"
    static let long = String(repeating: "Your parcel is on its way {and} arrives tomorrow. ", count: 8)
    static let templateText = "{{#nickname}}{{nickname}}{{/nickname}}{{^nickname}}亲{{/nickname}}，您拍下的{{item}}还未付款，库存有限。"
    static let template = try! MessageTemplate(templateText)
    static let numbers = ["138 0013 8000", "+86 198-1234-5678", "0086 16612345678", "１９２１２３４５６７８", "(150) 01234567"]

    static let settings: PlanSettings = PlanSettings(
        template: template, signature: "【青禾旗舰店】", optoutSuffix: "回T退订", defaultRegion: "CN",
        defaultTimeZone: "Asia/Shanghai",
        quietHours: QuietHours(start: WallTime("21:00")!, end: WallTime("08:00")!),
        carriers: CarrierDirectory(try! SparrowConfiguration.builtinCarriers()),
        gateways: [GatewayRoute(name: "primary", pricePerSegment: 0.045, carriers: [])])

    static let now = Timestamp(rfc3339: "2026-11-22T14:00:00Z")!

    /// `count` rows of a CSV campaign as bytes.
    static func csv(rows count: Int) -> [UInt8] {
        var text = "phone,nickname,item\n"
        for index in 0..<count {
            text += "138\(String(format: "%08d", index * 7919 % 100_000_000)),王芳,羊绒围巾\n"
        }
        return Array(text.utf8)
    }
}

/// A store in a folder of its own, for the end-to-end journal benchmark.
struct StoreFixture: Sendable {
    static let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-benchmark-store")
    let store: SQLiteStore

    init() throws {
        try? FileManager.default.removeItem(at: Self.folder)
        store = try SQLiteStore(path: Self.folder.appendingPathComponent("store.sqlite").path)
    }

    /// The answers that accept `entries` at `primary`, each under the gateway's id `gatewayID(entry)`.
    static func accepted(
        _ entries: some Collection<JournalEntry>, gatewayID: (JournalEntry) -> String
    ) -> [SubmitRecord] {
        entries.map { entry in
            SubmitRecord(
                id: entry.id, campaign: entry.campaign, recipient: entry.to, state: .accepted, gateway: "primary",
                gatewayMessageID: gatewayID(entry), attempts: 1, latency: .milliseconds(2), error: nil, at: Fixture.now)
        }
    }

    /// A thousand messages of a new campaign, as the planner hands them to the journal.
    func campaign() async throws -> [JournalEntry] {
        let campaign = "c-\(UUID().uuidString)"
        try await store.beginCampaign(id: campaign, template: Fixture.templateText, at: Fixture.now)
        return (1...1_000).map { line in
            JournalEntry(
                id: "\(campaign)-\(line)", campaign: campaign, line: line, to: "+86138\(String(10_000_000 + line))",
                carrier: "china-mobile", gateway: "primary", text: Fixture.chinese, segments: 1, throttleUnits: 1,
                cost: 0.045,
                sendAt: Fixture.now, state: .ready)
        }
    }
}

/// `sparrow send` in one process with its gateway: the gateway simulator on loopback, the configuration of
/// `scripts/bench-e2e.sh` (template, signature, opt-out suffix, quiet hours, frequency cap, an unthrottled
/// carrier, the JSON dialect with a bearer token and idempotency keys, or batches of 200 numbers a request with a
/// result for each), a real store file and a recipients file of 1,000 rows.
struct SendFixture: Sendable {
    static let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-benchmark-send")
    static let rows = 1_000
    /// Noon in Shanghai: every recipient is outside quiet hours.
    static let now = Timestamp(rfc3339: "2026-11-22T04:00:00Z")!
    /// The simulator and the transport outlive the setup that starts them; the teardown stops them.
    private static let running = Mutex<(simulator: RunningSimulator, transport: CurlTransport)?>(nil)

    let configuration: SparrowConfiguration
    let store: SQLiteStore
    let transport: CurlTransport
    let recipients: String
    /// Whether the gateway takes batches (which carry no idempotency key).
    let batches: Bool

    static func start(batches: Bool = false) async throws -> SendFixture {
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let simulator = try await RunningSimulator(GatewaySimulator())
        let transport = CurlTransport(maxInFlight: 16)
        running.withLock { $0 = (simulator, transport) }
        let yaml = """
            store: \(folder.path)/store.sqlite
            default_region: CN
            default_timezone: Asia/Shanghai
            signature: "【青禾旗舰店】"
            optout_suffix: "回T退订"
            quiet_hours: { start: "21:00", end: "08:00" }
            frequency_cap: { max: 1, per: 24h }
            carriers:
              - { id: china-mobile, country_code: 86, prefixes: [138] }
            gateways:
              - name: primary
                format: json
                auth: { type: bearer, token: bench-token }
                response: { message_id: message_id, error: error }
                split: gateway
                max_in_flight: 16

            """ + (batches ? batchGateway(simulator.baseURL) : singleGateway(simulator.baseURL))
        let configuration = try SparrowConfiguration.parse(
            yaml: yaml, path: folder.appendingPathComponent("sparrow.yaml").path)
        let recipients = folder.appendingPathComponent("recipients.csv")
        try Data(Fixture.csv(rows: rows)).write(to: recipients)
        return SendFixture(
            configuration: configuration, store: try SQLiteStore(path: configuration.store.description),
            transport: transport, recipients: recipients.path, batches: batches)
    }

    /// The rest of the gateway's configuration: one message a request, under its idempotency key.
    private static func singleGateway(_ baseURL: String) -> String {
        """
            url: \(baseURL)/v1/sms
            fields: { to: "{{to}}", text: "{{text}}", client_ref: "{{id}}" }
            idempotency: { header: Idempotency-Key, honoured: true }
        """
    }

    /// The rest of the gateway's configuration: up to 200 numbers of one text a request, a result for each.
    private static func batchGateway(_ baseURL: String) -> String {
        """
            url: \(baseURL)/v1/batch
            fields: { text: "{{text}}" }
            batch: { max: 200, list: to, results: { path: results, number: to,
                     success_field: { path: status, equals: ok }, message_id: message_id } }
        """
    }

    static func stop() async {
        try? FileManager.default.removeItem(at: folder)
        guard let (simulator, transport) = running.withLock({ $0.take() }) else { return }
        transport.shutdown()
        await simulator.stop()
    }

    /// A new campaign wired as `send` wires it, and the reader of its recipients file.
    func campaign(_ id: String) -> (run: CampaignRun, reader: PlanRun) {
        let run = CampaignRun(
            options: .init(campaign: id, template: Fixture.templateText, waitForDeferred: false, window: 16),
            store: store, client: GatewayClient(gateways: configuration.gateways.map(\.endpoint), transport: transport),
            idempotentGateways: batches ? [] : ["primary"], carriers: configuration.carriers,
            quietHours: configuration.quietHours.map { QuietHoursCheck($0, zones: SystemZones(around: Self.now)) },
            clock: CampaignClock(origin: Self.now), progress: SendProgress())
        let reader = PlanRun(
            settings: configuration.planSettings(template: Fixture.template), zones: SystemZones(around: Self.now),
            options: .init(
                format: .csv, now: Self.now, rejectsPath: Self.folder.appendingPathComponent("rejects.jsonl").path))
        return (run, reader)
    }
}

// Names use no '/' or ' ': package-benchmark 1.38 writes static thresholds under a name with those replaced and
// reads them back under the name as it is.
let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .mallocCountTotal, .throughput]
    // Malloc counts are exact: `make benchmark-check` (CI) fails when one grows past its p90 in Thresholds/.
    Benchmark.defaultConfiguration = .init(
        metrics: metrics, maxDuration: .seconds(2), maxIterations: 1_000_000,
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])])

    Benchmark("Segmenting.count-UCS-2", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Segmenter.count(Fixture.chinese))
        }
    }
    Benchmark("Segmenting.count-GSM-7", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Segmenter.count(Fixture.english))
        }
    }
    Benchmark("Segmenting.split-3-part-GSM-7", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Segmenter.split(Fixture.long))
        }
    }
    Benchmark("Templating.render-two-variables", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let row: TemplateValues = ["nickname": "王芳", "item": "羊绒围巾", "phone": "13800138000"]
        for _ in benchmark.scaledIterations {
            blackHole(Fixture.template.render(row))
        }
    }
    Benchmark("Phone.parse-CN-formats", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for index in benchmark.scaledIterations {
            blackHole(PhoneNumberParser.parse(Fixture.numbers[index % Fixture.numbers.count], defaultRegion: "CN"))
        }
    }
    Benchmark("Planning.plan-row", configuration: .init(scalingFactor: .kilo)) { benchmark in
        var planner = Planner(settings: Fixture.settings, zones: SystemZones(around: Fixture.now))
        let row = RecipientRow(line: 2, values: ["phone": "138 0013 8000", "nickname": "王芳", "item": "羊绒围巾"])
        for _ in benchmark.scaledIterations {
            blackHole(planner.plan(row, now: Fixture.now))
        }
    }
    // The plan's output line written by hand against the same line through JSONEncoder (the baseline).
    Benchmark("Output.plan-line-JSONWriter", configuration: .init(scalingFactor: .kilo)) { benchmark in
        var json = JSONWriter()
        for _ in benchmark.scaledIterations {
            json.reset()
            json.object { line in
                line.field("line", 2)
                line.field("to", "+8613800138000")
                line.field("status", "ready")
                line.nullField("reason")
                line.field("carrier", "china-mobile")
                line.field("gateway", "primary")
                line.field("encoding", "UCS-2")
                line.field("units", 44)
                line.field("segments", 1)
                line.field("send_at", "2026-11-22T14:00:00Z")
            }
            blackHole(json.bytes.count)
        }
    }
    Benchmark("Output.plan-line-JSONEncoder", configuration: .init(scalingFactor: .kilo)) { benchmark in
        struct Line: Encodable {
            var line = 2, to = "+8613800138000", status = "ready", reason: String? = nil, carrier = "china-mobile"
            var gateway = "primary", encoding = "UCS-2", units = 44, segments = 1, send_at = "2026-11-22T14:00:00Z"
        }
        let encoder = JSONEncoder()
        for _ in benchmark.scaledIterations {
            blackHole(try encoder.encode(Line()).count)
        }
    }
    Benchmark(
        "Planning.read-CSV-10k-rows",
        configuration: .init(
            metrics: metrics, maxIterations: 200, thresholds: [.mallocCountTotal: .init(relative: [.p90: 2])])
    ) { benchmark in
        let bytes = Fixture.csv(rows: 10_000)
        for _ in benchmark.scaledIterations {
            var reader = RecipientReader()
            var rows = 0
            try reader.consume(bytes[...], isFinal: true) { _ in rows += 1 }
            blackHole(rows)
        }
    }
    // End to end through the journal, as `sparrow send` drives it, in a real SQLite file with durable commits: a
    // campaign's messages journaled in one batch, marked as submitting in groups and answered in batches. One message
    // a request: groups of 16, answers 500 at a time; batched submits: one group (a lane's, about 1,024 messages in
    // whole batches) and answers a request of 200 at a time, each request's ids numbered in sequence by its gateway.
    // Threads and GRDB's queues make the malloc count vary a little from run to run.
    for (name, group, answers) in [
        ("Store.journal-mark-record-1000-messages", 16, 500),
        ("Store.journal-mark-record-1000-messages-in-batches", 1_000, 200),
    ] {
        Benchmark(
            name,
            configuration: .init(
                metrics: metrics, maxDuration: .seconds(5), maxIterations: 100,
                thresholds: [.mallocCountTotal: .init(relative: [.p90: 5])]),
            closure: { benchmark, fixture in
                let entries = try await fixture.campaign()
                benchmark.startMeasurement()
                _ = try await fixture.store.journal(campaign: entries[0].campaign, messages: entries, skipped: [])
                for start in stride(from: 0, to: entries.count, by: group) {
                    try await fixture.store.markSubmitting(
                        entries[start..<min(start + group, entries.count)].map { ($0.id, "primary") })
                }
                for batch in stride(from: 0, to: entries.count, by: answers) {
                    try await fixture.store.record(
                        StoreFixture.accepted(entries[batch..<batch + answers]) { "b\(batch / answers)-\($0.line)" })
                }
            },
            setup: { try StoreFixture() },
            teardown: { try? FileManager.default.removeItem(at: StoreFixture.folder) })
    }
    // Delivery receipts for a campaign's 1,000 answered messages, in the webhook's batches of 16 (its 16-connection
    // gateway's), each matched to its message by the gateway's id and logged, in a real SQLite file.
    Benchmark(
        "Store.apply-1000-receipts",
        configuration: .init(
            metrics: metrics, maxDuration: .seconds(5), maxIterations: 100,
            thresholds: [.mallocCountTotal: .init(relative: [.p90: 5])]),
        closure: { benchmark, fixture in
            let entries = try await fixture.campaign()
            _ = try await fixture.store.journal(campaign: entries[0].campaign, messages: entries, skipped: [])
            try await fixture.store.record(StoreFixture.accepted(entries) { "\($0.id)-g" })
            let receipts = entries.map {
                ReceiptRecord(gateway: nil, gatewayMessageID: "\($0.id)-g", state: .delivered, at: Fixture.now)
            }
            benchmark.startMeasurement()
            for batch in stride(from: 0, to: receipts.count, by: 16) {
                blackHole(try await fixture.store.apply(Array(receipts[batch..<min(batch + 16, receipts.count)])))
            }
        },
        setup: { try StoreFixture() },
        teardown: { try? FileManager.default.removeItem(at: StoreFixture.folder) })
    // The whole of `sparrow send` but its process: 1,000 rows read, planned, journaled, posted over loopback HTTP
    // through libcurl to the gateway simulator in this process (whose own mallocs count too) and recorded; one
    // message a request, and in batches of 200 numbers.
    for batches in [false, true] {
        Benchmark(
            batches ? "Send.campaign-1000-rows-batches-of-200" : "Send.campaign-1000-rows-gateway-sim",
            configuration: .init(
                metrics: metrics, maxDuration: .seconds(10), maxIterations: 30,
                thresholds: [.mallocCountTotal: .init(relative: [.p90: 5])]),
            closure: { benchmark, fixture in
                let (run, reader) = fixture.campaign("c-\(UUID().uuidString)")
                let descriptor = open(fixture.recipients, O_RDONLY)
                defer { close(descriptor) }
                benchmark.startMeasurement()
                _ = try await run.run(reading: (reader, descriptor))
                benchmark.stopMeasurement()
                let accepted = try await fixture.store.figures(campaign: run.options.campaign).total.accepted
                guard accepted == SendFixture.rows else {
                    fatalError("\(accepted) of \(SendFixture.rows) messages accepted")
                }
            },
            setup: { try await SendFixture.start(batches: batches) },
            teardown: { await SendFixture.stop() })
    }
}
