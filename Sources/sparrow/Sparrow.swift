import ArgumentParser
import Foundation
import SparrowCommandSupport
import SparrowConfig
import SparrowCore

/// The `sparrow` command line: parses arguments, loads the configuration, wires the modules, maps errors to the
/// spec's exit codes (0 done, 1 runtime failure, 2 usage or configuration error).
@main
struct Sparrow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparrow",
        abstract: "High-throughput SMS dispatch for store CRM campaigns.",
        subcommands: [
            Audience.self, Plan.self, Send.self, Resume.self, Worker.self, Workers.self, Settle.self, Report.self,
            Effect.self, Receipts.self,
            Suppress.self, Flows.self, Lint.self,
            Segment.self,
            Phone.self,
        ])

    static func main() async {
        do {
            var command = try parseAsRoot()
            if command is Send || command is Resume {
                MallocArenas.limit()
                BatchScheduling.apply()
            }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(with: error)
        }
    }

    /// Prints `error` as the user should see it and exits with the spec's code for it.
    static func exit(with error: any Error) -> Never {
        let code: Int32
        switch error {
        case let error as ConfigError:
            printError("sparrow: \(error)")
            code = 2
        case let error as UsageError:
            printError("sparrow: \(error.message)")
            code = 2
        case let error as RuntimeFailure:
            printError("sparrow: \(error.message)")
            code = 1
        default:
            let exitCode = exitCode(for: error)
            let message = fullMessage(for: error)
            if exitCode == .success {
                print(message)
                Foundation.exit(0)
            }
            printError(message)
            code = exitCode == .validationFailure ? 2 : (exitCode.rawValue == 0 ? 0 : 1)
        }
        Foundation.exit(code)
    }
}

/// Wrong arguments or input the user must fix: exit code 2.
struct UsageError: Error {
    var message: String
}

/// The run failed: exit code 1.
struct RuntimeFailure: Error {
    var message: String
}
