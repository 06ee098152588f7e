import ArgumentParser
import Foundation
import CoreMetrics
import Logging
import Prometheus
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowPostgres
import SparrowReceipts
import SparrowReports
import SparrowStore
import SparrowTransport
import ServiceLifecycle
import SparrowCommandSupport

struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dispatch a campaign to the recipients on standard input.",
        discussion: """
            Every row is decided as plan would, journaled in the store, and sent through the carriers' throttles \
            and the gateways; progress goes to standard error. Messages deferred (by quiet hours, or by a \
            gateway's limits) are kept in the journal: --wait sends them when they come due, otherwise `sparrow \
            resume` does. Ctrl-C stops reading, finishes the requests in flight and prints the resume command.
            """)

    @OptionGroup var campaign: CampaignOptions

    @Option(
        name: [.customLong("campaign"), .customLong("campaign-id")],
        help: "The campaign's id (letters, digits, . _ -); a new one is made when absent.")
    var campaignID: String?

    @Flag(help: "Wait for deferred messages (quiet hours, a gateway's limits) and send them when they come due.")
    var wait = false

    @Option(help: "Where a click on a recipient's {{link}} goes (default: links.target of the configuration).")
    var linkTarget: String?

    @Option(help: "Longest row accepted, in bytes; longer rows are rejected.")
    var maxRowBytes: Int = 64 * 1024

    @Option(
        help: """
            Hold out this share of the recipients, chosen by number (e.g. 10%): they are never sent to, and the \
            report counts them, so that the campaign's effect can be measured against them.
            """)
    var holdout: String?

    @Option(help: "Send at most this many messages, to the most valuable recipients (see --order-by).")
    var maxMessages: Int?

    @Option(
        help: """
            Send only the messages whose planned cost adds up to this amount, the most valuable recipients first \
            (see --order-by).
            """)
    var budget: Double?

    @Option(
        help: """
            With --max-messages or --budget: the recipients' column whose numbers rank them, highest first (e.g. \
            monetary); ties, and rows without a value, go in input order. Without it, input order ranks them.
            """)
    var orderBy: String?

    @OptionGroup var beside: BesideOptions

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if let campaignID, !MessageID.isValidCampaign(campaignID) {
            throw ValidationError("--campaign must be 1 to 64 letters, digits, '.', '_' or '-'")
        }
        if let campaignID, campaignID.hasPrefix(FlowRule.campaign(of: "")) {
            throw ValidationError("--campaign cannot begin with 'flow.': the flows' campaigns are named so")
        }
        if let linkTarget, !SparrowConfiguration.Links.isURL(linkTarget) {
            throw ValidationError("--link-target must be an http or https URL")
        }
        if let holdout, Self.share(holdout) == nil {
            throw ValidationError("--holdout must be a share from 0% to below 100%, e.g. 10% or 0.1")
        }
        if maxMessages != nil, budget != nil {
            throw ValidationError("--max-messages and --budget are two limits: give one")
        }
        if let maxMessages, maxMessages < 0 { throw ValidationError("--max-messages must be 0 or more") }
        if let budget, !(budget.isFinite && budget >= 0) { throw ValidationError("--budget must be 0 or more") }
        if orderBy != nil, valueLimit == nil {
            throw ValidationError("--order-by ranks recipients for --max-messages or --budget: give one of them")
        }
    }

    /// The limit the most valuable messages are chosen under, if any.
    var valueLimit: ValueLimit? {
        maxMessages.map(ValueLimit.messages) ?? budget.map(ValueLimit.budget)
    }

    /// `10%` or `0.1` → 0.1; nil unless 0 ≤ share < 1.
    static func share(_ text: String) -> Double? {
        let percent = text.hasSuffix("%")
        guard let value = Double(percent ? String(text.dropLast()) : text), value.isFinite else { return nil }
        let share = percent ? value / 100 : value
        return share >= 0 && share < 1 ? share : nil
    }

    func run() async throws {
        logging.bootstrap()
        let configuration = try campaign.config.load()
        let message = try campaign.loadMessage(configuration)
        let now = try campaign.clock.instant()
        let id = campaignID ?? Self.newCampaignID(now: now)
        try await withStore(configuration) { store in
            if try await store.campaign(id: id) != nil {
                throw UsageError(
                    message:
                        "campaign '\(id)' exists already; finish it with: sparrow resume --config \(campaign.config.path) --campaign \(id)"
                )
            }
            let launcher = CampaignLauncher(
                configuration: configuration, configPath: campaign.config.path, store: store, campaign: id,
                message: message, now: now, wait: wait, holdout: holdout.flatMap(Self.share) ?? 0,
                maxSegments: campaign.maxSegments, beside: beside)
            var settings = configuration.planSettings(message: message)
            settings.maxSegments = campaign.maxSegments
            if let target = try CampaignLinks.target(of: message, configuration, given: linkTarget) {
                // Each link carries the campaign's number: the campaign is recorded first.
                settings.links = try await CampaignLinks.of(
                    try await launcher.begin(), sending: message, configuration, store: store, target: target)
            }
            settings.valueColumn = orderBy
            let reader = PlanRun(
                settings: settings, zones: SystemZones(around: now),
                options: .init(
                    format: campaign.recipients.recipientFormat, maxRowBytes: maxRowBytes, now: now,
                    rejectsPath: campaign.recipients.rejects,
                    workers: max(1, ProcessInfo.processInfo.activeProcessorCount)),
                contacts: try await Plan.contacts(configuration, store: store, now: now, excluding: id))
            printError("sparrow: campaign \(id)")
            var input: Int32 = 0
            if let valueLimit {
                let (descriptor, offset) = try StandardInput.rereadable()
                let ranking = try await rank(
                    reader, descriptor, under: valueLimit, holdout: launcher.holdout, campaign: id)
                guard lseek(descriptor, offset, SEEK_SET) == offset else {
                    throw RuntimeFailure(
                        message: "cannot read the recipients again: \(String(cString: strerror(errno)))")
                }
                _ = try await launcher.begin()
                try await store.setRanking(campaign: id, ranking)
                input = descriptor
            }
            try await launcher.launch(reading: (reader, input), rejectsPath: campaign.recipients.rejects)
        }
    }

    /// Reads the recipients once without journaling anything, to find where `limit` cuts the ranking of the messages
    /// the campaign would send (neither held out, suppressed nor capped).
    private func rank(
        _ reader: PlanRun, _ descriptor: Int32, under limit: ValueLimit, holdout share: Double, campaign: String
    ) async throws -> CampaignRanking {
        var options = reader.options
        options.rejectsPath = "/dev/null"  // the run proper writes them
        let reader = PlanRun(
            settings: reader.settings, zones: reader.zones, options: options, contacts: reader.contacts)
        let holdout = Holdout(share: share, campaign: campaign)
        let selection: ValueSelection
        do {
            selection = try await runOnOwnThread {
                var selection = ValueSelection(limit: limit)
                // Duplicates are counted in: the journal drops those the cut admits, so fewer messages may go, never more.
                _ = try reader.run(input: descriptor, findingDuplicates: false) { rows in
                    for case .message(let message, let status) in rows
                    where (status == .ready || status == .deferred) && !holdout.holds(message.number.e164) {
                        selection.add(value: message.value, line: message.line, cost: message.cost)
                    }
                }
                return selection
            }
        } catch let error as InputFileError {
            throw UsageError(message: "recipients: \(error)")
        } catch let error as IOError {
            throw RuntimeFailure(message: "\(error)")
        }
        let admitted = selection.admitted
        printError(
            "sparrow: \(admitted.messages) messages (cost \(PlanReport.fixed(admitted.cost, 2))) are within "
                + (budget != nil ? "the budget" : "the limit")
                + (orderBy.map { ", the highest \($0) first" } ?? ", in input order"))
        return CampaignRanking(column: orderBy, cut: selection.cut)
    }

    /// `20261122-143000-7f3a`: the start time (UTC) and 16 random bits.
    static func newCampaignID(now: Timestamp) -> String {
        let digits = now.description.filter(\.isNumber)
        let stamp = "\(digits.prefix(8))-\(digits.dropFirst(8).prefix(6))"
        return stamp + "-" + String(UInt16.random(in: 0...UInt16.max), radix: 16)
    }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Finish a campaign that was interrupted, sending nothing twice.",
        discussion: """
            Sends what the journal holds unanswered and the deferred messages that are due. When the campaign's \
            input was not read to its end, pipe the same input again: rows journaled before keep their first \
            decision and are not sent again. Messages in doubt on Tencent Cloud or Alibaba Cloud gateways are first \
            settled by their status queries, as `sparrow settle` does.
            """)

    @OptionGroup var config: ConfigOption

    @Option(help: "The campaign to finish.")
    var campaign: String

    @OptionGroup var recipients: RecipientOptions

    @OptionGroup var clock: InstantOption

    @Flag(help: "Wait for deferred messages (quiet hours, a gateway's limits) and send them when they come due.")
    var wait = false

    @OptionGroup var settling: SettleOptions

    @OptionGroup var beside: BesideOptions

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let configuration = try config.load()
        let now = try clock.instant()
        try await withStore(configuration) { store in
            guard let record = try await store.campaign(id: campaign) else {
                throw UsageError(message: "no campaign '\(campaign)' in \(configuration.store)")
            }
            let message = try Self.message(of: record, configuration)
            let launcher = CampaignLauncher(
                configuration: configuration, configPath: config.path, store: store, campaign: campaign,
                message: message, now: now, wait: wait, settling: settling, beside: beside)
            guard record.inputLines == nil, StandardInput.mayHoldRows else {
                return try await launcher.launch(reading: nil, rejectsPath: nil)
            }
            var settings = configuration.planSettings(message: message)
            settings.links = try await CampaignLinks.of(
                record, sending: message, configuration, store: store, target: nil)
            settings.valueColumn = record.ranking?.column
            settings.maxSegments = record.maxSegments
            let reader = PlanRun(
                settings: settings, zones: SystemZones(around: now),
                options: .init(
                    format: recipients.recipientFormat, now: now, rejectsPath: recipients.rejects,
                    workers: max(1, ProcessInfo.processInfo.activeProcessorCount)),
                contacts: try await Plan.contacts(configuration, store: store, now: now, excluding: campaign))
            try await launcher.launch(reading: (reader, 0), rejectsPath: recipients.rejects)
        }
    }
}

