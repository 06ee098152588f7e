import ArgumentParser
import Foundation
import SparrowCommandSupport
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowReports
import SparrowStore

/// Options shared by the commands that read a campaign: configuration, message and clock.
struct CampaignOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The configuration file (YAML).")
    var config: String

    @Option(help: "The message template (Mustache), inline.")
    var text: String?

    @Option(help: "A file holding the message template.")
    var template: String?

    @Option(help: "Recipients' format: csv or jsonl (default: detected from the first byte).")
    var format: String?

    @Option(help: "Plan as of this instant (RFC 3339, e.g. 2026-11-22T12:00:00Z) instead of the clock.")
    var now: String?

    @Option(help: "Where rejected rows are written (JSON Lines).")
    var rejects: String = "rejects.jsonl"

    func validate() throws {
        guard (text == nil) != (template == nil) else {
            throw ValidationError("give the message as exactly one of --text or --template")
        }
        if let format, RecipientFormat(rawValue: format) == nil {
            throw ValidationError("--format must be csv or jsonl")
        }
    }

    var recipientFormat: RecipientFormat? { format.flatMap(RecipientFormat.init(rawValue:)) }

    func loadConfiguration() throws -> SparrowConfiguration { try readConfiguration(config) }

    func loadTemplate() throws -> MessageTemplate {
        let source: String
        let origin: String
        if let text {
            source = text
            origin = "--text"
        } else {
            let path = template!
            guard let data = FileManager.default.contents(atPath: path),
                let contents = String(data: data, encoding: .utf8)
            else { throw UsageError(message: "\(path): cannot read the template (missing, unreadable or not UTF-8)") }
            source = contents.hasSuffix("\n") ? String(contents.dropLast()) : contents
            origin = path
        }
        do {
            return try MessageTemplate(source)
        } catch {
            throw UsageError(message: "\(origin):\(error)")
        }
    }

    func instant() throws -> Timestamp { try parseInstant(now) }
}

/// Loads the configuration at `path` and prints its warnings.
func readConfiguration(_ path: String) throws -> SparrowConfiguration {
    let configuration = try SparrowConfiguration.load(path: path)
    for warning in configuration.warnings { printError("sparrow: \(warning)") }
    return configuration
}

/// `--now`, or the clock when it is absent.
func parseInstant(_ now: String?) throws -> Timestamp {
    guard let now else { return Timestamp(secondsSince1970: Int64(Date().timeIntervalSince1970)) }
    guard let instant = Timestamp(rfc3339: now) else {
        throw UsageError(message: "--now '\(now)' is not an RFC 3339 date-time (e.g. 2026-11-22T12:00:00Z)")
    }
    return instant
}

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dry run: decide every recipient as send would, and send nothing.",
        discussion: """
            Reads recipients (CSV with a header row, or JSON Lines) on standard input and writes one JSON line per \
            row to standard output; totals go to standard error and rejected rows to the rejects file. Numbers on \
            the store's suppression list, or at the frequency cap, are marked so; the store is only read.
            """)

    @OptionGroup var campaign: CampaignOptions

    @OptionGroup var logging: LoggingOptions

    @Option(help: "Longest row accepted, in bytes; longer rows are rejected.")
    var maxRowBytes: Int = 64 * 1024

    func run() async throws {
        logging.bootstrap()
        let configuration = try campaign.loadConfiguration()
        let settings = configuration.planSettings(template: try campaign.loadTemplate())
        let now = try campaign.instant()
        let run = PlanRun(
            settings: settings, zones: SystemZones(around: now),
            options: .init(
                format: campaign.recipientFormat, maxRowBytes: maxRowBytes, now: now, rejectsPath: campaign.rejects,
                workers: max(1, ProcessInfo.processInfo.activeProcessorCount)),
            contacts: try await Self.contacts(
                configuration,
                store: FileManager.default.fileExists(atPath: configuration.store) ? openStore(configuration) : nil,
                now: now, excluding: nil))
        let clock = ContinuousClock()
        let start = clock.now
        let summary: PlanSummary
        do {
            summary = try await runOnOwnThread { try run.run(input: 0, output: FileDescriptorOutput(descriptor: 1)) }
        } catch let error as RecipientFileError {
            throw UsageError(message: "recipients: \(error)")
        } catch let error as IOError {
            throw RuntimeFailure(message: "\(error)")
        }
        let elapsed = (clock.now - start) / .seconds(1)
        printError(
            PlanReport.text(
                summary, now: now, carriers: settings.carriers, rejectsPath: campaign.rejects, seconds: elapsed))
    }

    /// The suppression list and the frequency cap's counts (other campaigns' sends) from `store`; none without
    /// one (a plan creates no store).
    static func contacts(
        _ configuration: SparrowConfiguration, store: SQLiteStore?, now: Timestamp, excluding campaign: String?
    ) async throws -> ContactPolicy {
        guard let store else { return ContactPolicy() }
        do {
            var policy = ContactPolicy(suppressed: NumberSet(try await store.suppressedNumbers()))
            if let cap = configuration.frequencyCap {
                policy.capped = NumberSet(
                    try await store.cappedNumbers(
                        since: now + -Int64(cap.window / .seconds(1)), excluding: campaign, sends: cap.max))
            }
            return policy
        } catch {
            throw RuntimeFailure(message: "store \(error)")
        }
    }
}
