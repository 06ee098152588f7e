import Foundation
import SparrowReports
import SparrowCore
import Testing

@Suite struct CampaignReportTests {
    static let figures: CampaignFigures = {
        var primary = Funnel()
        (primary.targeted, primary.accepted, primary.submitted, primary.delivered, primary.failed) = (10, 9, 9, 8, 1)
        (primary.segments, primary.cost, primary.latencyP50, primary.latencyP99) = (
            12, 0.54, .microseconds(3_250), .milliseconds(40)
        )
        var rejected = Funnel()
        (rejected.targeted, rejected.rejected) = (2, 2)
        var total = primary
        total.targeted += 2
        total.rejected = 2
        var figures = CampaignFigures()
        figures.total = total
        figures.byCarrier = ["china-mobile": primary, "": rejected]
        figures.byGateway = ["primary": primary, "": rejected]
        return figures
    }()

    @Test func theTableAlignsFiguresUnderTheirSlices() {
        let lines = CampaignReport.render(Self.figures, campaign: "c1", format: .table).split(separator: "\n")
        #expect(lines[0] == "campaign c1     total  carrier                gateway")
        #expect(lines[1] == "                        (none)  china-mobile   (none)  primary")
        #expect(lines[2] == "targeted           12        2            10        2       10")
        #expect(lines.contains("delivery_rate   88.9%                  88.9%             88.9%"))
        #expect(lines.contains("latency_p50_ms    3.3                    3.3               3.3"))
    }

    @Test func csvHasALinePerSliceAndJSONParses() throws {
        let csv = CampaignReport.render(Self.figures, campaign: "c,1", format: .csv).split(separator: "\n")
        #expect(csv.count == 6)  // the header, the total, two carriers, two gateways
        #expect(csv[0].hasPrefix("campaign,slice,name,targeted,rejected,"))
        // held_out and over_budget are 0.
        #expect(csv[1] == "\"c,1\",total,,12,2,0,0,0,0,0,0,9,9,8,1,0,0,12,0.54,0.8889,3.25,40.0")
        let json = CampaignReport.render(Self.figures, campaign: "c1", format: .json)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let total = try #require(object["total"] as? [String: Any])
        #expect(total["delivered"] as? Int == 8 && total["delivery_rate"] as? Double == 0.8889)
        #expect((object["gateways"] as? [String: Any])?.keys.sorted() == ["", "primary"])
    }