extension Resume {
    /// The message a campaign began with: its stored template, or the approved template it names, which the
    /// configuration must still hold.
    static func message(of record: CampaignRecord, _ configuration: SparrowConfiguration) throws -> CampaignMessage {
        let message: CampaignMessage
        if let name = record.approved {
            guard let approved = configuration.templates[name] else {
                throw UsageError(
                    message:
                        "campaign '\(record.id)' sends template '\(name)', which \(configuration.file) no longer has")
            }
            message = .approved(approved)
        } else {
            do {
                message = .text(try MessageTemplate(record.template))
            } catch {
                throw RuntimeFailure(
                    message: "campaign '\(record.id)': its stored template no longer compiles: \(error)")
            }
        }
        if let refusal = configuration.refusal(of: message) { throw UsageError(message: refusal) }
        return message
    }
}

/// What `send` and `resume` may run beside the campaign: the receipts webhook, and an endpoint for its metrics.
struct BesideOptions: ParsableArguments {
    @Flag(help: "Run the receipts webhook (receipts.listen) during the campaign, and wait for receipts at the end.")
    var receipts = false

    @Option(help: "With --receipts: stop waiting for receipts after this many seconds without one.")
    var receiptsWait: Int = 30

    @OptionGroup var webhook: WebhookOptions

