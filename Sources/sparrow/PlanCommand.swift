import ArgumentParser
import Foundation
import SparrowCommandSupport
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowReports
import SparrowStore

/// Options shared by the commands that read a campaign: configuration, message, recipients and clock.
struct CampaignOptions: ParsableArguments {
    @OptionGroup var config: ConfigOption

    @OptionGroup var message: MessageOptions

    @Option(
        help: """
            Fit each message into at most this many segments: the variables marked {{name|fit}} are shortened; a row \
            whose message still does not fit is rejected (too-long).
            """)
    var maxSegments: Int?

    @OptionGroup var recipients: RecipientOptions

    @OptionGroup var clock: InstantOption

    func validate() throws {
        guard message.isGiven else {
            throw ValidationError("give the message as exactly one of --text, --template or --approved")
        }
        if let maxSegments, maxSegments < 1 { throw ValidationError("--max-segments must be 1 or more") }
    }

    /// The campaign's message (`MessageOptions.load`), linted: warnings printed, errors stopping the command.
    func loadMessage(_ configuration: SparrowConfiguration) throws -> CampaignMessage {
        let (loaded, origin) = try message.load(configuration)
        try stopOnLintErrors(configuration.lint(loaded, origin: origin), strict: configuration.lint.strict)
        return loaded
    }
}

/// `--text`, `--template` or `--approved`: a campaign's message.
struct MessageOptions: ParsableArguments {
    @Option(help: "The message template (Mustache), inline.")
    var text: String?

    @Option(help: "A file holding the message template.")
    var template: String?

    @Option(help: "A template the gateways' provider approved, by its name under the configuration's templates.")
    var approved: String?

    /// Whether exactly one of the three was given (`validate` of the commands, which differ on none).
    var isGiven: Bool { [text, template, approved].count(where: { $0 != nil }) == 1 }

    /// The message, checked against what `configuration`'s gateways send, and where it was written.
    func load(_ configuration: SparrowConfiguration) throws -> (CampaignMessage, origin: String) {
        let message: CampaignMessage
        let origin: String
        if let approved {
            guard let template = configuration.templates[approved] else {
                let names = configuration.templates.keys.sorted()
                let hint = Suggestion.closest(to: approved, in: names).map { " (did you mean '\($0)'?)" } ?? ""
                throw UsageError(
                    message: "no template '\(approved)' in \(configuration.file)\(hint); templates: "
                        + (names.isEmpty ? "none" : names.joined(separator: ", ")))
            }
            (message, origin) = (.approved(template), configuration.file)
        } else {
            let (template, written) = try loadTemplate()
            (message, origin) = (.text(template), written)
        }
        if let refusal = configuration.refusal(of: message) { throw UsageError(message: refusal) }
        return (message, origin)
    }

    private func loadTemplate() throws -> (MessageTemplate, origin: String) {
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
            return (try MessageTemplate(source), origin)
        } catch {
            throw UsageError(message: "\(origin):\(error)")
        }
    }
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
        let configuration = try campaign.config.load()
        let message = try campaign.loadMessage(configuration)
        var settings = configuration.planSettings(message: message)
        settings.links = try CampaignLinks.dryRun(message, configuration)
        settings.maxSegments = campaign.maxSegments
        let now = try campaign.clock.instant()
        let contacts = try await withExistingStore(configuration) { store in
            try await Self.contacts(configuration, store: store, now: now, excluding: nil)
        }
        let run = PlanRun(
            settings: settings, zones: SystemZones(around: now),
            options: .init(
                format: campaign.recipients.recipientFormat, maxRowBytes: maxRowBytes, now: now,
                rejectsPath: campaign.recipients.rejects,
                workers: max(1, ProcessInfo.processInfo.activeProcessorCount)),
            contacts: contacts)
        let clock = ContinuousClock()
        let start = clock.now
        let summary: PlanSummary
        do {
            summary = try await runOnOwnThread { try run.run(input: 0, output: FileDescriptorOutput(descriptor: 1)) }
        } catch let error as InputFileError {
            throw UsageError(message: "recipients: \(error)")
        } catch let error as IOError {
            throw RuntimeFailure(message: "\(error)")
        }
        let elapsed = (clock.now - start) / .seconds(1)
        printError(
            PlanReport.text(
                summary, now: now, carriers: settings.carriers, rejectsPath: campaign.recipients.rejects,
                seconds: elapsed))
    }

    /// The suppression list and the frequency cap's counts (other campaigns' sends) from `store`; none without
    /// one (a plan creates no store).
    static func contacts(
        _ configuration: SparrowConfiguration, store: (any CampaignStore)?, now: Timestamp, excluding campaign: String?
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