    @Test func theHTMLPageEscapesWhatItShows() {
        var figures = Self.figures
        figures.byCarrier["<b>&co</b>"] = Funnel()
        let page = CampaignReport.render(figures, campaign: "c1", format: .html)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("carrier<br>&lt;b&gt;&amp;co&lt;/b&gt;"))
        #expect(!page.contains("<b>&co"))
        #expect(page.contains("<tr><th>delivered</th><td>8</td>"))
        #expect(page.contains("<tr><th>delivery rate</th><td>88.9%</td>"))
    }

    /// Sends and deliveries share the buckets over time, side by side; the latency chart puts each delivery in its band.
    @Test func theHTMLPageDrawsTheCampaignOverTime() throws {
        let start = Timestamp(secondsSince1970: 1_800_000_000)
        let timeline = CampaignTimeline(
            sends: [MinuteCount(minute: start, count: 10), MinuteCount(minute: start + 60, count: 2)],
            deliveries: [MinuteCount(minute: start + 60, count: 9), MinuteCount(minute: start + 180, count: 3)],
            latencies: [LatencyCount(seconds: 3, count: 9), LatencyCount(seconds: 200, count: 3)])
        let page = CampaignReport.render(Self.figures, campaign: "c1", format: .html, timeline: timeline)
        #expect(page.contains(">Messages sent and delivered (per 1m)</h2>"))
        // Four minutes, two bars each (sends, then deliveries); the largest, 10 sends, is the chart's full height.
        #expect(page.contains(##"<rect x="60.0" y="28.0" width="69.5" height="140.0" fill="#3b7dd8"></rect>"##))
        #expect(page.contains(##"<rect x="270.0" y="42.0" width="69.5" height="126.0" fill="#4caf50"></rect>"##))
        #expect(page.contains(">accepted</text>") && page.contains(">delivered</text>"))
        #expect(page.contains(">Delivery latency (from the send to the delivery receipt)</h2>"))
        #expect(page.contains(">&lt; 5 s</text>") && page.contains(">9 (75.0%)</text>"))
        #expect(page.contains(">2–5 min</text>") && page.contains(">3 (25.0%)</text>"))
        #expect(page.contains(">0 (0.0%)</text>"))  // the empty bands are drawn too
    }

    /// The funnel and the carriers' delivery rates as inline SVG bars, each as long as its share; nothing the page
    /// would fetch.
    @Test func theHTMLPageDrawsItsChartsInline() throws {
        let page = CampaignReport.render(Self.figures, campaign: "c1", format: .html)
        #expect(page.components(separatedBy: "<svg").count - 1 == 2)
        // Six funnel bars (targeted 12 is the whole width) and one carrier with a delivery rate.
        #expect(page.components(separatedBy: "<rect").count - 1 == 7)
        #expect(page.contains(#"<text x="0" y="17">targeted</text><rect x="170" y="4" width="420.0""#))
        #expect(page.contains(#"<text x="0" y="95">delivered</text><rect x="170" y="82" width="280.0""#))  // 8 of 12
        #expect(page.contains(">china-mobile</text>") && page.contains(">88.9%</text>"))
        for fetching in ["http:", "https:", "src=", "href=", "url(", "@import", "<script"] {
            #expect(!page.contains(fetching), "\(fetching)")
        }
    }

    /// A measured effect follows the carriers: the groups side by side, the verdict, and each segment's conversion
    /// beside its holdout's (two bars a segment) and its ROI.
    @Test func theHTMLPageShowsTheEffect() throws {
        func group(_ recipients: Int, _ buyers: Int, cost: Double) -> EffectGroup {
            var group = EffectGroup()
            group.recipients = recipients
            group.buyers = buyers
            group.orders = buyers
            group.revenue = Money(minorUnits: Int64(buyers) * 10_000)
            group.cost = cost
            return group
        }
        let effect = CampaignEffect(
            window: 3 * 86_400, measuredAt: Timestamp(secondsSince1970: 0),
            rows: [
                EffectRow(dimension: .total, key: "", sent: group(900, 90, cost: 45), holdout: group(100, 1, cost: 0)),
                EffectRow(
                    dimension: .segment, key: "at_risk", sent: group(400, 60, cost: 20), holdout: group(50, 2, cost: 0)),
                EffectRow(
                    dimension: .segment, key: "loyal", sent: group(500, 30, cost: 25), holdout: group(50, 3, cost: 0)),
                EffectRow(
                    dimension: .cell, key: "31-90d, 2, high", sent: group(200, 30, cost: 10),
                    holdout: group(20, 1, cost: 0)),
                EffectRow(
                    dimension: .cell, key: "31-90d, 2, mid", sent: group(700, 60, cost: 35),
                    holdout: group(0, 0, cost: 0)),
            ])
        let page = CampaignReport.render(Self.figures, campaign: "c1", format: .html, language: .zh, effect: effect)
        #expect(page.components(separatedBy: "<svg").count - 1 == 5)
        // The grid: a cell's high- and mid-value recipients with their conversion, and the holdout's when it has one.
        #expect(page.contains("<h2>RFM 网格：发送人数 · 转化率（对照组）</h2>"))
        #expect(page.contains("<td>高客单 200 · 15.00% (5.00%)<br>中客单 700 · 8.57%</td>"))
        let grid = try #require(page.firstRange(of: "RFM 网格").map { page[$0.lowerBound...] })
        let tableEnd = try #require(grid.firstRange(of: "</table>"))
        let table = grid[..<tableEnd.lowerBound]
        #expect(table.components(separatedBy: "<td></td>").count - 1 == 24)  // the other cells, empty
        #expect(table.components(separatedBy: "<tr><th>").count - 1 == 6)  // the header, and a row a recency band
        #expect(page.contains("营销效果（发送后 3d 内的成交）") && page.contains("提升显著（95% 置信）"))
        #expect(page.contains(">at_risk</text>") && page.contains(">15.00%</text>") && page.contains(">4.00%</text>"))
        #expect(page.contains(">各分群投入产出比</h2>") && page.contains(">300.00</text>"))  // 6,000.00 for 20.00
    }

    @Test func theHTMLPageSpeaksChinese() {
        let page = CampaignReport.render(Self.figures, campaign: "c1", format: .html, language: .zh)
        #expect(page.contains(#"<html lang="zh">"#) && page.contains("<title>营销活动 c1</title>"))
        #expect(page.contains("<h2>漏斗</h2>") && page.contains("<h2>各运营商送达率</h2>"))
        #expect(page.contains("<tr><th>送达率</th><td>88.9%</td>"))
        #expect(page.contains("<th>运营商<br>china-mobile</th>"))
        #expect(!page.contains("delivery_rate"))
    }
}
