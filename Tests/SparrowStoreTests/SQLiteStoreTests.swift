import Foundation
import SparrowCore
import Testing

@testable import SparrowStore

/// Every test opens a real SQLite file in a folder of its own.
func freshStore() throws -> (SQLiteStore, path: String) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-store-\(UUID().uuidString)/s.sqlite").path
    return (try SQLiteStore(path: path), path)
}

func entry(_ line: Int, state: MessageState = .ready) -> JournalEntry {
    JournalEntry(
        id: "c1-\(line)", campaign: "c1", line: line, to: "+86138001380\(String(line + 10).suffix(2))", carrier: "china-mobile",
        gateway: "primary", segments: 1, cost: 0.05, sendAt: Timestamp(secondsSince1970: 0), state: state)
}

func submit(_ line: Int, _ state: MessageState, id: String? = nil) -> SubmitRecord {
    SubmitRecord(
        id: "c1-\(line)", state: state, gateway: "primary", gatewayMessageID: id, attempts: 1, latency: .milliseconds(3),
        error: nil, at: Timestamp(secondsSince1970: 100))
}

@Suite struct SQLiteStoreTests {
    @Test func journalIsIdempotentAndResumeFindsTheUnanswered() async throws {
        let (store, _) = try freshStore()
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        try await store.journal((1...4).map { entry($0) })
        try await store.journal((1...4).map { entry($0) })  // a resumed run journals the same ids again
        try await store.markSubmitting(["c1-1", "c1-2"])
        try await store.record([submit(1, .accepted, id: "g-1")])
        let unfinished = try await store.unfinished(campaign: "c1")
        #expect(unfinished.map(\.line) == [2, 3, 4])
        #expect(unfinished.map(\.state) == [.submitting, .ready, .ready])
        #expect(try await store.funnel(campaign: "c1") == [.accepted: 1, .submitting: 1, .ready: 2])
    }

    @Test func receiptsOnlyMoveForwardAndDuplicatesAreHarmless() async throws {
        let (store, _) = try freshStore()
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        try await store.journal([entry(1), entry(2)])
        try await store.record([submit(1, .accepted, id: "g-1"), submit(2, .accepted, id: "g-2")])
        let at = Timestamp(secondsSince1970: 200)
        let moved = try await store.apply([
            ReceiptRecord(gateway: "primary", gatewayMessageID: "g-1", state: .delivered, at: at),
            ReceiptRecord(gateway: "primary", gatewayMessageID: "g-1", state: .delivered, at: at),  // duplicate
            ReceiptRecord(gateway: "primary", gatewayMessageID: "g-9", state: .delivered, at: at),  // unknown id
            ReceiptRecord(gateway: "primary", gatewayMessageID: "g-2", state: .expired, at: at),
        ])
        #expect(moved == 2)
        // A late submit answer never overwrites a receipt.
        try await store.record([submit(1, .accepted, id: "g-1")])
        #expect(try await store.funnel(campaign: "c1") == [.delivered: 1, .expired: 1])
    }

    @Test func suppressionListAndSendLedgerSurviveReopening() async throws {
        let (store, path) = try freshStore()
        let numbers = ["13800138000", "19912345678", "+1 650 253 0000"].map {
            try! PhoneNumberParser.parse($0, defaultRegion: "CN").get().number
        }
        try await store.suppress(numbers + numbers)
        try await store.unsuppress([numbers[1]])
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        try await store.journal([entry(1)])
        try await store.record([submit(1, .accepted, id: "g-1")])
        let reopened = try SQLiteStore(path: path)
        #expect(try await reopened.suppressedNumbers() == [16_502_530_000, 8_613_800_138_000])
        #expect(try await reopened.sendCounts(since: Timestamp(secondsSince1970: 50)) == [8_613_800_138_011: 1])
        #expect(try await reopened.sendCounts(since: Timestamp(secondsSince1970: 101)).isEmpty)
    }

    @Test func anUnwritableFolderIsAClearError() {
        #expect(throws: StoreError.self) { try SQLiteStore(path: "/proc/sparrow/s.sqlite") }
    }
}