    @Option(help: "Serve the campaign's metrics (Prometheus) at http://HOST:PORT/metrics while it runs.")
    var metricsListen: ListenAddress?

    func server(
        _ configuration: SparrowConfiguration, store: any CampaignStore, registry: PrometheusCollectorRegistry
    ) throws -> (server: ReceiptServer, wait: Duration)? {
        guard receipts else { return nil }
        return (try webhook.server(configuration, store: store, registry: registry), .seconds(receiptsWait))
    }
}

/// Runs a campaign for `send` and `resume`: wires the transport and the gateways, shows progress, stops gently
/// on Ctrl-C or SIGTERM, and prints the outcome and what to do next.
struct CampaignLauncher: Sendable {
    var configuration: SparrowConfiguration
    var configPath: String
    var store: any CampaignStore
    var campaign: String
    var message: CampaignMessage
    var now: Timestamp
    var wait: Bool
    /// The share held out of a new campaign (a resumed one keeps its own).
    var holdout: Double = 0
    /// The most segments a new campaign's message may take (a resumed one keeps its own).
    var maxSegments: Int?
    /// Ask the providers' status queries about messages in doubt first (`resume`).
    var settling: SettleOptions?
    var beside: BesideOptions
    /// How this process works beside others on the campaign (`worker`); nil for `send` and `resume`.
    var worker: WorkerOptions?

    /// Records the campaign now, as its run would at its start, and returns it: its number is in its links' codes.
    func begin() async throws -> CampaignRecord {
        try await store.beginCampaign(
            id: campaign, template: message.template.source, holdout: holdout, approved: message.approvedName,
            maxSegments: maxSegments, at: now)
        return try await store.campaign(id: campaign)!
    }

