import Foundation
import SparrowCore
import SparrowGatewaySim
import SparrowStore
import SparrowTestSupport
import Testing

/// `sparrow send` killed with SIGKILL at random moments, resumed each time: the gateway simulator's counters prove
/// that every row reached the gateway exactly once.
@Suite(.timeLimit(.minutes(5))) struct CrashResumeTests {
    @Test func killedAtRandomMomentsAndResumedEveryRowIsSentOnce() async throws {
        let simulator = GatewaySimulator(faults: .init(latency: .milliseconds(2)))
        let rows = 3000
        let seed = UInt64.random(in: 1...UInt64.max)
        var random = SplitMix64(seed: seed)
        try await withSimulator(simulator) { base in
            let folder = try SparrowProcess.temporaryFolder()
            try """
                store: ./state.sqlite
                quiet_hours: off
                gateways:
                  - name: primary
                    url: \(base)/v1/sms
                    format: json
                    fields: { to: "{{to}}", text: "{{text}}" }
                    idempotency: { honoured: true }
                    max_in_flight: 16
                """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
            let recipients = folder.appendingPathComponent("recipients.csv")
            try ("phone,name\n" + (0..<rows).map { "1380\(String(1_000_000 + $0)),客户\($0)" }.joined(separator: "\n") + "\n")
                .write(to: recipients, atomically: true, encoding: .utf8)
            let store = folder.appendingPathComponent("state.sqlite").path

            var kills = 0
            var runs = 0
            while true {
                runs += 1
                #expect(runs <= 40, "seed \(seed): the campaign never finished")
                if runs > 40 { break }
                let started = FileManager.default.fileExists(atPath: store)
                    ? try await SQLiteStore(path: store).campaign(id: "crash") != nil : false
                let arguments = started
                    ? ["resume", "-c", "sparrow.yaml", "--campaign", "crash"]
                    : ["send", "-c", "sparrow.yaml", "--campaign-id", "crash", "--text", "{{name}}，您的包裹已发出"]
                let process = try SparrowProcess.start(arguments, stdin: recipients, in: folder)
                if kills < 6 {
                    try await Task.sleep(for: .milliseconds(50 + Int(random.next() % 700)))
                    if process.isRunning {
                        kill(process.processIdentifier, SIGKILL)
                        kills += 1
                    }
                }
                process.waitUntilExit()
                if process.terminationReason == .exit {
                    #expect(process.terminationStatus == 0, "seed \(seed): run \(runs) exited \(process.terminationStatus)")
                    break
                }
            }
            #expect(kills >= 3, "seed \(seed): the runs finished before they could be killed")
            #expect(simulator.stats.messages == rows, "seed \(seed)")
            #expect(simulator.stats.distinctKeys == rows, "seed \(seed)")
            let figures = try await SQLiteStore(path: store).figures(campaign: "crash")
            #expect(figures.total.targeted == rows && figures.total.accepted == rows, "seed \(seed)")
            // Requests in flight at a kill were sent again under the same key: the gateway counted them as repeats.
            print("crash test: seed \(seed), \(kills) kills, \(runs) runs, \(simulator.stats.duplicates) repeats recognised")
        }
    }
}
