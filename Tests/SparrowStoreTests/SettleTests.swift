import Foundation
import SparrowCore
import SparrowTestSupport
import Testing

@testable import SparrowStore

/// What gateways' status queries found, recorded: messages in doubt settled or opened again, the frequency cap's
/// ledger kept right, nothing moved backward.
@Suite struct SettleTests {
    static let since = Timestamp(secondsSince1970: 50)
    static let at = Timestamp(secondsSince1970: 200)

    /// c1: line 1 unknown, 2 accepted (g-2), 3 left submitting, 4 delivered, 5 unknown.
    func inDoubt(_ store: any CampaignStore) async throws {
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        _ = try await store.journal(campaign: "c1", messages: (1...5).map { entry($0) }, skipped: [])
        try await store.markSubmitting((1...5).map { ("c1-\($0)", "primary") })
        try await store.record([
            submit(1, .unknown), submit(2, .accepted, id: "g-2"), submit(4, .accepted, id: "g-4"), submit(5, .unknown),
        ])
        _ = try await store.apply([
            ReceiptRecord(gateway: "primary", gatewayMessageID: "g-4", state: .delivered, at: Self.at)
        ])
    }

    @Test(arguments: StoreKind.available)
    func theUnsettledAreThoseInDoubtOrAwaitingReceiptsOnTheGivenGateways(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await inDoubt(store)
            func unsettled(_ gateway: String = "primary", awaiting: Bool = true, after line: Int = 0, limit: Int = 10)
                async throws -> [UnsettledMessage]
            {
                try await store.unsettled(
                    campaign: "c1", gateways: [gateway], awaitingReceipts: awaiting, afterLine: line, limit: limit)
            }
            let all = try await unsettled()
            #expect(all.map(\.line) == [1, 2, 3, 5])
            #expect(all.map(\.state) == [.unknown, .accepted, .submitting, .unknown])
            #expect(all[1].gatewayMessageID == "g-2")
            #expect(try await unsettled(awaiting: false).map(\.line) == [1, 3, 5])
            #expect(try await unsettled(after: 2, limit: 1).map(\.line) == [3])
            #expect(try await unsettled("other").isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func findingsSettleMessagesInDoubtAndKeepTheLedgerRight(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await inDoubt(store)
            // Sent or possibly sent: 1, 2, 4 and 5 count against the cap; 3 (submitting) not yet.
            #expect(try await store.cappedNumbers(since: Self.since, excluding: nil, sends: 1).count == 4)
            let moved = try await store.settle([
                // 1 reached the gateway, found by its campaign and number, and was delivered.
                StatusFinding(
                    message: .recipient(campaign: "c1", e164: entry(1).to), gateway: "primary", state: .delivered,
                    gatewayMessageID: "g-1", at: Self.at),
                // 2 is still waiting at the gateway: nothing moves.
                StatusFinding(message: .id("c1-2"), gateway: "primary", state: .accepted, at: Self.at),
                // 3 reached the gateway before the run stopped: it is taken, and joins the ledger.
                StatusFinding(message: .id("c1-3"), gateway: "primary", state: .accepted, at: Self.at),
                // 4 is delivered already: a finding never moves it back.
                StatusFinding(message: .id("c1-4"), gateway: "primary", state: .ready, at: Self.at),
                // 5 never reached the gateway: it is sent again, and leaves the ledger.
                StatusFinding(
                    message: .id("c1-5"), gateway: "primary", state: .ready, error: "not at the gateway", at: Self.at),
            ])
            #expect(moved == [.delivered: 1, .accepted: 1, .ready: 1])
            let figures = try await store.figures(campaign: "c1").total
            #expect(figures.delivered == 2 && figures.accepted == 4 && figures.unknown == 0)
            #expect(figures.submitted == 5)  // 3 was taken: submitted, though the run that sent it never said so
            let unfinished = try await store.unfinished(campaign: "c1", dueBy: Self.at, afterLine: 0, limit: 10)
            #expect(unfinished.map(\.id) == ["c1-5"] && unfinished.map(\.state) == [.ready])
            // 1, 2, 3, 4.
            #expect(try await store.cappedNumbers(since: Self.since, excluding: nil, sends: 1).count == 4)
            // Sent again and answered: the ledger's statements were left ready for the journal's next write.
            try await store.record([submit(5, .accepted, id: "g-5")])
            #expect(try await store.cappedNumbers(since: Self.since, excluding: nil, sends: 1).count == 5)
            // A receipt for the id the finding gave finds its message, rather than waiting as unmatched.
            _ = try await store.apply([
                ReceiptRecord(gateway: "primary", gatewayMessageID: "g-1", state: .delivered, at: Self.at)
            ])
            #expect(try await unmatchedReceipts(store).isEmpty)
            // Another campaign's number: nothing moves.
            let elsewhere = try await store.settle([
                StatusFinding(
                    message: .recipient(campaign: "c2", e164: entry(2).to), gateway: "primary", state: .delivered,
                    at: Self.at)
            ])
            #expect(elsewhere.isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func aStatusByTheGatewaysIDAloneIsAReceipt(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await inDoubt(store)
            let moved = try await store.settle([
                StatusFinding(
                    message: .gatewayMessageID("g-2"), gateway: "primary", state: .undelivered, gatewayMessageID: "g-2",
                    at: Self.at),
                StatusFinding(
                    message: .gatewayMessageID("g-elsewhere"), gateway: "primary", state: .delivered,
                    gatewayMessageID: "g-elsewhere", at: Self.at),
                // Its campaign has no such number: still a receipt for the gateway's id.
                StatusFinding(
                    message: .recipient(campaign: "c9", e164: "+8613900000000"), gateway: "primary", state: .delivered,
                    gatewayMessageID: "g-9", at: Self.at),
            ])
            #expect(moved == [.undelivered: 1])
            #expect(try await unmatchedReceipts(store) == ["primary g-elsewhere delivered", "primary g-9 delivered"])
        }
    }
}
