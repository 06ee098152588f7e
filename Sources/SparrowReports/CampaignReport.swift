package import SparrowCore

/// `sparrow report`: a campaign's funnel, in total, per carrier and per gateway, as a table, JSON, CSV or an HTML
/// page.
package enum CampaignReport {
    package enum Format: String, Sendable, CaseIterable {
        case table, json, csv, html
    }

    /// One figure of a funnel, in the order reports show them.
    struct Figure: Sendable {
        var key: StaticString
        var value: @Sendable (Funnel) -> Value
    }

    enum Value {
        case count(Int)
        case amount(Double)
        case ratio(Double?)
        case latency(Duration?)
    }

    static let figures: [Figure] = [
        Figure(key: "targeted") { .count($0.targeted) },
        Figure(key: "rejected") { .count($0.rejected) },
        Figure(key: "duplicate") { .count($0.duplicate) },
        Figure(key: "suppressed") { .count($0.suppressed) },
        Figure(key: "capped") { .count($0.capped) },
        Figure(key: "held_out") { .count($0.heldOut) },
        Figure(key: "deferred") { .count($0.deferred) },
        Figure(key: "submitted") { .count($0.submitted) },
        Figure(key: "accepted") { .count($0.accepted) },
        Figure(key: "delivered") { .count($0.delivered) },
        Figure(key: "failed") { .count($0.failed) },
        Figure(key: "pending") { .count($0.pending) },
        Figure(key: "unknown") { .count($0.unknown) },
        Figure(key: "segments") { .count($0.segments) },
        Figure(key: "cost") { .amount($0.cost) },
        Figure(key: "delivery_rate") { .ratio($0.deliveryRate) },
        Figure(key: "latency_p50_ms") { .latency($0.latencyP50) },
        Figure(key: "latency_p99_ms") { .latency($0.latencyP99) },
    ]

    /// The slices in report order: the total, then carriers, then gateways, each sorted by name.
    private static func slices(_ report: CampaignFigures) -> [(kind: String, name: String, funnel: Funnel)] {
        [("total", "", report.total)]
            + report.byCarrier.sorted { $0.key < $1.key }.map {
                ("carrier", $0.key.isEmpty ? "(none)" : $0.key, $0.value)
            }
            + report.byGateway.sorted { $0.key < $1.key }.map {
                ("gateway", $0.key.isEmpty ? "(none)" : $0.key, $0.value)
            }
    }

    package static func render(_ report: CampaignFigures, campaign: String, format: Format) -> String {
        switch format {
        case .table: table(report, campaign: campaign)
        case .json: json(report, campaign: campaign)
        case .csv: csv(report, campaign: campaign)
        case .html: html(report, campaign: campaign)
        }
    }

    /// A page of its own: the table's figures down and slices across, with no script and no outside resource.
    private static func html(_ report: CampaignFigures, campaign: String) -> String {
        let slices = slices(report)
        let title = "Campaign " + escape(campaign)
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(title)</title>
            <style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}\
            th,td{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child{text-align:left}\
            thead th{background:#f4f4f4}</style></head><body>
            <h1>\(title)</h1>
            <table><thead><tr><th></th>
            """
        for slice in slices {
            let name = slice.kind == "total" ? "total" : slice.kind + "<br>" + escape(slice.name)
            page += "<th>\(name)</th>"
        }
        page += "</tr></thead><tbody>\n"
        for figure in figures {
            page += "<tr><th>\(figure.key)</th>"
            for slice in slices { page += "<td>\(escape(text(figure.value(slice.funnel), human: true)))</td>" }
            page += "</tr>\n"
        }
        return page + "</tbody></table></body></html>\n"
    }

    private static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Figures down, slices across.
    private static func table(_ report: CampaignFigures, campaign: String) -> String {
        let slices = slices(report)
        let kinds =
            ["campaign \(campaign)"]
            + slices.indices.map { index in
                index > 0 && slices[index - 1].kind == slices[index].kind ? "" : slices[index].kind
            }
        let names = [""] + slices.map(\.name)
        var rows = [kinds, names]
        for figure in figures {
            rows.append(["\(figure.key)"] + slices.map { text(figure.value($0.funnel), human: true) })
        }
        return TextTable.render(rows)
    }

    /// One line per slice.
    private static func csv(_ report: CampaignFigures, campaign: String) -> String {
        var lines = [(["campaign", "slice", "name"] + figures.map { "\($0.key)" }).joined(separator: ",")]
        for slice in slices(report) {
            let cells =
                [campaign, slice.kind, slice.name].map(CSVField.escape)
                + figures.map { text($0.value(slice.funnel), human: false) }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func json(_ report: CampaignFigures, campaign: String) -> String {
        var json = JSONWriter()
        json.object { root in
            root.field("campaign", campaign)
            root.field("total") { write(report.total, to: &$0) }
            root.field("carriers") { carriers in
                carriers.object { object in
                    for (name, funnel) in report.byCarrier.sorted(by: { $0.key < $1.key }) {
                        object.field(named: name) { write(funnel, to: &$0) }
                    }
                }
            }
            root.field("gateways") { gateways in
                gateways.object { object in
                    for (name, funnel) in report.byGateway.sorted(by: { $0.key < $1.key }) {
                        object.field(named: name) { write(funnel, to: &$0) }
                    }
                }
            }
        }
        json.newline()
        return String(decoding: json.bytes, as: UTF8.self)
    }

    static func write(_ funnel: Funnel, to json: inout JSONWriter) {
        json.object { object in
            for figure in figures {
                switch figure.value(funnel) {
                case .count(let count): object.field(figure.key, count)
                case .amount(let amount): object.field(figure.key, (amount * 1e6).rounded() / 1e6)
                case .ratio(let ratio): object.field(figure.key, ratio.map { ($0 * 1e4).rounded() / 1e4 })
                case .latency(let latency): object.field(figure.key, latency.map(milliseconds))
                }
            }
        }
    }

    static func text(_ value: Value, human: Bool) -> String {
        switch value {
        case .count(let count): human ? PlanReport.grouped(count) : String(count)
        case .amount(let amount): human ? PlanReport.fixed(amount, 2) : String((amount * 1e6).rounded() / 1e6)
        case .ratio(let ratio):
            ratio.map { human ? PlanReport.fixed($0 * 100, 1) + "%" : String(($0 * 1e4).rounded() / 1e4) } ?? ""
        case .latency(let latency):
            latency.map { human ? PlanReport.fixed(milliseconds($0), 1) : String(milliseconds($0)) } ?? ""
        }
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        duration / .milliseconds(1)
    }
}
