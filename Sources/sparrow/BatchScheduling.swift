import Foundation

/// `send` and `resume` run as batch work, Linux's `SCHED_BATCH`: the same share of the CPU as any other process,
/// but a thread of Sparrow's that wakes up does not preempt the thread running on its core. A campaign's threads
/// wake one another for every batch and answer; as batch work they leave a gateway or another service on the same
/// cores to run, and the transport's thread finds more answers per wake-up. Against nginx on the same two cores:
/// 1.26–1.31× the rate and 0.79–0.82× the CPU per message (BENCHMARKS.md).
///
/// Only threads at the default policy change, so a policy the operator chose (`chrt --idle 0 sparrow send …`) stays.
enum BatchScheduling {
    static func apply() {
        #if os(Linux)
        let batch: Int32 = 3  // SCHED_BATCH, which <sched.h> declares only under _GNU_SOURCE
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return }
        var parameters = sched_param(sched_priority: 0)
        for thread in threads.compactMap(pid_t.init) where sched_getscheduler(thread) == SCHED_OTHER {
            _ = sched_setscheduler(thread, batch, &parameters)  // the threads they start inherit it
        }
        #endif
    }
}
