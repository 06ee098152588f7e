import Foundation

/// Runs blocking work (reads, a pipeline of threads) on a thread of its own, keeping it off the cooperative pool.
package func runOnOwnThread<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Swift.Result { try work() }) }.start()
    }
}
