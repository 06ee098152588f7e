import ArgumentParser
import SparrowCommandSupport
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowReports
import SparrowStore

struct Effect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure what a campaign earned, against its holdout, from the store's order export.",
        discussion: """
            A purchase counts for a recipient when it is paid within the window after their message was sent (for \
            a held-out number, after it would have been), and so does a click on their tracked link. Prints \
            recipients, messages sent, delivered, clickers, responders (clickers, and delivered recipients who \
            bought), response rate, buyers, conversion rate, orders, revenue, AOV, cost \
            and ROI (revenue : cost) for the sent group and the holdout, then the lift: the conversion rate's \
            difference with its 95 % interval (Newcombe's), incremental buyers, revenue and ROI, and whether the \
            lift is significant; then the same by RFM segment and store-grid cell (as customers stood when the \
            campaign began, from the orders before it) and by carrier. The measurement is kept in the store: \
            `report` shows it, and `audience --responders-of` narrows to the responders.
            """)

    @OptionGroup var config: ConfigOption

    @Option(help: "The campaign.")
    var campaign: String

    @OptionGroup var orders: OrderFileOptions

    @Option(help: "How long after a message a purchase counts, e.g. 3d, 12h.")
    var window: String = "3d"

    @OptionGroup var clock: InstantOption

    @Option(help: "table or json.")
    var format: String = "table"

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard EffectReport.Format(rawValue: format) != nil else {
            throw ValidationError("--format must be table or json")
        }
        guard let window = DurationText.parse(window), window >= .seconds(60) else {
            throw ValidationError("--window must be a duration of a minute or more, e.g. 3d or 12h")
        }
    }

    func run() async throws {
        logging.bootstrap()
        let configuration = try config.load()
        try await withStore(configuration) { store in
            let now = try clock.instant()
            guard let record = try await store.campaign(id: campaign) else {
                throw UsageError(message: "no campaign '\(campaign)' in \(configuration.store)")
            }
            let recipients = try await store.effectRecipients(campaign: campaign)
            guard !recipients.isEmpty else {
                throw UsageError(message: "campaign '\(campaign)' has no recipients to measure")
            }
            let window = DurationText.parse(window)!.components.seconds
            let read = orders.run()
            let region = orders.phoneRegion
            let (measurement, summary) = try await orders.failures {
                try await runOnOwnThread {
                    var measurement = EffectMeasurement(
                        recipients: recipients, window: window, start: record.createdAt, region: region)
                    let summary = try read.read { measurement.add($0) }
                    return (measurement, summary)
                }
            }
            let effect = CampaignEffect(window: window, measuredAt: now, rows: measurement.rows())
            try await store.saveEffect(campaign: campaign, effect, responders: measurement.responders)
            print(
                EffectReport.render(effect, campaign: campaign, format: EffectReport.Format(rawValue: format)!),
                terminator: "")
            var lines = ["sparrow: \(summary.orders) orders (\(summary.source))"]
            let open = recipients.filter { $0.sentAt.secondsSince1970 + window > now.secondsSince1970 }.count
            if open > 0 {
                lines.append("sparrow: the window is still open for \(open) recipients: their purchases may yet come")
            }
            if summary.rejected > 0 { lines.append("sparrow: \(summary.rejected) rejected rows in \(orders.rejects)") }
            printError(lines.joined(separator: "\n"))
        }
    }
}
