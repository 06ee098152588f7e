package import SparrowCore

/// `sparrow report`: a campaign's funnel, in total, per carrier and per gateway, as a table, JSON, CSV or an HTML
/// page.
package enum CampaignReport {
    package enum Format: String, Sendable, CaseIterable {
        case table, json, csv, html
    }

    /// The language of the HTML page's labels; the other formats keep their figures' keys.
    package enum Language: String, Sendable, CaseIterable {
        case en, zh
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
        Figure(key: "over_budget") { .count($0.overBudget) },
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

    /// - Parameters:
    ///   - effect: the campaign's last measured effect, which the HTML page shows after the funnel.
    ///   - timeline: the messages sent and delivered each minute, and the deliveries' latencies, which the HTML page
    ///     draws.
    package static func render(
        _ report: CampaignFigures, campaign: String, format: Format, language: Language = .en,
        effect: CampaignEffect? = nil, timeline: CampaignTimeline = .init()
    ) -> String {
        switch format {
        case .table: table(report, campaign: campaign)
        case .json: json(report, campaign: campaign)
        case .csv: csv(report, campaign: campaign)
        case .html: html(report, campaign: campaign, labels: Labels(language), effect: effect, timeline: timeline)
        }
    }

    /// A page of its own, with no script and no outside resource: the funnel and each carrier's delivery rate drawn
    /// as inline SVG; the effect, when measured, with each segment's conversion beside its holdout's; then the
    /// table's figures down and slices across.
    private static func html(
        _ report: CampaignFigures, campaign: String, labels: Labels, effect: CampaignEffect?, timeline: CampaignTimeline
    ) -> String {
        let slices = slices(report)
        let title = escape(labels.title(campaign))
        var page = """
            <!DOCTYPE html>
            <html lang="\(labels.language.rawValue)"><head><meta charset="utf-8"><title>\(title)</title>
            <style>body{font:14px system-ui,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:2em}table{border-collapse:collapse}\
            th,td{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child{text-align:left}\
            thead th{background:#f4f4f4}svg{display:block;margin:0 0 2em}svg text{font-size:13px}\
            </style></head><body>
            <h1>\(title)</h1>

            """
        page += "<h2>\(escape(labels.funnelChart))</h2>\n"
        let total = report.total
        page += bars(
            [
                (labels.figure("targeted"), total.targeted), (labels.figure("submitted"), total.submitted),
                (labels.figure("accepted"), total.accepted), (labels.figure("delivered"), total.delivered),
                (labels.figure("failed"), total.failed), (labels.figure("held_out"), total.heldOut),
            ].map { ($0, Double($1), PlanReport.grouped($1)) }, scale: Double(max(total.targeted, 1)))
        let carriers = report.byCarrier.sorted { $0.key < $1.key }.compactMap { name, funnel in
            funnel.deliveryRate.map { (name.isEmpty ? "(none)" : name, $0, PlanReport.fixed($0 * 100, 1) + "%") }
        }
        if !carriers.isEmpty {
            page += "<h2>\(escape(labels.deliveryChart))</h2>\n" + bars(carriers, scale: 1)
        }
        if !timeline.sends.isEmpty { page += overTime(timeline, labels: labels) }
        if !timeline.latencies.isEmpty {
            let banded = LatencyCount.banded(timeline.latencies)
            let total = Double(max(banded.reduce(0, +), 1))
            page += "<h2>\(escape(labels.latencyChart))</h2>\n"
            page += bars(
                zip(labels.latencyBands, banded).map { label, count in
                    (
                        label, Double(count),
                        "\(PlanReport.grouped(count)) (\(PlanReport.fixed(Double(count) / total * 100, 1))%)"
                    )
                }, scale: Double(max(banded.max() ?? 1, 1)))
        }
        if let effect { page += effectSection(effect, labels: labels) }
        page += "<table><thead><tr><th></th>"
        for slice in slices {
            let kind = labels.slice(slice.kind)
            page += "<th>\(slice.kind == "total" ? kind : kind + "<br>" + escape(slice.name))</th>"
        }
        page += "</tr></thead><tbody>\n"
        for figure in figures {
            page += "<tr><th>\(escape(labels.figure("\(figure.key)")))</th>"
            for slice in slices { page += "<td>\(escape(text(figure.value(slice.funnel), human: true)))</td>" }
            page += "</tr>\n"
        }
        return page + "</tbody></table></body></html>\n"
    }

    /// What the campaign earned: the sent group beside the holdout, the verdict on the lift, and the conversion and
    /// ROI of each segment.
    private static func effectSection(_ effect: CampaignEffect, labels: Labels) -> String {
        let total = effect.total
        var section = "<h2>\(escape(labels.effect(window: EffectReport.window(effect.window))))</h2>\n"
        section += "<table><thead><tr><th></th><th>\(labels.word("sent"))</th><th>\(labels.word("holdout"))</th></tr>"
        section += "</thead><tbody>\n"
        func percent(_ rate: Double?) -> String { rate.map { PlanReport.fixed($0 * 100, 2) + "%" } ?? "-" }
        func money(_ amount: Money) -> String { PlanReport.fixed(Double(amount.minorUnits) / 100, 2) }
        let rows: [(String, String, String)] = [
            ("recipients", PlanReport.grouped(total.sent.recipients), PlanReport.grouped(total.holdout.recipients)),
            ("responders", PlanReport.grouped(total.sent.responders), "-"),
            ("response rate", percent(total.sent.responseRate), "-"),
            ("buyers", PlanReport.grouped(total.sent.buyers), PlanReport.grouped(total.holdout.buyers)),
            ("conversion rate", percent(total.sent.conversionRate), percent(total.holdout.conversionRate)),
            ("revenue", money(total.sent.revenue), money(total.holdout.revenue)),
            ("cost", PlanReport.fixed(total.sent.cost, 2), "-"),
            ("ROI", total.sent.returnOnCost.map { PlanReport.fixed($0, 2) } ?? "-", "-"),
        ]
        for (name, sent, holdout) in rows {
            section += "<tr><th>\(escape(labels.word(name)))</th><td>\(sent)</td><td>\(holdout)</td></tr>\n"
        }
        section += "</tbody></table>\n<p>\(escape(EffectReport.verdict(total, language: labels.language)))</p>\n"
        // Each segment's and each grid cell's conversion beside its holdout's.
        for (dimension, title) in [
            (EffectRow.Dimension.segment, "conversion by segment"), (.cell, "conversion by grid cell"),
        ] {
            let rows = effect.rows.filter { $0.dimension == dimension }
            guard !rows.isEmpty else { continue }
            section += "<h2>\(escape(labels.word(title)))</h2>\n"
            let largest = rows.flatMap { [$0.sent.conversionRate ?? 0, $0.holdout.conversionRate ?? 0] }.max() ?? 0
            section += pairedBars(
                rows.map { row in
                    (
                        row.key, row.sent.conversionRate ?? 0, percent(row.sent.conversionRate),
                        row.holdout.recipients > 0
                            ? (row.holdout.conversionRate ?? 0, percent(row.holdout.conversionRate)) : nil
                    )
                }, scale: max(largest, 0.01), legend: (labels.word("sent"), labels.word("holdout")))
        }
        section += grid(effect, labels: labels, percent: percent)
        let segments = effect.rows.filter { $0.dimension == .segment }
        let returns = segments.compactMap { row in
            row.sent.returnOnCost.map { (row.key, $0, PlanReport.fixed($0, 2)) }
        }
        if !returns.isEmpty {
            section += "<h2>\(escape(labels.word("ROI by segment")))</h2>\n"
            section += bars(returns, scale: max(returns.map(\.1).max() ?? 1, 1))
        }
        return section
    }

    /// The width of the bar charts' labels, and of their bars at full scale.
    private static let (labelWidth, barWidth) = (170.0, 420.0)

    /// Horizontal bars as an inline SVG: a row per `(label, value, shown)`, each bar `value / scale` of the width.
    private static func bars(_ rows: [(label: String, value: Double, shown: String)], scale: Double) -> String {
        let rowHeight = 26.0
        let height = rowHeight * Double(rows.count)
        var svg = #"<svg role="img" width="\#(Int(labelWidth + barWidth + 90))" height="\#(Int(height))">"#
        for (index, row) in rows.enumerated() {
            svg += #"<text x="0" y="\#(Int(Double(index) * rowHeight + 17))">\#(escape(row.label))</text>"#
            svg += bar(row, y: Double(index) * rowHeight, height: rowHeight - 8, scale: scale, color: "#3b7dd8")
        }
        return svg + "</svg>\n"
    }

    /// Two bars a row, the sent group's above the holdout's (when it has one), with a legend above them.
    private static func pairedBars(
        _ rows: [(label: String, value: Double, shown: String, holdout: (value: Double, shown: String)?)],
        scale: Double, legend: (String, String)
    ) -> String {
        let (rowHeight, top) = (40.0, 24.0)
        let height = top + rowHeight * Double(rows.count)
        var svg = #"<svg role="img" width="\#(Int(labelWidth + barWidth + 90))" height="\#(Int(height))">"#
        svg += ##"<rect x="\##(Int(labelWidth))" y="4" width="12" height="12" fill="#3b7dd8"></rect>"##
        svg += #"<text x="\#(Int(labelWidth + 18))" y="15">\#(escape(legend.0))</text>"#
        svg += ##"<rect x="\##(Int(labelWidth + 120))" y="4" width="12" height="12" fill="#b0b0b0"></rect>"##
        svg += #"<text x="\#(Int(labelWidth + 138))" y="15">\#(escape(legend.1))</text>"#
        for (index, row) in rows.enumerated() {
            let y = top + Double(index) * rowHeight
            svg += #"<text x="0" y="\#(Int(y + 21))">\#(escape(row.label))</text>"#
            svg += bar((row.label, row.value, row.shown), y: y, height: 16, scale: scale, color: "#3b7dd8")
            if let holdout = row.holdout {
                svg += bar(
                    (row.label, holdout.value, holdout.shown), y: y + 17, height: 16, scale: scale, color: "#b0b0b0")
            }
        }
        return svg + "</svg>\n"
    }

    /// The messages a gateway took over time, as upright bars of a round width (at most 60 of them), with the
    /// largest count and the first and last buckets' times.
    /// Upright bars over time, in buckets of a round width: each bucket's sends, and its deliveries beside them.
    private static func overTime(_ timeline: CampaignTimeline, labels: Labels) -> String {
        let (width, starts, counts) = MinuteCount.buckets(timeline.sends, timeline.deliveries)
        let (left, top, chartWidth, chartHeight) = (60.0, 24.0, 560.0, 140.0)
        let largest = max(counts.joined().max() ?? 1, 1)
        let step = chartWidth / Double(starts.count)
        let series = [
            (counts[0], "#3b7dd8", labels.figure("accepted")), (counts[1], "#4caf50", labels.figure("delivered")),
        ]
        var svg = "<h2>\(escape(labels.sendsChart(per: EffectReport.window(width))))</h2>\n"
        svg += #"<svg role="img" width="\#(Int(left + chartWidth + 10))" height="\#(Int(top + chartHeight + 34))">"#
        for (index, (_, color, name)) in series.enumerated() {
            let x = left + Double(index) * 120
            svg += #"<rect x="\#(Int(x))" y="4" width="12" height="12" fill="\#(color)"></rect>"#
            svg += #"<text x="\#(Int(x + 18))" y="15">\#(escape(name))</text>"#
        }
        svg += #"<text x="0" y="\#(Int(top + 14))">\#(PlanReport.grouped(largest))</text>"#
        let barWidth = max(step / 2 - 0.5, 0.5)
        for (offset, (counts, color, _)) in series.enumerated() {
            for (index, count) in counts.enumerated() {
                let height = Double(count) / Double(largest) * chartHeight
                let x = left + Double(index) * step + Double(offset) * step / 2
                svg +=
                    #"<rect x="\#(PlanReport.fixed(x, 1))" y="\#(PlanReport.fixed(top + 4 + chartHeight - height, 1))" "#
                svg += #"width="\#(PlanReport.fixed(barWidth, 1))" height="\#(PlanReport.fixed(height, 1))" "#
                svg += #"fill="\#(color)"></rect>"#
            }
        }
        let bottom = Int(top + chartHeight + 24)
        svg += #"<text x="\#(Int(left))" y="\#(bottom)">\#(starts[0])</text>"#
        svg += #"<text x="\#(Int(left + chartWidth))" y="\#(bottom)" text-anchor="end">"#
        svg += "\(starts[starts.count - 1])</text>"
        return svg + "</svg>\n"
    }

    /// The store grid as a table, recency bands down and purchases across, each cell's high- and mid-value
    /// recipients with their conversion rate, and the holdout's beside it; empty when no cell was measured.
    private static func grid(
        _ effect: CampaignEffect, labels: Labels, percent: (Double?) -> String
    ) -> String {
        let cells = Dictionary(
            effect.rows.filter { $0.dimension == .cell }.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        guard !cells.isEmpty else { return "" }
        var table =
            "<h2>\(escape(labels.word("RFM grid: recipients · conversion (holdout)")))</h2>\n<table><thead><tr><th></th>"
        for frequency in 1...5 { table += "<th>\(frequency == 5 ? "5+" : "\(frequency)")</th>" }
        table += "</tr></thead><tbody>\n"
        for band in GridCell.Recency.allCases {
            table += "<tr><th>\(escape(band.label))</th>"
            for frequency in 1...5 {
                let lines = [true, false].compactMap { (high: Bool) -> String? in
                    let cell = GridCell(recency: band, purchases: frequency, highValue: high)
                    guard let row = cells[EffectMeasurement.key(of: cell)] else { return nil }
                    let holdout = row.holdout.recipients > 0 ? " (\(percent(row.holdout.conversionRate)))" : ""
                    return "\(labels.word(high ? "high" : "mid")) \(PlanReport.grouped(row.sent.recipients)) · "
                        + percent(row.sent.conversionRate) + holdout
                }
                table += "<td>\(lines.map(escape).joined(separator: "<br>"))</td>"
            }
            table += "</tr>\n"
        }
        return table + "</tbody></table>\n"
    }

    /// One bar at `y`, `value / scale` of the chart's width, with its figure after it.
    private static func bar(
        _ row: (label: String, value: Double, shown: String), y: Double, height: Double, scale: Double, color: String
    ) -> String {
        let width = max(0, min(1, row.value / scale)) * barWidth
        return #"<rect x="\#(Int(labelWidth))" y="\#(Int(y + 4))" width="\#(PlanReport.fixed(width, 1))" "#
            + "height=\"\(Int(height))\" fill=\"\(color)\"></rect>"
            + #"<text x="\#(PlanReport.fixed(labelWidth + width + 6, 1))" y="\#(Int(y + height))">"#
            + "\(escape(row.shown))</text>"
    }

    /// The HTML page's words in one language.
    struct Labels {
        var language: Language

        init(_ language: Language) {
            self.language = language
        }

        func title(_ campaign: String) -> String { language == .zh ? "营销活动 \(campaign)" : "Campaign \(campaign)" }
        var funnelChart: String { language == .zh ? "漏斗" : "Funnel" }
        var deliveryChart: String { language == .zh ? "各运营商送达率" : "Delivery rate by carrier" }

        func sendsChart(per width: String) -> String {
            language == .zh ? "发送与送达（每 \(width)）" : "Messages sent and delivered (per \(width))"
        }

        var latencyChart: String {
            language == .zh ? "送达耗时（发送至送达回执）" : "Delivery latency (from the send to the delivery receipt)"
        }

        /// The bands of `LatencyCount.bands`.
        var latencyBands: [String] {
            language == .zh
                ? [
                    "5 秒内", "5–10 秒", "10–30 秒", "30 秒–1 分钟", "1–2 分钟", "2–5 分钟", "5–10 分钟", "10–30 分钟", "30–60 分钟",
                    "1 小时以上",
                ]
                : [
                    "< 5 s", "5–10 s", "10–30 s", "30 s–1 min", "1–2 min", "2–5 min", "5–10 min", "10–30 min",
                    "30–60 min", "≥ 1 h",
                ]
        }

        func effect(window: String) -> String {
            language == .zh ? "营销效果（发送后 \(window) 内的成交）" : "Effect (purchases within \(window) of each message)"
        }

        /// A word of the effect's section.
        func word(_ english: String) -> String {
            guard language == .zh else { return english }
            return [
                "sent": "发送组", "holdout": "对照组", "recipients": "人数", "responders": "响应人数",
                "response rate": "响应率", "buyers": "购买人数", "conversion rate": "转化率", "revenue": "销售额",
                "cost": "费用", "ROI": "投入产出比", "conversion by segment": "各分群转化率",
                "conversion by grid cell": "各 RFM 网格转化率",
                "ROI by segment": "各分群投入产出比",
                "RFM grid: recipients · conversion (holdout)": "RFM 网格：发送人数 · 转化率（对照组）", "high": "高客单", "mid": "中客单",
            ][english] ?? english
        }

        func slice(_ kind: String) -> String {
            guard language == .zh else { return kind }
            return ["total": "合计", "carrier": "运营商", "gateway": "通道"][kind] ?? kind
        }

        func figure(_ key: String) -> String {
            (language == .zh ? Self.chinese[key] : Self.english[key]) ?? key
        }

        /// The keys that do not read as English words.
        static let english = [
            "held_out": "held out", "over_budget": "over budget", "delivery_rate": "delivery rate",
            "latency_p50_ms": "submit latency p50 (ms)",
            "latency_p99_ms": "submit latency p99 (ms)",
        ]

        static let chinese = [
            "targeted": "目标", "rejected": "无效", "duplicate": "重复", "suppressed": "已退订", "capped": "频次超限",
            "held_out": "对照组", "over_budget": "超出预算", "deferred": "延后发送", "submitted": "已提交", "accepted": "已受理",
            "delivered": "已送达",
            "failed": "失败", "pending": "待定", "unknown": "状态未知", "segments": "计费条数", "cost": "费用",
            "delivery_rate": "送达率", "latency_p50_ms": "提交耗时 p50 (毫秒)", "latency_p99_ms": "提交耗时 p99 (毫秒)",
        ]
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
