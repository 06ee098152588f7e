import ArgumentParser
import SparrowCommandSupport
import SparrowConfig
import SparrowReports
import SparrowStore

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a campaign's funnel and delivery figures.",
        discussion: """
            Targeted, rejected, duplicate, suppressed, capped, deferred, submitted, accepted, delivered, failed, \
            pending, segments, cost, delivery rate and submit latency p50/p99, in total, per carrier and per gateway.
            """)

    @OptionGroup var config: ConfigOption

    @Option(help: "The campaign.")
    var campaign: String

    @OptionGroup var logging: LoggingOptions

    @Option(help: "table, json, csv or html.")
    var format: String = "table"

    func validate() throws {
        guard CampaignReport.Format(rawValue: format) != nil else {
            throw ValidationError("--format must be table, json, csv or html")
        }
    }

    func run() async throws {
        logging.bootstrap()
        let configuration = try config.load()
        let store = try openStore(configuration)
        guard try await store.campaign(id: campaign) != nil else {
            throw UsageError(message: "no campaign '\(campaign)' in \(configuration.store)")
        }
        let figures = try await store.figures(campaign: campaign)
        print(
            CampaignReport.render(figures, campaign: campaign, format: CampaignReport.Format(rawValue: format)!),
            terminator: "")
    }
}
