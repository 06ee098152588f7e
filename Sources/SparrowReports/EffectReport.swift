package import SparrowCore

/// `sparrow effect`: what a campaign earned against its holdout, in total and by segment, grid cell and carrier.
package enum EffectReport {
    package enum Format: String, Sendable, CaseIterable {
        case table, json
    }

    package static func render(_ effect: CampaignEffect, campaign: String, format: Format) -> String {
        switch format {
        case .table: table(effect, campaign: campaign)
        case .json: json(effect, campaign: campaign)
        }
    }

    /// The verdict on the whole campaign's lift, in plain words.
    package static func verdict(_ row: EffectRow, language: CampaignReport.Language = .en) -> String {
        let chinese = language == .zh
        guard let lift = row.lift else {
            return chinese
                ? "没有对照组：无法区分活动带来的成交与顾客本来就会有的购买。"
                : "No holdout: what the campaign earned cannot be told from what its recipients would have bought anyway."
        }
        let (lower, upper) = (points(lift.conversion.lower), points(lift.conversion.upper))
        switch (lift.isSignificant, chinese) {
        case (true, false):
            return
                "The lift is significant at 95 %: the conversion rate's difference lies between \(lower) and \(upper)."
        case (false, false):
            return "The lift is not significant at 95 %: the conversion rate's difference lies between \(lower) and "
                + "\(upper), which includes zero (a larger holdout, or a longer window, narrows it)."
        case (true, true):
            return "提升显著（95% 置信）：转化率之差在 \(lower) 与 \(upper) 之间。"
        case (false, true):
            return "提升不显著（95% 置信）：转化率之差在 \(lower) 与 \(upper) 之间，包含零（加大对照组或延长窗口可缩小区间）。"
        }
    }

    private static func table(_ effect: CampaignEffect, campaign: String) -> String {
        let total = effect.total
        var text =
            "campaign \(campaign): purchases paid within \(window(effect.window)) of each message, measured "
            + "\(effect.measuredAt)\n\n"
        let (sent, holdout) = (total.sent, total.holdout)
        text += TextTable.render([
            ["", "sent", "holdout"],
            ["recipients", count(sent.recipients), count(holdout.recipients)],
            ["messages sent", count(sent.sent), "-"],
            ["delivered", count(sent.delivered), "-"],
            ["clickers", count(sent.clickers), "-"],
            ["responders", count(sent.responders), "-"],
            ["response rate", percent(sent.responseRate), "-"],
            ["buyers", count(sent.buyers), count(holdout.buyers)],
            ["conversion rate", percent(sent.conversionRate), percent(holdout.conversionRate)],
            ["orders", count(sent.orders), count(holdout.orders)],
            ["revenue", money(sent.revenue), money(holdout.revenue)],
            ["AOV", sent.averageOrderValue.map(money) ?? "-", holdout.averageOrderValue.map(money) ?? "-"],
            ["cost", amount(sent.cost), "-"],
            ["ROI (revenue : cost)", ratio(sent.returnOnCost), "-"],
        ])
        if let lift = total.lift {
            text += "\n"
            text += TextTable.render([
                ["lift", "estimate", "95 % interval"],
                ["conversion rate", points(lift.conversion.estimate), range(lift.conversion, points)],
                ["incremental buyers", count(lift.buyers.estimate), range(lift.buyers, count)],
                [
                    "incremental revenue", lift.revenue.map { amount($0.estimate) } ?? "-",
                    lift.revenue.map { range($0, amount) } ?? "-",
                ],
                [
                    "incremental ROI", lift.returnOnCost.map { ratio($0.estimate) } ?? "-",
                    lift.returnOnCost.map { range($0, ratio) } ?? "-",
                ],
            ])
        }
        text += "\n" + verdict(total) + "\n"
        for dimension in EffectRow.Dimension.allCases where dimension != .total {
            let rows = effect.rows.filter { $0.dimension == dimension }
            guard !rows.isEmpty else { continue }
            var lines = [
                [
                    dimension.rawValue, "sent", "buyers", "conversion", "revenue", "holdout", "buyers", "conversion",
                    "lift", "95 % interval",
                ]
            ]
            for row in rows {
                let lift = row.lift?.conversion
                lines.append([
                    row.key, count(row.sent.recipients), count(row.sent.buyers), percent(row.sent.conversionRate),
                    money(row.sent.revenue), count(row.holdout.recipients), count(row.holdout.buyers),
                    percent(row.holdout.conversionRate), lift.map { points($0.estimate) } ?? "-",
                    lift.map { range($0, points) } ?? "-",
                ])
            }
            text += "\n" + TextTable.render(lines)
        }
        return text
    }

    private static func json(_ effect: CampaignEffect, campaign: String) -> String {
        var json = JSONWriter()
        json.object { object in
            object.field("campaign", campaign)
            object.field("window_seconds", Int(effect.window))
            object.field("measured_at", effect.measuredAt.description)
            object.field("significant", effect.total.lift?.isSignificant ?? false)
            object.field("verdict", verdict(effect.total))
            object.field("rows") { value in
                value.array { rows in
                    for row in effect.rows {
                        rows.object { object in
                            object.field("dimension", row.dimension.rawValue)
                            object.field("key", row.key)
                            object.field("sent") { write(row.sent, to: &$0) }
                            object.field("holdout") { write(row.holdout, to: &$0) }
                            guard let lift = row.lift else { return object.nullField("lift") }
                            object.field("lift") { value in
                                value.object { object in
                                    field("conversion", lift.conversion, in: &object)
                                    field("buyers", lift.buyers, in: &object)
                                    field("revenue", lift.revenue, in: &object)
                                    field("roi", lift.returnOnCost, in: &object)
                                    object.field("significant", lift.isSignificant)
                                }
                            }
                        }
                    }
                }
            }
        }
        json.newline()
        return String(decoding: json.bytes, as: UTF8.self)
    }

    private static func write(_ group: EffectGroup, to json: inout JSONWriter) {
        json.object { object in
            object.field("recipients", group.recipients)
            object.field("sent", group.sent)
            object.field("delivered", group.delivered)
            object.field("clickers", group.clickers)
            object.field("responders", group.responders)
            object.field("response_rate", group.responseRate)
            object.field("buyers", group.buyers)
            object.field("conversion_rate", group.conversionRate)
            object.field("orders", group.orders)
            object.field("revenue", Double(group.revenue.minorUnits) / 100)
            object.field("aov", group.averageOrderValue.map { Double($0.minorUnits) / 100 })
            object.field("cost", (group.cost * 1e6).rounded() / 1e6)
            object.field("roi", group.returnOnCost)
        }
    }

    private static func field(_ key: StaticString, _ interval: Interval?, in json: inout JSONWriter) {
        guard let interval else { return json.nullField(key) }
        json.field(key) { value in
            value.object { object in
                object.field("estimate", interval.estimate)
                object.field("lower", interval.lower)
                object.field("upper", interval.upper)
            }
        }
    }

    /// `3d`, `12h`, `90m` or seconds.
    static func window(_ seconds: Int64) -> String {
        seconds % 86_400 == 0
            ? "\(seconds / 86_400)d"
            : seconds % 3600 == 0 ? "\(seconds / 3600)h" : seconds % 60 == 0 ? "\(seconds / 60)m" : "\(seconds)s"
    }

    private static func percent(_ rate: Double?) -> String {
        rate.map { PlanReport.fixed($0 * 100, 2) + " %" } ?? "-"
    }

    /// A difference of rates in percentage points, signed.
    private static func points(_ difference: Double) -> String {
        (difference >= 0 ? "+" : "") + PlanReport.fixed(difference * 100, 2) + " pt"
    }

    private static func count(_ value: Double) -> String { PlanReport.grouped(Int(value.rounded())) }
    private static func count(_ value: Int) -> String { PlanReport.grouped(value) }
    private static func amount(_ value: Double) -> String { PlanReport.fixed(value, 2) }
    private static func money(_ value: Money) -> String { amount(Double(value.minorUnits) / 100) }
    private static func ratio(_ value: Double?) -> String { value.map { PlanReport.fixed($0, 2) } ?? "-" }

    private static func range(_ interval: Interval, _ show: (Double) -> String) -> String {
        "\(show(interval.lower)) to \(show(interval.upper))"
    }
}
