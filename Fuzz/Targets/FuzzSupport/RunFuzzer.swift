import FuzzDriver
import Foundation

/// The target's test, for the C entry point libFuzzer calls (which cannot capture it).
/// `nonisolated(unsafe)` is safe: it is set once, before libFuzzer starts, and libFuzzer calls back on that thread.
nonisolated(unsafe) private var test: ((UnsafeBufferPointer<UInt8>) throws -> Void)?

/// Runs libFuzzer with the command line's options, calling `body` with each input; exits with libFuzzer's status.
/// A finding `body` throws is a crash, which libFuzzer keeps as an artifact.
/// (The target keeps its own `main`, which SwiftPM renames for its tests, so libFuzzer's `main` cannot be used.)
public func runFuzzer(_ body: @escaping (UnsafeBufferPointer<UInt8>) throws -> Void) -> Never {
    test = body
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in testOneInput(data, size) })
}

/// libFuzzer's callback; its runtime also refers to it by this name.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    do {
        try test!(UnsafeBufferPointer(start: data, count: size))
    } catch {
        fatalError("\(error)")
    }
    return 0
}
