import Foundation
import SparrowCore
import SparrowGatewaySim
import SparrowTestSupport
import SparrowTransport
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
            var url: String?
            while url == nil, !process.hasExited {
                let stderr = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                url = stderr.split(separator: "\n").first { $0.hasPrefix("sparrow: metrics on ") }.map {
                    String($0.dropFirst("sparrow: metrics on ".count))
                }
                if url == nil { try await Task.sleep(for: .milliseconds(10)) }
            }
            let transport = CurlTransport()
            defer { transport.shutdown() }
            var text = ""
            while simulator.stats.messages < 10 { try await Task.sleep(for: .milliseconds(10)) }
            if let url, case .answered(let answer) = await transport.perform(GatewayRequest(url: url, method: .get)) {
                #expect(answer.status == 200)
                text = String(decoding: answer.body, as: UTF8.self)
            }
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
