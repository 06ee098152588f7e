import Foundation
import GRDB
import SparrowCore
import SparrowTestSupport
import Testing

@testable import SparrowStore

/// Each test runs against SQLite and PostgreSQL (`StoreKind`).
@Suite struct FlowStoreTests {
    struct Zones: ZoneRulesProvider {
        func rules(for identifier: String) -> ZoneRules? { .fixed(identifier, offset: 8 * 3600) }
    }

    static let reminder = FlowRule(
        name: "unpaid", trigger: .created, cancelledBy: [.paid],
        steps: [
            .init(delay: 1800, template: try! MessageTemplate("a")),
            .init(delay: 7200, template: try! MessageTemplate("b")),
        ])
    static let repurchase = FlowRule(
        name: "repurchase", trigger: .completed, cancelledByLaterOrder: true,
        steps: [.init(delay: 30 * 86_400, template: try! MessageTemplate("c"))])
    static let scheduler = FlowScheduler(
        rules: [reminder, repurchase], schedule: FlowSchedule(quietHours: nil, outsideMarketingHours: nil),
        defaultRegion: "CN", defaultTimeZone: "Asia/Shanghai", zones: Zones())

    static func event(_ id: String, _ kind: OrderEvent.Kind, order: String, at: Int64, phone: String = "13800138001")
        -> OrderEvent
    {
        OrderEvent(
            source: "taobao", id: id, order: order, kind: kind, at: Timestamp(secondsSince1970: at),
            fields: ["phone": phone, "amount": "10"])
    }

