import ArgumentParser
import Foundation
import SparrowCommandSupport
import SparrowCore
import SparrowDispatch
import SparrowReports

struct Audience: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a store's customers from its order export, as recipients for plan and send.",
        discussion: """
            Reads Taobao's order report (订单报表, GBK or UTF-8), Shopify's orders export, or Sparrow's generic CSV \
            or JSON Lines, and writes one row per customer who bought, with a phone number: recency, frequency and \
            money spent with their 1–5 scores by quintiles, the named segment, the store grid's cell and its \
            suggested action. The highest spenders come first. Rejected rows go to the rejects file.
            """)

    @Option(help: "The order export to read.")
    var orders: String

    @OptionGroup var clock: InstantOption

    @Option(help: "csv or jsonl.")
    var output: String = "csv"

    @Flag(help: "Print the store grid with its counts and actions instead of the customers.")
    var matrix = false

    @Option(help: "The export's text encoding, utf-8 or gbk (default: detected).")
    var encoding: String?

    @Option(help: "The UTC offset of times written without one, e.g. +08:00.")
    var utcOffset: String = "+08:00"

    @Option(help: "Region (ISO 3166) of phone numbers written without a country code.")
    var region: String = "CN"

    @Option(help: "Average order value from which a customer counts as high value (default: the median).")
    var aovThreshold: String?

    @Option(help: "Only the customers who meet this condition, e.g. \"aov > 500 and segment in [at_risk, cant_lose]\".")
    var filter: String?

    @Option(help: "Where rejected rows are written (JSON Lines).")
    var rejects: String = "rejects.jsonl"

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard AudienceReport.Format(rawValue: output) != nil else {
            throw ValidationError("--output must be csv or jsonl")
        }
        if let encoding, OrderFileRun.Encoding(rawValue: encoding.lowercased()) == nil {
            throw ValidationError("--encoding must be utf-8 or gbk")
        }
        guard Self.seconds(ofOffset: utcOffset) != nil else {
            throw ValidationError("--utc-offset must be written +HH:MM or -HH:MM")
        }
        guard PhoneRegions.isKnown(region.uppercased()) else {
            throw ValidationError("--region '\(region)' is not a region code (ISO 3166, e.g. CN)")
        }
        if let aovThreshold, Money(aovThreshold) == nil {
            throw ValidationError("--aov-threshold must be an amount, e.g. 120.00")
        }
        if let filter {
            do {
                _ = try AudienceFilter(filter)
            } catch {
                throw ValidationError("--filter: \(error)")
            }
        }
    }

    func run() async throws {
        logging.bootstrap()
        let now = try clock.instant()
        let condition = try filter.map { try AudienceFilter($0) }
        let read = OrderFileRun(
            options: .init(
                path: orders, encoding: encoding.flatMap { OrderFileRun.Encoding(rawValue: $0.lowercased()) },
                offset: Self.seconds(ofOffset: utcOffset)!, rejectsPath: rejects,
                keywords: condition?.keywords ?? []))
        let (book, summary): (CustomerBook, OrderFileRun.Summary)
        do {
            (book, summary) = try await runOnOwnThread { try read.run() }
        } catch let error as InputFileError {
            throw UsageError(message: "\(orders): \(error)")
        } catch let error as IOError {
            throw RuntimeFailure(message: "\(error)")
        }
        let audience = SparrowCore.Audience(book, now: now, aovThreshold: aovThreshold.flatMap { Money($0) })
        let members = condition.map { audience.members.filter($0.admits) } ?? audience.members
        let format = AudienceReport.Format(rawValue: output)!
        let output = FileDescriptorOutput(descriptor: 1)
        var withoutPhone = 0
        if matrix {
            try output.write(Array(AudienceReport.matrix(members, aovThreshold: audience.aovThreshold).utf8))
        } else {
            try output.write(Array(AudienceReport.header(format).utf8))
            for member in members {
                guard let phone = member.history.phone else {
                    withoutPhone += 1
                    continue
                }
                let number =
                    switch PhoneNumberParser.parse(phone, defaultRegion: region.uppercased()) {
                    case .success(let info): info.number.e164
                    case .failure: phone  // as written: plan and send reject it with the reason
                    }
                try output.write(Array(AudienceReport.row(member, phone: number, format: format).utf8))
            }
        }
        try output.flush()
        let source = [summary.export?.rawValue, summary.encoding?.rawValue].compactMap { $0 }.joined(separator: ", ")
        var lines = [
            "sparrow: \(summary.orders) orders (\(source)) of \(book.histories.count) customers; "
                + "\(audience.members.count) bought, \(audience.unscored) did not"
        ]
        if members.count < audience.members.count {
            lines.append(
                "sparrow: \(audience.members.count - members.count) customers who bought do not meet the filter")
        }
        if withoutPhone > 0 {
            lines.append("sparrow: \(withoutPhone) customers who bought have no phone number: left out")
        }
        if summary.rejected > 0 { lines.append("sparrow: \(summary.rejected) rejected rows in \(rejects)") }
        printError(lines.joined(separator: "\n"))
    }

    /// `+08:00` → 28,800.
    static func seconds(ofOffset text: String) -> Int? {
        let parts = text.dropFirst().split(separator: ":")
        guard let sign = text.first.flatMap({ $0 == "+" ? 1 : $0 == "-" ? -1 : nil }), parts.count == 2,
            let hours = Int(parts[0]), let minutes = Int(parts[1]), (0...14).contains(hours), (0..<60).contains(minutes)
        else { return nil }
        return sign * (hours * 3600 + minutes * 60)
    }
}
