import SparrowCore
import SparrowReports
import Testing

@Suite struct FlowStatusReportTests {
    static let rule = FlowRule(
        name: "unpaid", trigger: .created, steps: [.init(delay: 1800, template: try! MessageTemplate("x"))])

    static func timer(_ id: Int, due: Int64) -> FlowTimer {
        FlowTimer(
            id: id, rule: "unpaid", key: "taobao:\(id)", step: 0, source: "taobao", order: "\(id)",
            trigger: Timestamp(secondsSince1970: 0), dueAt: Timestamp(secondsSince1970: due), state: .pending)
    }

    static let status = FlowStatus(
        counts: [
            .init(rule: "unpaid", state: .pending, reason: nil, count: 3),
            .init(rule: "unpaid", state: .sent, reason: nil, count: 5),
            .init(rule: "unpaid", state: .cancelled, reason: "paid event", count: 2),
        ], next: [timer(1, due: 1800), timer(2, due: 40_000), timer(3, due: 1500)], events: 12, orders: 6)

    @Test func theTableSaysWhatEachPendingMessageWaitsFor() {
        let table = FlowStatusReport.render(Self.status, rules: [Self.rule], format: .table)
        #expect(
            table == """
                12 events, 6 orders

                rule    pending  sent  cancelled  skipped
                unpaid        3     5          2        0

                why not sent
                rule        state      reason  timers
                unpaid  cancelled  paid event       2

                next due
                due                     rule     order  step         waiting for
                1970-01-01T00:30:00Z  unpaid  taobao:1     0           its delay
                1970-01-01T11:06:40Z  unpaid  taobao:2     0         quiet hours
                1970-01-01T00:25:00Z  unpaid  taobao:3     0  before quiet hours

                """)
        #expect(FlowStatusReport.render(Self.status, rules: [], format: .table).contains("its rule is gone"))
    }

    @Test func jsonGivesTheSame() {
        let json = FlowStatusReport.render(Self.status, rules: [Self.rule], format: .json)
        #expect(json.contains(#""rule":"unpaid","pending":3,"sent":5,"cancelled":2,"skipped":0"#))
        #expect(json.contains(#""reasons":[{"state":"cancelled","reason":"paid event","timers":2}]"#))
        #expect(
            json.contains(
                #""due":"1970-01-01T11:06:40Z","rule":"unpaid","source":"taobao","order":"2","step":0,"waiting_for":"quiet hours""#
            ))
    }
}
