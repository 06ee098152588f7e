import Foundation
import GRDB
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowGatewaySim
import SparrowTestSupport
import SparrowTransport
import Testing

@testable import SparrowStore

/// A replayed event log, on its own time, through the shipped kinds of rules and a real gateway over loopback.
@Suite(.timeLimit(.minutes(2))) struct FlowServiceTests {
    static let rules = """
        rules:
          - name: unpaid-first
            on: created
            cancel: [paid, closed]
            after: 30m
            text: "{{name}}，订单{{order}}还未付款"
            deadline: { close_after: 24h, if_quiet: send-before, earliest: 15m }
          - name: unpaid-second
            on: created
            cancel: [paid, closed]
            after: 6h
            text: "订单{{order}}快关闭了"
            deadline: { close_after: 24h, if_quiet: skip }
          - name: shipped
            on: shipped
            text: "订单{{order}}已发货"
          - name: below-threshold
            on: paid
            once: customer-day
            purpose: marketing
            after: 6m
            when: { day_total: { min: 1, max: 79 } }
            text: "满79.9减5"
        """

    /// `2026-12-01 10:00` in Shanghai.
    static func local(_ text: String) -> Timestamp { Timestamp(rfc3339: text + "+08:00")! }

    struct Log {
        var events: [OrderEvent] = []

        mutating func add(_ kind: OrderEvent.Kind, _ order: String, at: String, _ fields: [String: String] = [:]) {
            var fields = fields
            fields["order"] = order
            events.append(
                OrderEvent(
                    source: "taobao", id: "\(kind)-\(order)", order: order, kind: kind, at: FlowServiceTests.local(at),
                    fields: fields))
        }
    }

    static func phone(_ index: Int) -> String { "1380013800\(index)" }

    /// The log: what each order does, and what its flows must do.
    static var log: Log {
        var log = Log()
        // A: first reminder at 10:30; paid at 12:00, so no second one.
        log.add(.created, "A", at: "2026-12-01T10:00:00", ["phone": phone(1), "name": "甲", "amount": "120"])
        log.add(.paid, "A", at: "2026-12-01T12:00:00")
        // B: paid before its reminder; shipped at 15:00.
        log.add(.created, "B", at: "2026-12-01T10:05:00", ["phone": phone(2), "name": "乙", "amount": "120"])
        log.add(.paid, "B", at: "2026-12-01T10:20:00")
        log.add(.shipped, "B", at: "2026-12-01T15:00:00")
        // F: no number: its first reminder is skipped with the reason.
        log.add(.created, "F", at: "2026-12-01T10:10:00", ["name": "无"])
        log.add(.paid, "F", at: "2026-12-01T11:00:00")
        // G: a suppressed number.
        log.add(.created, "G", at: "2026-12-01T11:00:00", ["phone": phone(7), "name": "庚"])
        log.add(.paid, "G", at: "2026-12-01T11:45:00")
        // D: closes at 02:00; due 21:00 in quiet hours: sent at 20:59, 29 minutes after the order; its second
        // (02:30) would come after the close.
        log.add(
            .created, "D", at: "2026-12-01T20:30:00",
            ["phone": phone(4), "name": "丁", "closes_at": "2026-12-02T02:00:00+08:00"])
        // E: closes after the default 24 h: both reminders (21:20, 02:50) held till 08:00, still before the close.
        log.add(.created, "E", at: "2026-12-01T20:50:00", ["phone": phone(5), "name": "戊"])
        // C: closes at 02:00; 20:59 would be 9 minutes after the order, less than the 15 asked: skipped.
        log.add(
            .created, "C", at: "2026-12-01T20:50:00",
            ["phone": phone(3), "name": "丙", "closes_at": "2026-12-02T02:00:00+08:00"])
        // H: pays 59 at 21:58: no reminder; the upsell goes at 08:00, outside quiet and inside marketing hours.
        log.add(.created, "H", at: "2026-12-01T21:50:00", ["phone": phone(8), "name": "辛", "amount": "59"])
        log.add(.paid, "H", at: "2026-12-01T21:58:00")
        log.add(.paid, "E", at: "2026-12-02T15:00:00")
        return log
    }

    /// What the gateway must get: campaign, number, send time (UTC).
    static let expected: Set<String> = [
        "flow.unpaid-first +86\(phone(1)) 2026-12-01T02:30:00Z",
        "flow.shipped +86\(phone(2)) 2026-12-01T07:00:00Z",
        "flow.unpaid-first +86\(phone(4)) 2026-12-01T12:59:00Z",
        "flow.unpaid-first +86\(phone(5)) 2026-12-02T00:00:00Z",
        "flow.unpaid-second +86\(phone(5)) 2026-12-02T00:00:00Z",
        "flow.below-threshold +86\(phone(8)) 2026-12-02T00:00:00Z",
    ]

    static func replay(_ events: [OrderEvent], fixture: CampaignFixture, base: String) async throws {
        let configuration = fixture.configuration
        let flows = try #require(configuration.flows)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let zones = SystemZones(around: local("2026-12-01T00:00:00"))
        let time = EventTime(try await fixture.store.lastFlowActivity() ?? Timestamp(secondsSince1970: 0))
        let service = FlowService(
            scheduler: FlowScheduler(
                rules: flows.rules,
                schedule: FlowSchedule(
                    quietHours: configuration.quietHours, outsideMarketingHours: flows.outsideMarketingHours),
                defaultRegion: "CN", defaultTimeZone: "Asia/Shanghai", zones: zones),
            settings: { configuration.planSettings(message: $0) }, zones: zones,
            store: fixture.store,
            client: GatewayClient(gateways: configuration.gateways.map(\.endpoint), transport: transport),
            idempotentGateways: ["primary"], carriers: configuration.carriers, window: 8,
            clock: CampaignClock(following: time))
        let queue = BoundedQueue<[OrderEvent]>(capacity: 2)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { queue.close() }
                for start in stride(from: 0, to: events.count, by: 3) {  // small batches: ingests span them
                    try await queue.put(Array(events[start..<min(start + 3, events.count)]))
                }
            }
            group.addTask { try await service.replay(queue, time: time) }
            try await group.waitForAll()
        }
    }

    static func fixture(base: String, rules: String = Self.rules, customers: String = "phone\n") throws
        -> CampaignFixture
    {
        let folder = CampaignFixture.newFolder()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try rules.write(to: folder.appendingPathComponent("flows.yaml"), atomically: true, encoding: .utf8)
        try customers.write(to: folder.appendingPathComponent("customers.csv"), atomically: true, encoding: .utf8)
        return try CampaignFixture(
            base: base,
            extra: """
                quiet_hours: { start: "21:00", end: "08:00" }
                flows: { rules: flows.yaml }
                """, folder: folder)
    }

    /// Every message the store journaled: campaign, number, send time.
    static func journaled(_ store: SQLiteStore) async throws -> [String] {
        try await store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT campaignID, recipient, sendAt, state FROM message ORDER BY sendAt")
                .map {
                    "\($0["campaignID"] as String) \($0["recipient"] as String) \(Timestamp(secondsSince1970: $0["sendAt"]))"
                }
        }
    }

    @Test func aReplayedLogSendsEachMessageOnceAtItsTime() async throws {
        let simulator = GatewaySimulator()
        try await withSimulator(simulator) { base in
            let fixture = try Self.fixture(base: base)
            try await fixture.store.suppress([PhoneNumber.value(ofE164: "+86" + Self.phone(7))])
            try await Self.replay(Self.log.events, fixture: fixture, base: base)
            let sent = try await Self.journaled(fixture.store)
            #expect(Set(sent) == Self.expected)
            #expect(sent.count == Set(sent).count)
            #expect(simulator.stats.messages == sent.count)
            let status = try await fixture.store.flowStatus(next: 10)
            #expect(status.next.isEmpty)
            func reasons(_ rule: String) -> [String: Int] {
                Dictionary(
                    status.counts.filter { $0.rule == rule && $0.state != .sent }.map {
                        ("\($0.state.rawValue) \($0.reason ?? "-")", $0.count)
                    }, uniquingKeysWith: +)
            }
            #expect(
                reasons("unpaid-first") == [
                    "cancelled paid event": 2, "skipped quiet-until-deadline": 1, "skipped no-number": 1,
                    "skipped suppressed": 1,
                ])
            #expect(reasons("unpaid-second") == ["cancelled paid event": 5, "skipped after-deadline": 2])
        }
    }

    @Test func eachDayOfTheLogHasItsBirthdayPassAndNoDayPastIt() async throws {
        let simulator = GatewaySimulator()
        try await withSimulator(simulator) { base in
            let fixture = try Self.fixture(
                base: base,
                rules: Self.rules + """

                      - name: birthday
                        on: birthday
                        customers: customers.csv
                        at: "10:00"
                        purpose: marketing
                        text: "{{name}}生日快乐"
                    """,
                customers: """
                    phone,name,birthday
                    13800138011,一,12-02
                    13800138012,二,1990-12-04
                    13800138013,三,2000-02-29
                    13800138014,四,1999-12-01
                    """)
            var log = Log()
            log.add(.created, "A", at: "2026-12-01T11:00:00", ["phone": Self.phone(1), "name": "甲"])
            // Its second reminder (6 h) falls on the 4th, after the log: it fires then, with no pass that day.
            log.add(.created, "B", at: "2026-12-03T20:00:00", ["phone": Self.phone(2), "name": "乙"])
            try await Self.replay(log.events, fixture: fixture, base: base)
            let birthdays = try await Self.journaled(fixture.store).filter { $0.hasPrefix("flow.birthday") }
            // The 1st's pass ran at 11:00, with the first event after 10:00; the 2nd's at 10:00 (UTC 02:00).
            #expect(
                birthdays == [
                    "flow.birthday +8613800138014 2026-12-01T03:00:00Z",
                    "flow.birthday +8613800138011 2026-12-02T02:00:00Z",
                ])
            #expect(try await fixture.store.lastFlowPass(rule: "birthday") == 20_790)  // 2026-12-03
            // Replayed again: nothing twice.
            let before = simulator.stats.messages
            try await Self.replay(log.events, fixture: fixture, base: base)
            #expect(simulator.stats.messages == before)
        }
    }

    /// A rule that names a template Tencent Cloud approved sends its id and the order's values, batched.
    @Test func aRuleSendsItsApprovedTemplateThroughTheProvider() async throws {
        let bodies = CampaignFixture.newFolder().path + "-bodies.log"
        let simulator = GatewaySimulator(tencent: TencentCampaignTests.credentials, bodyLog: bodies)
        try await withSimulator(simulator) { base in
            let folder = CampaignFixture.newFolder()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try """
            rules:
              - name: paid-thanks
                on: paid
                approved: thanks
            """.write(to: folder.appendingPathComponent("flows.yaml"), atomically: true, encoding: .utf8)
            let fixture = try CampaignFixture(
                base: base,
                gateways: TencentCampaignTests.gateways(base) + """

                      thanks:
                        text: "{1}，订单{2}已付款，我们会尽快发货"
                        columns: [name, order]
                        ids: { tencent: "1110423" }
                    """,
                extra: "quiet_hours: off\nflows: { rules: flows.yaml }", folder: folder)
            var log = Log()
            for index in 1...3 {
                log.add(
                    .paid, "P\(index)", at: "2026-12-01T10:0\(index):00",
                    ["phone": Self.phone(index), "name": "林\(index)"])
            }
            try await Self.replay(log.events, fixture: fixture, base: base)
            #expect(simulator.stats.messages == 3)
            let sent = try String(contentsOf: URL(fileURLWithPath: bodies), encoding: .utf8)
            #expect(sent.contains(#""TemplateId":"1110423""#))
            for index in 1...3 { #expect(sent.contains(#""TemplateParamSet":["林\#(index)","P\#(index)"]"#), "\(sent)") }
            let record = try #require(try await fixture.store.campaign(id: "flow.paid-thanks"))
            #expect(record.approved == "thanks")
        }
    }
}
