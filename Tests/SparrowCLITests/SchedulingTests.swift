import Foundation
import SparrowGatewaySim
import SparrowTestSupport
import Testing

/// `send` runs as batch work (`SCHED_BATCH`), every thread of it, unless the operator started it under a policy of
/// their own.
@Suite(.timeLimit(.minutes(2))) struct SchedulingTests {
    static let batch = 3, idle = 5  // Linux's SCHED_BATCH and SCHED_IDLE

    @Test(arguments: [([String](), batch), (["/usr/bin/chrt", "--idle", "0"], idle)])
    func everyThreadOfASendRunsUnderOnePolicy(launcher: [String], policy: Int) async throws {
        let simulator = GatewaySimulator(faults: .init(latency: .milliseconds(20)))
        try await withSimulator(simulator) { base in
            let (folder, recipients) = try SparrowProcess.campaignFolder(gateway: base, maxInFlight: 2, rows: 300)
            let process = try SparrowProcess.start(
                ["send", "-c", "sparrow.yaml", "--campaign", "policy", "--text", "Hi"], stdin: recipients, in: folder,
                launcher: launcher)
            while simulator.stats.messages < 20, !process.hasExited { try await Task.sleep(for: .milliseconds(5)) }
            let policies = Self.policies(of: process.pid)
            kill(process.pid, SIGTERM)
            _ = await process.exited()
            #expect(policies.count >= 3, "\(policies)")  // the main thread, the transport's and the journal's at least
            #expect(Set(policies.values) == [policy], "\(policies)")
        }
    }

    /// The scheduling policy of each thread of process `pid` (field 41 of its `stat`), by name and id.
    static func policies(of pid: Int32) -> [String: Int] {
        let tasks = "/proc/\(pid)/task"
        var policies: [String: Int] = [:]
        for thread in (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? [] {
            // A thread may end between the listing and the read.
            guard let stat = try? String(contentsOfFile: "\(tasks)/\(thread)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")  // from field 3, the state
            guard fields.count > 38, let policy = Int(fields[38]) else { continue }
            policies["\(stat[stat.index(after: open)..<close]) \(thread)"] = policy
        }
        return policies
    }
}
