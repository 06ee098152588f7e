import Foundation
import SparrowCore
import SparrowTestSupport
import SparrowStore
import Testing

/// A campaign's recipients read for measuring its effect, and a measurement kept and read back.
@Suite struct EffectStoreTests {
    @Test(arguments: StoreKind.available)
    func keepsTheHoldoutsNumbersAndAMeasurementWithItsResponders(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let (start, morning) = (Timestamp(secondsSince1970: 1_000), Timestamp(secondsSince1970: 30_000))
            try await store.beginCampaign(
                id: "c1", template: "hi", holdout: 0.5, approved: nil, maxSegments: nil, at: start)
            let entries = (1...3).map { line in
                JournalEntry(
                    id: "c1-\(line)", campaign: "c1", line: line, to: "+861380013800\(line)", carrier: "china-mobile",
                    gateway: "primary", text: "hi", segments: 1, throttleUnits: 1, cost: 0.05, sendAt: start,
                    state: .ready)
            }
            _ = try await store.journal(
                campaign: "c1", messages: entries,
                skipped: [
                    SkippedRow(
                        line: 4, status: .heldOut, carrier: "china-unicom", gateway: "primary",
                        recipient: "+8613000130004",
                        sendAt: morning),
                    SkippedRow(line: 5, status: .suppressed),
                ])
            try await store.record(
                entries.prefix(2).map { entry in
                    SubmitRecord(
                        id: entry.id, campaign: "c1", recipient: entry.to, state: .accepted, gateway: "primary",
                        gatewayMessageID: "g-\(entry.line)", attempts: 1, latency: nil, error: nil, at: start)
                })
            _ = try await store.apply([
                ReceiptRecord(gateway: nil, gatewayMessageID: "g-1", state: .delivered, at: start)
            ])

            let recipients = try await store.effectRecipients(campaign: "c1").sorted { $0.number < $1.number }
            #expect(recipients.map(\.reach) == [.none, .delivered, .sent, .none])
            #expect(recipients.map(\.heldOut) == [true, false, false, false])
            #expect(recipients[0].sentAt == morning && recipients[0].carrier == "china-unicom")
            #expect(recipients.map(\.number)[1] == PhoneNumber.value(ofE164: "+8613800138001"))

            #expect(try await store.effect(campaign: "c1") == nil)
            var measurement = EffectMeasurement(recipients: recipients, window: 86_400, start: start, region: "CN")
            measurement.add(
                Order(
                    id: "o", customer: "x", phone: "13800138001", paid: start + 60, state: .paid,
                    amount: .init(minorUnits: 990)))
            let effect = CampaignEffect(window: 86_400, measuredAt: morning, rows: measurement.rows())
            try await store.saveEffect(campaign: "c1", effect, responders: measurement.responders)
            #expect(try await store.effect(campaign: "c1") == effect)
            #expect(
                try await store.recipients(of: "c1", responded: true) == [PhoneNumber.value(ofE164: "+8613800138001")])
            #expect(try await store.recipients(of: "c1", responded: false) == [])  // the one delivered responded
            // Measured again, the measurement replaces the last.
            try await store.saveEffect(
                campaign: "c1", CampaignEffect(window: 60, measuredAt: morning, rows: []), responders: [])
            #expect(try await store.effect(campaign: "c1")?.rows.isEmpty == true)
            #expect(
                try await store.recipients(of: "c1", responded: false) == [PhoneNumber.value(ofE164: "+8613800138001")])
        }
    }
}
