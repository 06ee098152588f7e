import Foundation
import SparrowCore
import SparrowGatewaySim
import SparrowTestSupport
import Testing

/// `sparrow flows --stdin --replay` over a generated Taobao event log (`scripts/gen-events.py`) with the shipped
/// rules (config/flows/), against the gateway simulator: killed with SIGKILL at random moments and run again, it
/// sends exactly what an uninterrupted replay sends, under the same keys, none twice.
@Suite(.timeLimit(.minutes(5))) struct FlowsCommandTests {
    static let rules = CRMLoopTests.repository.appendingPathComponent("config/flows").path

    /// A configuration named `name`.yaml with its own store, sending to `base`.
    static func configure(_ name: String, gateway base: String, in folder: URL) throws {
        try """
        store: ./\(name).sqlite
        signature: "【青禾】"
        optout_suffix: "回T退订"
        gateways:
          - name: primary
            url: \(base)/v1/sms
            format: json
            fields: { to: "{{to}}", text: "{{text}}" }
            idempotency: { honoured: true }
            max_in_flight: 16
        flows: { rules: \(rules) }
        """.write(to: folder.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
    }

    /// The idempotency keys of the requests the simulator took, from its request log.
    static func keys(_ log: URL) throws -> Set<String> {
        Set(
            try String(contentsOf: log, encoding: .utf8).split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                return fields.count >= 3 && fields[1] != "-" ? String(fields[1]) : nil
            })
    }

    @Test func aReplayKilledAtRandomMomentsSendsWhatAnUninterruptedOneSends() async throws {
        let folder = try SparrowProcess.temporaryFolder()
        _ = try CRMLoopTests.generate(
            ["400", "--seed", "9", "--days", "3"], to: "events.jsonl", in: folder, generator: "gen-events.py")
        let events = folder.appendingPathComponent("events.jsonl")

        let cleanLog = folder.appendingPathComponent("clean.requests")
        let clean = GatewaySimulator(requestLog: cleanLog.path)
        let status = try await withSimulator(clean) { base in
            try Self.configure("clean", gateway: base, in: folder)
            let replay = try await SparrowProcess.outcome(
                ["flows", "-c", "clean.yaml", "--stdin", "--replay"],
                stdin: try Data(contentsOf: events), in: folder)
            #expect(replay.status == 0, "\(replay.stderr)")
            #expect(replay.stdout.contains("rule") && replay.stdout.contains("unpaid-first"))
            return try await SparrowProcess.outcome(
                ["flows", "status", "-c", "clean.yaml", "--format", "json"], in: folder)
        }
        #expect(clean.stats.messages > 300, "the log should keep the flows busy")
        #expect(clean.stats.duplicates == 0)

        let crashLog = folder.appendingPathComponent("crash.requests")
        let crash = GatewaySimulator(faults: .init(latency: .milliseconds(1)), requestLog: crashLog.path)
        var random = SplitMix64(seed: 0x00F1_0E5)
        var (kills, runs) = (0, 0)
        try await withSimulator(crash) { base in
            try Self.configure("crash", gateway: base, in: folder)
            while runs < 30 {
                runs += 1
                let process = try SparrowProcess.start(
                    ["flows", "-c", "crash.yaml", "--stdin", "--replay"], stdin: events, in: folder)
                if kills < 4 {
                    try await Task.sleep(for: .milliseconds(200 + Int(random.next() % 1500)))
                    if !process.hasExited {
                        kill(process.pid, SIGKILL)
                        kills += 1
                    }
                }
                let ending = await process.exited()
                if ending.reason == .exit {
                    #expect(ending.status == 0, "run \(runs) exited \(ending.status)")
                    break
                }
            }
            let crashStatus = try await SparrowProcess.outcome(
                ["flows", "status", "-c", "crash.yaml", "--format", "json"], in: folder)
            #expect(crashStatus.stdout == status.stdout)
        }
        #expect(kills >= 2, "the replays finished before they could be killed")
        #expect(crash.stats.messages == clean.stats.messages)
        #expect(crash.stats.distinctKeys == clean.stats.distinctKeys)
        #expect(try Self.keys(crashLog) == Self.keys(cleanLog))
        print("flows crash test: \(kills) kills, \(runs) runs, \(crash.stats.duplicates) repeats recognised")
    }
}
