import Foundation
import SparrowCore
import SparrowGatewaySim
import SparrowTestSupport
import Testing

/// `sparrow flows --stdin --replay` over a generated Taobao event log (`scripts/gen-events.py`) with the shipped
/// rules (config/flows/), against the gateway simulator: killed with SIGKILL at random moments and run again, it
/// sends exactly what an uninterrupted replay sends, under the same keys, none twice; on either store.
@Suite(.timeLimit(.minutes(5))) struct FlowsCommandTests {
    static let rules = CRMLoopTests.repository.appendingPathComponent("config/flows").path

    /// A configuration named `name`.yaml with its own store, sending to `base`.
    static func configure(_ name: String, gateway base: String, store: String, in folder: URL) throws {
        try """
        store: "\(store)"
        signature: "【青禾】"
        optout_suffix: "回T退订"
        gateways:
          - name: primary
            url: \(base)/v1/sms
            format: json
            fields: { to: "{{to}}", text: "{{text}}" }
            idempotency: { honoured: true }
            max_in_flight: 16
        flows: { rules: \(rules) }
        """.write(to: folder.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
    }

    /// The idempotency keys of the requests the simulator took, from its request log.
    static func keys(_ log: URL) throws -> Set<String> {
        Set(
            try String(contentsOf: log, encoding: .utf8).split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                return fields.count >= 3 && fields[1] != "-" ? String(fields[1]) : nil
            })
    }

    @Test(arguments: StoreKind.available)
    func aReplayKilledAtRandomMomentsSendsWhatAnUninterruptedOneSends(_ kind: StoreKind) async throws {
        let folder = try SparrowProcess.temporaryFolder()
        _ = try CRMLoopTests.generate(
            ["400", "--seed", "9", "--days", "3"], to: "events.jsonl", in: folder, generator: "gen-events.py")
        let events = folder.appendingPathComponent("events.jsonl")
        let (clean, crash) = (folder.appendingPathComponent("clean"), folder.appendingPathComponent("crash"))
        for store in [clean, crash] {
            try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
        }
        try await kind.withNew(in: clean) { cleanStore, _ in
            try await kind.withNew(in: crash) { crashStore, _ in
                try await Self.replayKilledAtRandomMoments(
                    events, stores: (cleanStore, crashStore), in: folder)
            }
        }
    }

    static func replayKilledAtRandomMoments(_ events: URL, stores: (clean: String, crash: String), in folder: URL)
        async throws
    {

        let cleanLog = folder.appendingPathComponent("clean.requests")
        let clean = GatewaySimulator(requestLog: cleanLog.path)
        let status = try await withSimulator(clean) { base in
            try Self.configure("clean", gateway: base, store: stores.clean, in: folder)
            let replay = try await SparrowProcess.outcome(
                ["flows", "-c", "clean.yaml", "--stdin", "--replay"],
                stdin: try Data(contentsOf: events), in: folder)
            #expect(replay.status == 0, "\(replay.stderr)")
            #expect(replay.stdout.contains("rule") && replay.stdout.contains("unpaid-first"))
            return try await SparrowProcess.outcome(
                ["flows", "status", "-c", "clean.yaml", "--format", "json"], in: folder)
        }
        #expect(clean.stats.messages > 300, "the log should keep the flows busy")
        #expect(clean.stats.duplicates == 0)

        let crashLog = folder.appendingPathComponent("crash.requests")
        let crash = GatewaySimulator(faults: .init(latency: .milliseconds(1)), requestLog: crashLog.path)
        var random = SplitMix64(seed: 0x00F1_0E5)
        var (kills, runs) = (0, 0)
        try await withSimulator(crash) { base in
            try Self.configure("crash", gateway: base, store: stores.crash, in: folder)
            while runs < 30 {
                runs += 1
                let process = try SparrowProcess.start(
                    ["flows", "-c", "crash.yaml", "--stdin", "--replay"], stdin: events, in: folder)
                if kills < 4 {
                    try await Task.sleep(for: .milliseconds(200 + Int(random.next() % 1500)))
                    if !process.hasExited {
                        kill(process.pid, SIGKILL)
                        kills += 1
                    }
                }
                let ending = await process.exited()
                if ending.reason == .exit {
                    #expect(ending.status == 0, "run \(runs) exited \(ending.status)")
                    break
                }
            }
            let crashStatus = try await SparrowProcess.outcome(
                ["flows", "status", "-c", "crash.yaml", "--format", "json"], in: folder)
            #expect(crashStatus.stdout == status.stdout)
        }
        #expect(kills >= 2, "the replays finished before they could be killed")
        #expect(crash.stats.messages == clean.stats.messages)
        #expect(crash.stats.distinctKeys == clean.stats.distinctKeys)
        #expect(try Self.keys(crashLog) == Self.keys(cleanLog))
        print("flows crash test: \(kills) kills, \(runs) runs, \(crash.stats.duplicates) repeats recognised")
    }
}