    func launch(reading input: (PlanRun, Int32)?, rejectsPath: String?) async throws {
        let registry = PrometheusCollectorRegistry()
        // Metrics cost a little per message: they are kept only where something serves them.
        let metrics: any MetricsFactory =
            beside.metricsListen != nil || beside.receipts
            ? PrometheusMetricsFactory(registry: registry) : NOOPMetricsHandler.instance
        let served = Served(registry: registry, factory: metrics)
        try await withSharedRates(configuration) { sharedRates in
            try await asWorker(metrics: metrics) { launcher in
                guard launcher.worker == nil else {
                    return try await launcher.launch(
                        reading: nil, rejectsPath: nil, sharedRates: sharedRates, metrics: served)
                }
                // One process journals a campaign's input: `send` and `resume` hold it; workers join them.
                try await holdingCampaign(campaign, in: launcher.store) {
                    try await launcher.launch(
                        reading: input, rejectsPath: rejectsPath, sharedRates: sharedRates, metrics: served)
                }
            }
        }
    }

    /// The run's metrics, and the registry that serves them.
    private struct Served: Sendable {
        let registry: PrometheusCollectorRegistry
        let factory: any MetricsFactory
    }

    /// Runs `body` with this launcher as one of the workers on a shared store's campaign: registered, and its store
    /// claiming the messages it sends, so that other workers may share them and take over those of a worker that
    /// died. With a SQLite store, `body` runs with this launcher as it is.
    private func asWorker(
        metrics: any MetricsFactory, _ body: @escaping @Sendable (CampaignLauncher) async throws -> Void
    ) async throws {
        guard let shared = store as? PostgresStore else { return try await body(self) }
        try await shared.asWorker(
            campaign: campaign, lease: worker?.lease ?? WorkerOptions.defaultLease, sender: worker == nil,
            metrics: metrics
        ) { claiming in
            var launcher = self
            launcher.store = claiming
            try await body(launcher)
        }
    }

