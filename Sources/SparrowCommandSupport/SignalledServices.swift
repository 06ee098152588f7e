import Foundation
import Logging
package import ServiceLifecycle
import UnixSignals
import SparrowCore
import Synchronization

/// Runs `main` beside `services` under one service group. The first Ctrl-C or SIGTERM shuts the group down
/// gracefully, announced with `notice`: `main` first, then the others in reverse order. A second one ends the
/// process at once (exit 130), which the journal also survives. When `main` ends, the others are shut down
/// gracefully too.
/// - Returns: what `main` returned.
/// - Throws: the error of a service that ended the group, or else what `main` threw.
package func runUntilSignalled<Value: Sendable>(
    notice: String, beside services: [any Service] = [], _ main: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    let main = MainService(main)
    // Trapped before any service starts, and announced before the shutdown begins: the notice is never lost to a
    // shutdown that ended the notice's own service first.
    let signals = SignalNotice(notice: notice, signals: await UnixSignalsSequence(trapping: .sigint, .sigterm))
    let group = ServiceGroup(
        configuration: .init(
            services: [.init(service: signals)] + services.map { .init(service: $0) } + [
                .init(service: main, successTerminationBehavior: .gracefullyShutdownGroup)
            ],
            logger: Logger(label: "sparrow", factory: { _ in SwiftLogNoOpLogHandler() })))
    signals.group.withLock { $0 = group }
    let groupFailure: (any Error)?
    do {
        try await group.run()
        groupFailure = nil
    } catch {
        groupFailure = error
    }
    switch main.result {
    case .success(let value)?: return value
    case .failure(let error)?: throw groupFailure ?? error  // a service's failure ended `main` first
    case nil: throw groupFailure ?? CancellationError()
    }
}

/// Runs the command's work as a service, keeping its result for `runUntilSignalled`.
private final class MainService<Value: Sendable>: Service {
    private let body: @Sendable () async throws -> Value
    private let outcome = Lock<Result<Value, any Error>?>(nil)

    init(_ body: @escaping @Sendable () async throws -> Value) {
        self.body = body
    }

    var result: Result<Value, any Error>? { outcome.withLock { $0 } }

    func run() async {
        let result: Result<Value, any Error>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        outcome.withLock { $0 = result }
    }
}

/// Traps Ctrl-C and SIGTERM: the first is announced and shuts the group down gracefully, the second ends the process.
/// It is the group's first service, so the last to be shut down: it hears signals until the others ended.
private final class SignalNotice: Service {
    let notice: String
    let signals: UnixSignalsSequence
    /// The group it shuts down, set before the group runs.
    let group = Lock<ServiceGroup?>(nil)

    init(notice: String, signals: UnixSignalsSequence) {
        self.notice = notice
        self.signals = signals
    }

    func run() async {
        var received = 0
        for await _ in signals.cancelOnGracefulShutdown() {
            received += 1
            guard received == 1 else { exit(130) }
            printError("\nsparrow: \(notice) (again to quit now)")
            await group.withLock { $0 }?.triggerGracefulShutdown()
        }
    }
}
