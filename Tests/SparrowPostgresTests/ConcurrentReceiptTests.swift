import PostgresNIO
import SparrowCore
import SparrowStore
import SparrowTestSupport
import Testing

@testable import SparrowPostgres

/// Several webhooks and workers on one PostgreSQL store: receipts taken while the answers they belong to are being
/// recorded, on other connections, in any order.
@Suite(.enabled(if: TestDatabase.url != nil, "needs PostgreSQL: run under scripts/with-postgres.sh (make test does)"))
struct ConcurrentReceiptTests {
    /// Each receipt races its message's answer: two "webhooks" apply receipts while two "workers" record answers,
    /// each a batch at a time. However they interleave, every receipt ends applied to its message, none left
    /// unmatched: a receipt and an answer naming the same gateway id lock it, so one of them sees the other.
    @Test func receiptsRacingTheirAnswersAreNeverLeftUnmatched() async throws {
        try await TestDatabase.withFresh { location in
            try await PostgresDatabase.with(location, logger: TestDatabase.logger) { database in
                let store = PostgresStore(database)
                let count = 400
                let at = Timestamp(secondsSince1970: 1_000)
                try await store.beginCampaign(id: "c1", template: "hi", at: at)
                let entries = (1...count).map { line in
                    JournalEntry(
                        id: "c1-\(line)", campaign: "c1", line: line, to: "+86139\(String(10_000_000 + line))",
                        carrier: nil, gateway: "primary", text: "hi", segments: 1, throttleUnits: 1, cost: 0,
                        sendAt: at, state: .ready)
                }
                _ = try await store.journal(campaign: "c1", messages: entries, skipped: [])
                var generator = SystemRandomNumberGenerator()
                let answers = entries.shuffled(using: &generator).map { entry in
                    SubmitRecord(
                        id: entry.id, campaign: "c1", recipient: entry.to, state: .accepted, gateway: "primary",
                        gatewayMessageID: "g-\(entry.line)", attempts: 1, latency: nil, error: nil, at: at)
                }
                let receipts = entries.shuffled(using: &generator).map { entry in
                    ReceiptRecord(gateway: "primary", gatewayMessageID: "g-\(entry.line)", state: .delivered, at: at)
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for half in [0, 1] {
                        group.addTask {
                            for batch in stride(from: half * count / 2, to: (half + 1) * count / 2, by: 10) {
                                try await store.record(Array(answers[batch..<batch + 10]))
                            }
                        }
                        group.addTask {
                            for batch in stride(from: half * count / 2, to: (half + 1) * count / 2, by: 10) {
                                _ = try await store.apply(Array(receipts[batch..<batch + 10]))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let total = try await store.figures(campaign: "c1").total
                #expect(total.delivered == count, "\(total)")
                let unmatched = try await database.connection { connection in
                    try await connection.query(
                        "SELECT count(*) FROM sparrow_unmatched_receipt", logger: TestDatabase.logger
                    ).collect()[0].decode(Int.self)
                }
                #expect(unmatched == 0)
            }
        }
    }

    /// Two webhooks take the receipts of a message's two parts at the same moment: whichever commits second sees
    /// the other's part and settles the message, so none stays waiting for a receipt that came.
    @Test func receiptsForTwoPartsAtOnceSettleTheirMessage() async throws {
        try await TestDatabase.withFresh { location in
            try await PostgresDatabase.with(location, logger: TestDatabase.logger) { database in
                let store = PostgresStore(database)
                // The two must meet on one message at the same moment: rounds make that all but certain.
                for round in 1...5 {
                    let campaign = "c\(round)"
                    let count = 200
                    let at = Timestamp(secondsSince1970: 1_000)
                    try await store.beginCampaign(id: campaign, template: "hi", at: at)
                    let entries = (1...count).map { line in
                        JournalEntry(
                            id: "\(campaign)-\(line)", campaign: campaign, line: line,
                            to: "+86139\(String(10_000_000 + line))",
                            carrier: nil, gateway: "primary", text: "hi", segments: 2, throttleUnits: 2, cost: 0,
                            sendAt: at, state: .ready)
                    }
                    _ = try await store.journal(campaign: campaign, messages: entries, skipped: [])
                    try await store.record(
                        entries.map { entry in
                            SubmitRecord(
                                id: entry.id, campaign: campaign, recipient: entry.to, state: .accepted,
                                gateway: "primary",
                                gatewayMessageID: "\(campaign)-a-\(entry.line)", attempts: 1, latency: nil, error: nil,
                                at: at,
                                partIDs: ["\(campaign)-a-\(entry.line)", "\(campaign)-b-\(entry.line)"])
                        })
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for part in ["a", "b"] {
                            group.addTask {
                                for line in 1...count {
                                    _ = try await store.apply([
                                        ReceiptRecord(
                                            gateway: "primary", gatewayMessageID: "\(campaign)-\(part)-\(line)",
                                            state: .delivered,
                                            at: at)
                                    ])
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                    let total = try await store.figures(campaign: campaign).total
                    #expect(total.delivered == count, "\(total)")
                    #expect(try await store.awaitingReceipts(campaign: campaign) == 0)
                }
            }
        }
    }
}