    private func launch(
        reading input: (PlanRun, Int32)?, rejectsPath: String?, sharedRates: SharedRates?, metrics served: Served
    ) async throws {
        do {
            let transport = CurlTransport(maxInFlight: configuration.gateways.reduce(0) { $0 + $1.maxInFlight })
            defer { transport.shutdown() }
            let (registry, metrics) = (served.registry, served.factory)
            let receipts = try beside.server(configuration, store: store, registry: registry)
            let progress = SendProgress(metrics: metrics)
            let run = CampaignRun(
                options: .init(
                    campaign: campaign, template: message.template.source, waitForDeferred: wait,
                    window: configuration.gateways.reduce(0) { $0 + $1.maxInFlight }, holdout: holdout,
                    approved: message.approvedName, maxSegments: maxSegments,
                    sharedPolling: store is PostgresStore ? worker?.poll ?? .milliseconds(200) : nil),
                store: store,
                client: GatewayClient(
                    gateways: configuration.gateways.map(\.endpoint), transport: transport,
                    approved: message.approved,
                    breaker: configuration.circuitBreaker,
                    logger: Logger(label: "sparrow"), metrics: metrics),
                idempotentGateways: Set(configuration.gateways.filter(\.retry.honoursIdempotencyKey).map(\.name)),
                carriers: configuration.carriers,
                quietHours: configuration.quietHours.map { QuietHoursCheck($0, zones: SystemZones(around: now)) },
                clock: CampaignClock(origin: now), progress: progress,
                settler: settling?.settler(
                    configuration, store: store, transport: transport, now: now, awaitingReceipts: false),
                logger: Logger(label: "sparrow"), metrics: metrics, sharedRates: sharedRates)
            var services: [any Service] = [
                ProgressDisplay(progress, inputSize: input == nil ? nil : StandardInput.regularFileSize)
            ]
            if let listen = beside.metricsListen {
                services.append(
                    MetricsServer(
                        host: listen.host, port: listen.port, registry: registry, logger: Logger(label: "sparrow"),
                        onRunning: { printError("sparrow: metrics on http://\(listen.host):\($0)/metrics") }))
            }
            // The webhook listens before the first message goes, and until the receipts are in.
            let (webhookPorts, webhookListens) = AsyncStream.makeStream(of: Int.self)
            if let receipts {
                services.append(Webhook(server: receipts.server, listening: webhookListens))
            }
            let outcome: CampaignRun.Outcome
            do {
                outcome = try await runUntilSignalled(
                    notice: "stopping: no new messages; finishing the requests in flight", beside: services
                ) {
                    if receipts != nil, await webhookPorts.first(where: { _ in true }) == nil {
                        throw CancellationError()  // the webhook ended first: its error is the group's
                    }
                    let outcome =
                        if let worker {
                            try await run.work(polling: worker.poll)
                        } else {
                            try await run.run(reading: input)
                        }
                    if let receipts, !outcome.stopped { try await awaitReceipts(giving: receipts.wait) }
                    return outcome
                }
            } catch let error as InputFileError {
                throw UsageError(message: "recipients: \(error)")
            } catch let error as IOError {
                throw RuntimeFailure(message: "\(error)")
            } catch let error as InputMismatch {
                throw UsageError(message: "recipients: \(error)")
            } catch let failure as RuntimeFailure {
                throw failure
            } catch {
                throw RuntimeFailure(
                    message: "campaign \(campaign) stopped: \(error); finish it with: \(resumeCommand)")
            }
            if let settlement = outcome.settlement, settlement != StatusSettler.Outcome() {
                StatusSettlement.print(settlement, resume: nil)
            }
            let figures = try await store.figures(campaign: campaign)
            printError(CampaignReport.render(figures, campaign: campaign, format: .table))
            if worker != nil {
                let own = progress.snapshot
                printError(
                    "sparrow: this worker sent \(own.accepted + own.failed + own.unknown) messages: \(own.accepted) accepted, \(own.failed) failed, \(own.unknown) unknown"
                )
            }
            if let rejectsPath, figures.total.rejected > 0 {
                printError("sparrow: \(figures.total.rejected) rejected rows in \(rejectsPath)")
            }
            if outcome.inFlightResent > 0 {
                printError(
                    "sparrow: \(outcome.inFlightResent) messages were in flight when the last run stopped: sent again under the same idempotency keys"
                )
            }
            if outcome.unknownResent > 0 {
                printError(
                    "sparrow: \(outcome.unknownResent) messages had ended unknown on gateways that honour idempotency keys: sent again under the same keys"
                )
            }
            if outcome.inFlightUnknown > 0 {
                printError(
                    "sparrow: \(outcome.inFlightUnknown) messages were in flight when the last run stopped, to gateways that do not honour idempotency keys: recorded as unknown, for receipts to settle"
                )
            }
            if outcome.stopped {
                printError(
                    worker == nil
                        ? "sparrow: stopped; finish the campaign with: \(resumeCommand) < recipients"
                        : "sparrow: stopped; what it held is handed back to the other workers and to: \(resumeCommand)")
                throw ExitCode.failure
            }
            if !outcome.inputComplete {
                printError(
                    "sparrow: the campaign's input was never read to its end; pipe it again to: \(resumeCommand)")
            }
            if let next = outcome.nextRelease {
                printError(
                    "sparrow: \(figures.total.deferred) messages deferred (quiet hours, gateway limits), the first until \(next); send them with: \(resumeCommand) (after then, or with --wait)"
                )
            }
        }
    }

    /// The receipts webhook beside a campaign, saying once where it listens.
    private struct Webhook: Service {
        let server: ReceiptServer
        let listening: AsyncStream<Int>.Continuation

        func run() async throws {
            defer { listening.finish() }
            do {
                try await server.run { port in
                    printError("sparrow: receipts webhook on http://\(server.configuration.host):\(port)")
                    listening.yield(port)
                }
            } catch {
                throw RuntimeFailure(message: "receipts: the webhook stopped: \(error)")
            }
        }
    }

    /// Waits until every accepted message has its receipt, none came for `wait`, or a graceful shutdown. The count
    /// is asked every 500 ms, or less often when it takes longer than 50 ms (a large campaign): at most a tenth of a
    /// core.
    private func awaitReceipts(giving wait: Duration) async throws {
        let clock = ContinuousClock()
        var last = (awaiting: Int.max, at: clock.now)
        while true {
            let asked = clock.now
            let awaiting = try await store.awaitingReceipts(campaign: campaign)
            let pause = max(.milliseconds(500), (clock.now - asked) * 10)
            if awaiting == 0 { return }
            if awaiting < last.awaiting {
                last = (awaiting, clock.now)
                printError("sparrow: waiting for \(awaiting) delivery receipts")
            } else if clock.now - last.at > wait {
                printError("sparrow: no receipt for \(wait); \(awaiting) messages still await theirs")
                return
            }
            guard try await untilGracefulShutdown({ try await clock.sleep(for: pause) }) != nil else {
                printError("sparrow: stopped waiting for receipts; \(awaiting) messages still await theirs")
                return
            }
        }
    }

    private var resumeCommand: String { "sparrow resume --config \(configPath) --campaign \(campaign)" }
}
