import ArgumentParser
import Foundation
import SparrowCommandSupport
import SparrowConfig
import Logging
import SparrowCore
import SparrowPostgres
import SparrowStore

/// `--config`, which every command that works on campaigns, receipts or the suppression list reads.
struct ConfigOption: ParsableArguments {
    @Option(name: [.customShort("c"), .customLong("config")], help: "The configuration file (YAML).")
    var path: String

    @Option(
        name: .customLong("store"),
        help: ArgumentHelp(
            "Use this store instead of the configuration's: a SQLite file's path or a postgres:// URL.",
            valueName: "PATH|URL"))
    var storeOverride: String?

    /// Loads the configuration, with `--store` in place of its store, and prints its warnings.
    func load() throws -> SparrowConfiguration {
        var configuration = try Self.load(path: path)
        if let storeOverride {
            do {
                configuration.store = try StoreLocation(
                    storeOverride, relativeTo: FileManager.default.currentDirectoryPath)
            } catch {
                throw UsageError(message: "--store: \(error.reason)")  // never the URL: it may hold a password
            }
        }
        return configuration
    }

    /// Loads the configuration at `path` and prints its warnings.
    static func load(path: String) throws -> SparrowConfiguration {
        let configuration = try SparrowConfiguration.load(path: path)
        for warning in configuration.warnings { printError("sparrow: \(warning)") }
        return configuration
    }
}

/// `--now`, for the commands whose decisions depend on the time.
struct InstantOption: ParsableArguments {
    @Option(help: "Act as of this instant (RFC 3339, e.g. 2026-11-22T12:00:00Z) instead of the clock.")
    var now: String?

    /// `--now`, or the clock when it is absent.
    func instant() throws -> Timestamp {
        guard let now else { return Timestamp(secondsSince1970: Int64(Date().timeIntervalSince1970)) }
        guard let instant = Timestamp(rfc3339: now) else {
            throw UsageError(message: "--now '\(now)' is not an RFC 3339 date-time (e.g. 2026-11-22T12:00:00Z)")
        }
        return instant
    }
}

/// `--format` and `--rejects`, for the commands that read recipients on standard input.
struct RecipientOptions: ParsableArguments {
    @Option(help: "Recipients' format: csv or jsonl (default: detected from the first byte).")
    var format: String?

    @Option(help: "Where rejected rows are written (JSON Lines).")
    var rejects: String = "rejects.jsonl"

    func validate() throws {
        if let format, RecipientFormat(rawValue: format) == nil {
            throw ValidationError("--format must be csv or jsonl")
        }
    }

    var recipientFormat: RecipientFormat? { format.flatMap(RecipientFormat.init(rawValue:)) }
}
