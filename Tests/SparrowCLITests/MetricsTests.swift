import Foundation
import SparrowCore
import SparrowGatewaySim
import SparrowTestSupport
import Testing

/// `send --metrics-listen` serves the running campaign's metrics in the Prometheus text format.
@Suite(.timeLimit(.minutes(1))) struct MetricsTests {
    @Test func aRunningCampaignServesItsMetrics() async throws {
        let simulator = GatewaySimulator(faults: .init(latency: .milliseconds(20)))
        try await withSimulator(simulator) { base in
            let (folder, recipients) = try SparrowProcess.campaignFolder(gateway: base, maxInFlight: 2, rows: 200)
            let log = folder.appendingPathComponent("stderr.txt")
            let process = try SparrowProcess.start(
                ["send", "-c", "sparrow.yaml", "--campaign", "m1", "--text", "您好", "--metrics-listen", "127.0.0.1:0"],
                stdin: recipients, in: folder, stderr: log)
            let text =
                try await SparrowProcess.scrapeMetrics(of: process, log: log) { simulator.stats.messages >= 10 } ?? ""
            let ending = await process.exited()
            #expect(ending.reason == .exit && ending.status == 0)
            #expect(text.contains(#"sparrow_messages_total{state="accepted"} "#), "\(text)")
            #expect(text.contains("sparrow_rows_total 200\n"))
            #expect(text.contains("# TYPE sparrow_submit_latency_seconds histogram"))
            #expect(text.contains("sparrow_requests_in_flight "))
            #expect(text.contains(#"sparrow_submit_retries_total{gateway="primary",reason="throttled"} 0"#))
            #expect(text.contains(#"sparrow_gateway_circuit_open{gateway="primary"} 0"#))
        }
    }
}
