package import SparrowCore

/// `sparrow report` without `--campaign`: the store's campaigns, the latest first, each with when it began, its
/// funnel in total, and, once `effect` measured it, its response rate and ROI.
package enum CampaignList {
    package struct Entry: Sendable {
        package var campaign: String
        package var began: Timestamp
        package var funnel: Funnel
        /// The sent group's figures as last measured; nil before `effect`.
        package var effect: EffectGroup?

        package init(campaign: String, began: Timestamp, funnel: Funnel, effect: EffectGroup? = nil) {
            self.campaign = campaign
            self.began = began
            self.funnel = funnel
            self.effect = effect
        }
    }

    /// The figures the table and CSV show; JSON gives them all.
    private static let shown: Set<String> = [
        "targeted", "held_out", "submitted", "delivered", "failed", "pending", "cost", "delivery_rate",
    ]

    /// - Precondition: `format` is not `.html`.
    package static func render(_ entries: [Entry], format: CampaignReport.Format) -> String {
        let figures = CampaignReport.figures.filter { shown.contains("\($0.key)") }
        switch format {
        case .table, .csv:
            let human = format == .table
            var rows = [["campaign", "began"] + figures.map { "\($0.key)" } + ["response_rate", "roi"]]
            for entry in entries {
                rows.append(
                    [human ? entry.campaign : CSVField.escape(entry.campaign), entry.began.description]
                        + figures.map { CampaignReport.text($0.value(entry.funnel), human: human) }
                        + [
                            CampaignReport.text(.ratio(entry.effect?.responseRate), human: human),
                            entry.effect?.returnOnCost.map {
                                human ? PlanReport.fixed($0, 1) : String(($0 * 100).rounded() / 100)
                            }
                                ?? "",
                        ])
            }
            return human
                ? TextTable.render(rows) : rows.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
        case .json:
            var json = JSONWriter()
            json.array { array in
                for entry in entries {
                    array.object { object in
                        object.field("campaign", entry.campaign)
                        object.field("began", entry.began.description)
                        object.field("total") { CampaignReport.write(entry.funnel, to: &$0) }
                        object.field("response_rate", entry.effect?.responseRate)
                        object.field("roi", entry.effect?.returnOnCost)
                    }
                }
            }
            json.newline()
            return String(decoding: json.bytes, as: UTF8.self)
        case .html:
            preconditionFailure("a list of campaigns has no HTML form")
        }
    }
}
