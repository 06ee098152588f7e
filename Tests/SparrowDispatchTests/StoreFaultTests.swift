import Foundation
import GRDB
import SparrowCore
import SparrowDispatch
import SparrowGatewaySim
import SparrowTestSupport
import SparrowTransport
import Testing

@testable import SparrowStore

/// A store that fills up in the middle of a campaign: the run stops with SQLite's own words for it, the journal
/// stays consistent, and once there is room again a resume finishes the campaign with every row sent once.
@Suite(.timeLimit(.minutes(2))) struct StoreFaultTests {
    @Test func aFullDiskStopsTheCampaignAndAResumeFinishesIt() async throws {
        let simulator = GatewaySimulator()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let rows = 3000
        let csv =
            "phone,name\n" + (0..<rows).map { "1350000\(String(1000 + $0)),客户\($0)" }.joined(separator: "\n") + "\n"
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(base: base)
            // SQLite's own disk-full path: the writer may not grow the file past 60 more pages (240 KiB).
            try await fixture.store.pool.write { db in
                let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                try db.execute(sql: "PRAGMA max_page_count = \(pages + 60)")
            }
            await #expect {
                _ = try await fixture.run("full", csv: csv, now: CampaignRunTests.noon, transport: transport)
            } throws: { error in
                "\(error)".contains("database or disk is full")
            }
            let stopped = try await fixture.store.figures(campaign: "full").total
            #expect(stopped.targeted < rows)  // it did stop partway …
            #expect(simulator.stats.messages <= stopped.submitted)  // … and nothing went out unjournaled

            try await fixture.store.pool.write { db in try db.execute(sql: "PRAGMA max_page_count = 1073741823") }
            let outcome = try await fixture.run("full", csv: csv, now: CampaignRunTests.noon, transport: transport)
            #expect(!outcome.stopped && outcome.inputComplete)
            let total = try await fixture.store.figures(campaign: "full").total
            #expect(total.targeted == rows && total.accepted == rows)
            #expect(simulator.stats.messages == rows)  // every row reached the gateway once
            #expect(simulator.stats.distinctKeys == rows)
        }
    }
}