    @Test(arguments: StoreKind.available)
    func anEventIsTakenOnceAndAnUnknownOrdersEventIsKept(_ kind: StoreKind) async throws {
        try await withFlowStore(kind) { store in
            // The payment arrives before the order's creation: kept, and it cancels the reminder the creation sets.
            let paid = Self.event("p1", .paid, order: "7", at: 500)
            #expect(
                try await store.ingest([paid], scheduler: Self.scheduler, stopAtDue: false) == [
                    FlowOrder(
                        source: "taobao", id: "7", fields: ["phone": "13800138001", "amount": "10"],
                        seen: OrderEvent.Kind.paid.bit, firstAt: paid.at)
                ])
            #expect(try await store.ingest([paid], scheduler: Self.scheduler, stopAtDue: false) == [nil])
            _ = try await store.ingest(
                [Self.event("c1", .created, order: "7", at: 400)], scheduler: Self.scheduler, stopAtDue: false)
            #expect(
                try await flowTimers(store) == [
                    "unpaid 7 0 cancelled cancelled before it was set",
                    "unpaid 7 1 cancelled cancelled before it was set",
                ])
            let status = try await store.flowStatus(next: 5)
            #expect(status.events == 2 && status.orders == 1)
            #expect(
                status.counts == [
                    .init(rule: "unpaid", state: .cancelled, reason: "cancelled before it was set", count: 2)
                ]
            )
        }
    }

    @Test(arguments: StoreKind.available)
    func aCancellingEventCancelsOnlyWhatIsPendingForItsOrder(_ kind: StoreKind) async throws {
        try await withFlowStore(kind) { store in
            _ = try await store.ingest(
                [Self.event("c1", .created, order: "1", at: 0), Self.event("c2", .created, order: "2", at: 0)],
                scheduler: Self.scheduler, stopAtDue: false)
            let due = try await store.dueFlowTimers(by: Timestamp(secondsSince1970: 1800), limit: 10)
            #expect(due.map(\.timer.order) == ["1", "2"])
            try await store.settleFlowTimers(
                [(due[0].timer.id, .skipped("suppressed"))], at: Timestamp(secondsSince1970: 1800))
            _ = try await store.ingest(
                [Self.event("p1", .paid, order: "1", at: 1900)], scheduler: Self.scheduler, stopAtDue: false)
            let states = Set(try await flowTimers(store))
            #expect(
                states == [
                    "unpaid 1 0 skipped suppressed", "unpaid 1 1 cancelled paid event", "unpaid 2 0 pending -",
                    "unpaid 2 1 pending -",
                ])
            #expect(try await store.nextFlowWake(campaigns: []) == Timestamp(secondsSince1970: 1800))
        }
    }

    @Test(arguments: StoreKind.available)
    func ingestingStopsBeforeAnEventAtOrAfterATimersTime(_ kind: StoreKind) async throws {
        try await withFlowStore(kind) { store in
            let events = [
                Self.event("c1", .created, order: "1", at: 0), Self.event("x", .updated, order: "9", at: 1000),
                Self.event("p1", .paid, order: "1", at: 1800), Self.event("y", .updated, order: "9", at: 1900),
            ]
            // The reminder set by the first event is due at 1800: the payment at 1800 waits for it to fire.
            let stopped = try await store.ingest(events[...], scheduler: Self.scheduler, stopAtDue: true)
            #expect(stopped.count == 2)
            let rest = try await store.ingest(events[2...], scheduler: Self.scheduler, stopAtDue: false)
            #expect(rest.count == 2)
        }
    }

    @Test(arguments: StoreKind.available)
    func aLaterOrderCancelsTheSameNumbersEarlierRepurchaseReminder(_ kind: StoreKind) async throws {
        try await withFlowStore(kind) { store in
            _ = try await store.ingest(
                [
                    Self.event("d1", .completed, order: "1", at: 0),
                    Self.event("d2", .completed, order: "2", at: 0, phone: "13800138002"),
                    Self.event("c3", .created, order: "3", at: 86_400),
                ], scheduler: Self.scheduler, stopAtDue: false)
            let repurchase = try await flowTimers(store).filter { $0.hasPrefix("repurchase") }
            #expect(repurchase == ["repurchase 1 0 cancelled later-order", "repurchase 2 0 pending -"])
            let order = FlowOrder(
                source: "taobao", id: "1", fields: [:], seen: 0, firstAt: Timestamp(secondsSince1970: 0))
            #expect(
                try await store.hasLaterOrder(phone: "13800138001", after: Timestamp(secondsSince1970: 0), than: order))
            #expect(
                try await !store.hasLaterOrder(phone: "13800138002", after: Timestamp(secondsSince1970: 0), than: order)
            )
        }
    }

    @Test(arguments: StoreKind.available)
    func aFiredTimersMessageIsJournaledWithItAndANumberMayHaveOnePerOccasion(_ kind: StoreKind) async throws {
        try await withFlowStore(kind) { store in
            try await store.beginCampaign(id: "flow.unpaid", template: "a", at: Timestamp(secondsSince1970: 0))
            _ = try await store.ingest(
                [Self.event("c1", .created, order: "1", at: 0), Self.event("c2", .created, order: "2", at: 0)],
                scheduler: Self.scheduler, stopAtDue: false)
            let due = try await store.dueFlowTimers(by: Timestamp(secondsSince1970: 1800), limit: 10)
            let messages = due.map { due in
                JournalEntry(
                    id: MessageID.make(campaign: "flow.unpaid", line: due.timer.id, e164: "+8613800138001"),
                    campaign: "flow.unpaid", line: due.timer.id, to: "+8613800138001", carrier: nil, gateway: "primary",
                    text: "a", segments: 1, throttleUnits: 1, cost: 0.05, sendAt: Timestamp(secondsSince1970: 1800),
                    state: .ready)
            }
            try await store.settleFlowTimers(
                zip(due, messages).map { ($0.timer.id, .sent($1)) }, at: Timestamp(secondsSince1970: 1800))
            // Both orders' reminders to the one number are journaled: one a timer, not one a campaign.
            let unfinished = try await store.unfinished(
                campaign: "flow.unpaid", dueBy: Timestamp(secondsSince1970: 1800), afterLine: 0, limit: 10)
            #expect(unfinished.map(\.id) == messages.map(\.id))
            #expect(try await store.dueFlowTimers(by: Timestamp(secondsSince1970: 1800), limit: 10).isEmpty)
            // Settling again (a replay after a crash) changes nothing.
            try await store.settleFlowTimers(
                [(due[0].timer.id, .skipped("again"))], at: Timestamp(secondsSince1970: 1900))
            #expect(
                try await flowTimers(store).filter { $0.contains(" 0 ") } == ["unpaid 1 0 sent -", "unpaid 2 0 sent -"])

            // The marketing cap counts a marketing flow's message from its journaled time, answered or not; a
            // transactional flow's never; a campaign's once a gateway took it.
            let number = PhoneNumber.value(ofE164: "+8613800138001")
            func capped(since: Int64, _ marketing: [String]) async throws -> Bool {
                let sends = try await store.marketingSends(
                    among: [number], since: Timestamp(secondsSince1970: since), marketing: marketing)
                return sends[number]?.isEmpty == false
            }
            #expect(try await capped(since: 1800, ["flow.unpaid"]))
            #expect(try await !capped(since: 1801, ["flow.unpaid"]))
            #expect(try await !capped(since: 0, []))
            try await store.record([
                SubmitRecord(
                    id: messages[0].id, campaign: "flow.unpaid", recipient: "+8613800138001", state: .accepted,
                    gateway: "primary", gatewayMessageID: "g1", attempts: 1, latency: nil, error: nil,
                    at: Timestamp(secondsSince1970: 1801))
            ])
            #expect(try await !capped(since: 1801, ["flow.unpaid"]))  // still its journaled time, not its answer's
            #expect(try await !capped(since: 0, []))
            try await store.beginCampaign(id: "spring", template: "x", at: Timestamp(secondsSince1970: 0))
            var spring = entry(1)
            (spring.id, spring.campaign, spring.to) = ("spring-1", "spring", "+8613800138001")
            _ = try await store.journal(campaign: "spring", messages: [spring], skipped: [])
            try await store.record([
                SubmitRecord(
                    id: "spring-1", campaign: "spring", recipient: "+8613800138001", state: .accepted,
                    gateway: "primary",
                    gatewayMessageID: "g2", attempts: 1, latency: nil, error: nil, at: Timestamp(secondsSince1970: 2000)
                )
            ])
            #expect(try await capped(since: 2000, []))
            #expect(try await !capped(since: 2001, []))
            // The configuration's frequency cap for campaigns leaves transactional flows' sends out.
            #expect(
                try await store.cappedNumbers(since: Timestamp(secondsSince1970: 0), excluding: nil, sends: 2) == [
                    number
                ])
            try await store.setTransactional(["flow.unpaid"])
            #expect(
                try await store.cappedNumbers(since: Timestamp(secondsSince1970: 0), excluding: nil, sends: 2).isEmpty)
            #expect(try await store.marketingHistory()[number]?.received == 1)

            // A message a gateway deferred comes back as ready once due, once.
            try await store.markSubmitting([(messages[1].id, "primary")])
            try await store.record([
                SubmitRecord(
                    id: messages[1].id, campaign: "flow.unpaid", recipient: "+8613800138001", state: .deferred,
                    gateway: "primary", gatewayMessageID: nil, attempts: 1, latency: nil, error: nil,
                    at: Timestamp(secondsSince1970: 1801), sendAt: Timestamp(secondsSince1970: 5000))
            ])
            #expect(try await store.nextFlowWake(campaigns: ["flow.unpaid"]) == Timestamp(secondsSince1970: 5000))
            #expect(
                try await store.releaseDeferred(
                    campaigns: ["flow.unpaid"], dueBy: Timestamp(secondsSince1970: 4999), limit: 9
                )
                .isEmpty)
            let released = try await store.releaseDeferred(
                campaigns: ["flow.unpaid"], dueBy: Timestamp(secondsSince1970: 5000), limit: 9)
            #expect(released.map(\.id) == [messages[1].id])
            #expect(released.map(\.state) == [.ready])
            #expect(
                try await store.releaseDeferred(
                    campaigns: ["flow.unpaid"], dueBy: Timestamp(secondsSince1970: 9999), limit: 9
                )
                .isEmpty)
            // The settling that changed nothing left no mark.
            #expect(try await store.lastFlowActivity() == Timestamp(secondsSince1970: 1800))
        }
    }

    @Test(arguments: StoreKind.available)
    func aCampaignStillSendsANumberOneMessage(_ kind: StoreKind) async throws {
        try await withFlowStore(kind) { store in
            try await store.beginCampaign(id: "c1", template: "x", at: Timestamp(secondsSince1970: 0))
            var twice = entry(2)
            twice.to = entry(1).to
            twice.id = "c1-2"
            let states = try await store.journal(campaign: "c1", messages: [entry(1), twice], skipped: [])
            #expect(states == [.ready, nil])
        }
    }

    @Test(arguments: StoreKind.available)
    func aTimerCancelledWhileItsMessageWasDecidedSendsNothing(_ kind: StoreKind) async throws {
        try await withFlowStore(kind) { store in
            try await store.beginCampaign(id: "flow.unpaid", template: "a", at: Timestamp(secondsSince1970: 0))
            _ = try await store.ingest(
                [Self.event("c1", .created, order: "1", at: 0)], scheduler: Self.scheduler, stopAtDue: false)
            let due = try await store.dueFlowTimers(by: Timestamp(secondsSince1970: 1800), limit: 10)
            // The payment lands between the timer's read and its settling (a webhook, in the live service).
            _ = try await store.ingest(
                [Self.event("p1", .paid, order: "1", at: 1800)], scheduler: Self.scheduler, stopAtDue: false)
            let message = JournalEntry(
                id: MessageID.make(campaign: "flow.unpaid", line: due[0].timer.id, e164: "+8613800138001"),
                campaign: "flow.unpaid", line: due[0].timer.id, to: "+8613800138001", carrier: nil, gateway: "primary",
                text: "a", segments: 1, throttleUnits: 1, cost: 0.05, sendAt: Timestamp(secondsSince1970: 1800),
                state: .ready)
            let journaled = try await store.settleFlowTimers(
                [(due[0].timer.id, .sent(message))], at: Timestamp(secondsSince1970: 1800))
            #expect(journaled.isEmpty)
            #expect(
                try await store.unfinished(
                    campaign: "flow.unpaid", dueBy: Timestamp(secondsSince1970: 9999), afterLine: 0, limit: 10
                ).isEmpty)
            #expect(try await flowTimers(store).first == "unpaid 1 0 cancelled paid event")
        }
    }
}
