import ArgumentParser
import SparrowCommandSupport
import SparrowConfig
import SparrowCore
import SparrowReports
import SparrowStore

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a campaign's funnel and delivery figures, or list the store's campaigns.",
        discussion: """
            Targeted, rejected, duplicate, suppressed, capped, held out, deferred, submitted, accepted, delivered, \
            failed, pending, segments, cost, delivery rate and submit latency p50/p99, in total, per carrier and per \
            gateway; as a table, also the campaign's effect once `sparrow effect` measured it. Without --campaign, \
            every campaign of the store, the latest first, with its totals, response rate and ROI.
            """)

    @OptionGroup var config: ConfigOption

    @Option(help: "The campaign; without it, the store's campaigns are listed.")
    var campaign: String?

    @OptionGroup var logging: LoggingOptions

    @Option(help: "table, json, csv or html (html for one campaign only).")
    var format: String = "table"

    @Option(help: "The language of the HTML page's labels: en or zh.")
    var lang: String = "en"

    func validate() throws {
        guard let format = CampaignReport.Format(rawValue: format) else {
            throw ValidationError("--format must be table, json, csv or html")
        }
        guard let language = CampaignReport.Language(rawValue: lang) else {
            throw ValidationError("--lang must be en or zh")
        }
        if language != .en, format != .html {
            throw ValidationError("--lang applies to --format html; the other formats keep the figures' keys")
        }
        if campaign == nil, format == .html {
            throw ValidationError("--format html needs --campaign: the list of campaigns is a table, JSON or CSV")
        }
    }

    func run() async throws {
        logging.bootstrap()
        let configuration = try config.load()
        try await withStore(configuration) { store in
            let format = CampaignReport.Format(rawValue: format)!
            guard let campaign else {
                var entries: [CampaignList.Entry] = []
                for record in try await store.campaigns() {
                    let figures = try await store.figures(campaign: record.id)
                    let effect = try await store.effect(campaign: record.id)
                    entries.append(
                        .init(
                            campaign: record.id, began: record.createdAt, funnel: figures.total,
                            effect: effect?.total.sent)
                    )
                }
                return print(CampaignList.render(entries, format: format), terminator: "")
            }
            guard try await store.campaign(id: campaign) != nil else {
                throw UsageError(message: "no campaign '\(campaign)' in \(configuration.store)")
            }
            let figures = try await store.figures(campaign: campaign)
            let effect = try await store.effect(campaign: campaign)
            let timeline = format == .html ? try await store.timeline(campaign: campaign) : CampaignTimeline()
            print(
                CampaignReport.render(
                    figures, campaign: campaign, format: format, language: .init(rawValue: lang)!, effect: effect,
                    timeline: timeline),
                terminator: "")
            if format == .table, let effect {
                print("\n" + EffectReport.render(effect, campaign: campaign, format: .table), terminator: "")
            }
        }
    }
}
