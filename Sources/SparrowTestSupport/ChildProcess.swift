import CSpawn
public import Foundation
import Glibc
import SparrowCore
import Synchronization

/// A program the tests start, through `posix_spawn`: its standard streams on files (or `/dev/null`), every other
/// descriptor of the test process closed in it, every signal at its default.
///
/// Not Foundation's `Process`: on this toolchain its `run()` now and then reads past a buffer while it lists the
/// test process's open descriptors, and crashes the whole test run (swift-corelibs-foundation, fixed upstream by
/// PR 5472).
public final class ChildProcess: Sendable {
    public typealias Ending = (reason: Process.TerminationReason, status: Int32)

    /// Where a standard stream goes: nowhere, or a file (read from for input, created or emptied for output).
    public enum Stream: Sendable {
        case null
        case file(String)
    }

    public let pid: Int32
    private let state = Lock<(ending: Ending?, waiters: [CheckedContinuation<Ending, Never>])>((nil, []))
    private let ended = DispatchSemaphore(value: 0)

    /// Starts `command` (a path, then its arguments) in `directory`, with this process's environment. The ending of a
    /// process that cannot be waited for (not expected) is `(.exit, -1)`.
    /// - Throws: `POSIXError` when a file cannot be opened or the program cannot be started.
    public init(
        _ command: [String], in directory: String? = nil, stdin: Stream = .null, stdout: Stream = .null,
        stderr: Stream = .null
    ) throws {
        precondition(!command.isEmpty, "a command names its program")
        let input = try Self.open(stdin, flags: O_RDONLY)
        defer { close(input) }
        let output = try Self.open(stdout, flags: O_WRONLY | O_CREAT | O_TRUNC)
        defer { close(output) }
        let error = try Self.open(stderr, flags: O_WRONLY | O_CREAT | O_TRUNC)
        defer { close(error) }
        let arguments = command.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var pid: pid_t = 0
        let result = sparrow_spawn(&pid, command[0], arguments, environ, directory, input, output, error)
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EINVAL) }
        self.pid = pid
        Thread { [self] in
            var status: Int32 = 0
            var waited = waitpid(self.pid, &status, 0)
            while waited == -1, errno == EINTR { waited = waitpid(self.pid, &status, 0) }
            let signal = status & 0x7f
            end(waited == -1 ? (.exit, -1) : signal == 0 ? (.exit, (status >> 8) & 0xff) : (.uncaughtSignal, signal))
        }.start()
    }

    public var hasExited: Bool { state.withLock { $0.ending != nil } }

    /// Waits for the process to end without holding a thread: the tests' own servers need the cooperative pool
    /// meanwhile.
    public func exited() async -> Ending {
        await withCheckedContinuation { continuation in
            let ending = state.withLock { state in
                if state.ending == nil { state.waiters.append(continuation) }
                return state.ending
            }
            if let ending { continuation.resume(returning: ending) }
        }
    }

    /// Waits for the process to end, holding the calling thread.
    public func waitUntilExit() -> Ending {
        ended.wait()
        ended.signal()  // for any later wait
        return state.withLock { $0.ending! }
    }

    private func end(_ ending: Ending) {
        let waiters = state.withLock { state in
            state.ending = ending
            defer { state.waiters = [] }
            return state.waiters
        }
        ended.signal()
        for waiter in waiters { waiter.resume(returning: ending) }
    }

    private static func open(_ stream: Stream, flags: Int32) throws -> Int32 {
        let path: String
        switch stream {
        case .null: path = "/dev/null"
        case .file(let file): path = file
        }
        let descriptor = Glibc.open(path, flags | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return descriptor
    }
}
