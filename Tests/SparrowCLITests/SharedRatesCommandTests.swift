import Foundation
import SparrowGatewaySim
import SparrowTestSupport
import Testing

/// The throw-away cluster's database (`make test` runs the suite under `scripts/with-postgres.sh`).
private let testDatabase = ProcessInfo.processInfo.environment["SPARROW_TEST_POSTGRES_URL"]

/// `shared_rates`: every process that names one PostgreSQL database holds each carrier to one rate together.
@Suite(
    .enabled(if: testDatabase != nil, "needs PostgreSQL: run under scripts/with-postgres.sh"),
    .timeLimit(.minutes(2)))
struct SharedRatesCommandTests {
    /// Two `send`s of two stores, each with its own journal, to one gateway, a carrier's 40 messages a second (burst
    /// 4) shared through PostgreSQL: the gateway takes their 240 messages no faster than that one rate allows, where
    /// each alone could go at it.
    @Test func twoSendsKeepToOneCarrierRate() async throws {
        let carrier = "shared-\(UUID().uuidString.prefix(8).lowercased())"  // a rate row of this test's own
        let arrivals = try SparrowProcess.temporaryFolder().appendingPathComponent("arrivals.log")
        let simulator = GatewaySimulator(arrivalLog: arrivals.path)
        try await withSimulator(simulator) { base in
            var running: [(SparrowProcess.Running, URL)] = []
            for (index, first) in [1_000_000, 2_000_000].enumerated() {
                let folder = try SparrowProcess.temporaryFolder()
                try """
                store: ./state.sqlite
                quiet_hours: off
                shared_rates: "\(testDatabase!)?sslmode=disable"
                carriers:
                  - { id: \(carrier), country_code: 86, prefixes: [139], rate: 40, burst: 4 }
                gateways:
                  - { name: primary, url: "\(base)/v1/sms", format: json, max_in_flight: 4 }
                """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
                let recipients = folder.appendingPathComponent("recipients.csv")
                try ("phone\n" + (first..<first + 120).map { "1390\($0)" }.joined(separator: "\n") + "\n")
                    .write(to: recipients, atomically: true, encoding: .utf8)
                let stderr = folder.appendingPathComponent("send.err")
                running.append(
                    (
                        try SparrowProcess.start(
                            ["send", "-c", "sparrow.yaml", "--campaign", "shared-\(index)", "--text", "Hi"],
                            stdin: recipients, in: folder, stderr: stderr),
                        stderr
                    ))
            }
            for (process, stderr) in running {
                let ending = await process.exited()
                let output = try String(contentsOf: stderr, encoding: .utf8)
                #expect(ending.status == 0, "\(output)")
            }
        }
        let arrived = try String(contentsOf: arrivals, encoding: .utf8).split(separator: "\n").map { line in
            let fields = line.split(separator: " ")
            return (at: Int64(fields[0])!, campaign: fields[1].contains("13901") ? 0 : 1)  // 13901… and 13902…
        }.sorted { $0.at < $1.at }
        #expect(arrived.count == 240)
        // Taken at 40 a second with a burst of 4 (and a unit of grace), 240 messages span at least 5.875 s, less the
        // little their requests' times to the gateway may differ; each send alone would take half that. And the two
        // ran side by side, not one after the other: each one's messages went on past the other's first.
        let span = Double(arrived.last!.at - arrived.first!.at) / 1e6
        #expect(span >= (240.0 - 4 - 1) / 40 - 0.1, "240 messages in \(span) s")
        for campaign in [0, 1] {
            let own = try #require(arrived.last { $0.campaign == campaign })
            let other = try #require(arrived.first { $0.campaign != campaign })
            #expect(own.at > other.at + 1_000_000, "campaign \(campaign) ended before the other one began")
        }
    }
}
