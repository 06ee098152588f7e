import Foundation
import Logging
import SparrowCore
import SparrowStore
import SparrowTestSupport
import Testing

@testable import SparrowDispatch

@Suite struct SubmitRecorderTests {
    /// A recorder with nothing to write pauses on its clock; cancelled, it ends with `CancellationError` after that
    /// one pause, instead of waking at once from every later one.
    @Test func aCancelledRecorderEndsInsteadOfLooping() async throws {
        let clock = TestClock()
        let recorder = SubmitRecorder(
            store: try SQLiteStore(path: Self.storePath()), clock: RunClock(clock), logger: Logger(label: "test"))
        let error = try await clock.errorAfterCancelling(Task { try await recorder.run() })
        #expect(error is CancellationError)
        #expect(clock.sleeps == 1)
    }

    /// Closing wakes a pausing recorder at once: it need not wait out its pause on a clock that does not move.
    @Test func closingEndsThePause() async throws {
        let clock = TestClock()
        let recorder = SubmitRecorder(
            store: try SQLiteStore(path: Self.storePath()), clock: RunClock(clock), logger: Logger(label: "test"))
        let running = Task { try await recorder.run() }
        try await clock.sleepers(1)
        recorder.close()
        try await running.value
        #expect(recorder.failure == nil)
    }

    /// A new store file's path in a folder of its own.
    static func storePath() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sparrow-recorder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent("s.sqlite").path
    }
}
