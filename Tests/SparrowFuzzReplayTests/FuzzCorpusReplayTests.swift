import Foundation
import Testing

/// Every input of the fuzzers' committed corpus (Tests/Fuzz/TARGET/), run once through its target's checks: the
/// crashes and findings fuzzing once turned up stay fixed.
@Suite struct FuzzCorpusReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    @Test(arguments: FuzzHarness.targets.keys.sorted())
    func everyCorpusInputPasses(_ target: String) throws {
        let folder = Self.corpus.appendingPathComponent(target)
        let inputs = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(inputs.count >= 100, "the corpus of \(target) is missing")
        let check = FuzzHarness.targets[target]!
        for name in inputs {
            let input = try Data(contentsOf: folder.appendingPathComponent(name))
            do {
                try input.withUnsafeBytes { try check($0.bindMemory(to: UInt8.self)) }
            } catch {
                Issue.record("\(target)/\(name): \(error)")
            }
        }
    }
}