/// `sparrow flows` as a service: Shopify webhooks over HTTP, a timer firing on the wall clock, a payment cancelling a
/// pending reminder, a forged webhook refused, SIGTERM ending it gracefully.
@Suite(.timeLimit(.minutes(2))) struct FlowsServiceCommandTests {
    static func order(_ id: Int, phone: String) -> String {
        // Stamped now: the timers run from the event's own time.
        ##"{"id":\##(id),"name":"#\##(id)","phone":"\##(phone)","customer":{"first_name":"林"},"updated_at":"\##(Timestamp(secondsSince1970: Int64(Date().timeIntervalSince1970)))"}"##
    }

    /// POSTs `body` to `url` with curl, signed as Shopify signs with `secret`; the HTTP status.
    static func post(
        _ url: String, topic: String, id: String, body: String, secret: String = "hush", in folder: URL
    ) async throws -> Int {
        let signature = ShopifyWebhookSignature.signature(body: Array(body.utf8), secret: secret)
        let curl = try await SparrowProcess.outcome(
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "X-Shopify-Topic: \(topic)", "-H",
                "X-Shopify-Webhook-Id: \(id)", "-H", "X-Shopify-Hmac-Sha256: \(signature)", "--data-binary", body, url,
            ], in: folder, program: "/usr/bin/curl")
        return Int(curl.stdout) ?? 0
    }

    /// On either store; a second process on the same store is refused while the first runs.
    @Test(arguments: StoreKind.available)
    func webhooksSetTimersThatFireOnTheClockAndPaymentsCancelThem(_ kind: StoreKind) async throws {
        let simulator = GatewaySimulator()
        let folder = try SparrowProcess.temporaryFolder()
        try await kind.withNew(in: folder) { store, _ in
            try await Self.webhooksSetTimers(store: store, simulator: simulator, in: folder)
        }
    }

    static func webhooksSetTimers(store: String, simulator: GatewaySimulator, in folder: URL) async throws {
        try await withSimulator(simulator) { base in
            try """
            store: "\(store)"
            signature: "【青禾】"
            quiet_hours: off
            gateways:
              - { name: primary, url: "\(base)/v1/sms", format: json }
            flows: { rules: flows.yaml, listen: "127.0.0.1:0", shopify_secret: hush }
            """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
            // `quick` fires a second after order #1 only; `reminder`, an hour after each order, waits, unless paid.
            try """
            rules:
              - { name: quick, on: created, when: { equals: { order: "#1" } }, after: 1s, text: "{{name}}，订单{{order}}已收到" }
              - { name: reminder, on: created, cancel: [paid], after: 1h, text: "{{name}}，订单{{order}}还未付款" }
            """.write(to: folder.appendingPathComponent("flows.yaml"), atomically: true, encoding: .utf8)
            let empty = folder.appendingPathComponent("empty")
            _ = FileManager.default.createFile(atPath: empty.path, contents: nil)
            let log = folder.appendingPathComponent("stderr")
            let process = try SparrowProcess.start(
                ["flows", "-c", "sparrow.yaml"], stdin: empty, in: folder, stderr: log)
            let port = try await SparrowProcess.said(
                /flows listening on http:\/\/127\.0\.0\.1:(\d+)/, in: log, by: process)
            let url = "http://127.0.0.1:\(try #require(port))/shopify"
            let second = try await SparrowProcess.outcome(["flows", "-c", "sparrow.yaml"], in: folder)
            #expect(second.status == 2)
            #expect(second.stderr.contains("'flow.service' is being run by another process"), "\(second.stderr)")
            #expect(
                try await Self.post(
                    url, topic: "orders/create", id: "w1", body: Self.order(1, phone: "+8613800138001"), in: folder)
                    == 200)
            #expect(
                try await Self.post(
                    url, topic: "orders/create", id: "w2", body: Self.order(2, phone: "+8613800138002"), in: folder)
                    == 200)
            #expect(
                try await Self.post(
                    url, topic: "orders/paid", id: "w3", body: Self.order(2, phone: "+8613800138002"), in: folder)
                    == 200)
            let forged = Self.order(3, phone: "+8613800138003")
            #expect(
                try await Self.post(url, topic: "orders/create", id: "w4", body: forged, secret: "guess", in: folder)
                    == 401)
            for _ in 0..<100 where simulator.stats.messages < 1 { try await Task.sleep(for: .milliseconds(100)) }
            try await Task.sleep(for: .seconds(1))  // long enough for a second message, were there one, to show
            #expect(simulator.stats.messages == 1)
            kill(process.pid, SIGTERM)
            let ending = await process.exited()
            #expect(ending.reason == .exit && ending.status == 0)
            let status = try await SparrowProcess.outcome(
                ["flows", "status", "-c", "sparrow.yaml", "--format", "json"], in: folder)
            #expect(status.stdout.contains(#""rule":"quick","pending":0,"sent":1,"cancelled":0"#), "\(status.stdout)")
            #expect(
                status.stdout.contains(#""rule":"reminder","pending":1,"sent":0,"cancelled":1"#), "\(status.stdout)")
            #expect(status.stdout.contains(#""events":3"#))
        }
    }

    @Test func withoutCredentialsItListensOnLoopbackOnly() async throws {
        let folder = try SparrowProcess.temporaryFolder()
        try """
        store: ./state.sqlite
        gateways:
          - { name: primary, url: "http://127.0.0.1:9/v1/sms", format: json }
        flows: { rules: flows.yaml, listen: "0.0.0.0:0" }
        """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        try "rules:\n  - { name: shipped, on: shipped, text: \"【青禾】订单{{order}}已发货\" }\n".write(
            to: folder.appendingPathComponent("flows.yaml"), atomically: true, encoding: .utf8)
        let refused = try await SparrowProcess.outcome(["flows", "-c", "sparrow.yaml"], in: folder)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("flows has neither a token nor an hmac_secret"), "\(refused.stderr)")
    }
}
