import ArgumentParser
import Foundation
import SparrowCommandSupport
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowReports
import SparrowStore

struct Audience: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a store's customers from its order export, as recipients for plan and send.",
        discussion: """
            Reads Taobao's order report (订单报表, GBK or UTF-8), Shopify's orders export, or Sparrow's generic CSV \
            or JSON Lines, and writes one row per customer who bought, with a phone number: recency, frequency and \
            money spent with their 1–5 scores by quintiles, the named segment, the store grid's cell and its \
            suggested action. The highest spenders come first. Rejected rows go to the rejects file.
            """)

    @OptionGroup var orders: OrderFileOptions

    @OptionGroup var clock: InstantOption

    @Option(help: "csv or jsonl.")
    var output: String = "csv"

    @Flag(help: "Print the store grid with its counts and actions instead of the customers.")
    var matrix = false

    @Option(help: "Average order value from which a customer counts as high value (default: the median).")
    var aovThreshold: String?

    @Option(help: "Only the customers who meet this condition, e.g. \"aov > 500 and segment in [at_risk, cant_lose]\".")
    var filter: String?

    @Option(
        help: """
            A ready-made audience: new-year, pre-heat, hot-item:WORD, potential-interest, lost, repurchase[:DAYS], \
            past-buyers or new-customers; combines with --filter.
            """)
    var preset: String?

    @Option(help: "Only the customers who responded to this campaign, as its last `effect` measured (needs --config).")
    var respondersOf: String?

    @Option(help: "Only the customers this campaign reached who did not respond (needs --config).")
    var nonRespondersOf: String?

    @Option(
        name: [.customShort("c"), .customLong("config")],
        help: "The configuration file (YAML), whose store --responders-of and --non-responders-of read.")
    var config: String?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard AudienceReport.Format(rawValue: output) != nil else {
            throw ValidationError("--output must be csv or jsonl")
        }
        if let aovThreshold, Money(aovThreshold) == nil {
            throw ValidationError("--aov-threshold must be an amount, e.g. 120.00")
        }
        if respondersOf != nil || nonRespondersOf != nil, config == nil {
            throw ValidationError("--responders-of and --non-responders-of need --config, for the store")
        }
        if let filter {
            do {
                let compiled = try AudienceFilter(filter)
                if compiled.readsMarketing, config == nil {
                    throw ValidationError(
                        "--filter reads the customers' marketing history: give --config, for the store")
                }
            } catch let error as AudienceFilterError {
                throw ValidationError("--filter: \(error)")
            }
        }
        if let preset {
            do {
                _ = try AudiencePreset.condition(preset)
            } catch {
                throw ValidationError("--preset: \(error.message)")
            }
        }
    }

    /// Writes `members`' rows, formatted on two threads, in order; returns how many had no phone number (left out).
    static func write(
        _ members: [AudienceMember], format: AudienceReport.Format, region: String, to output: FileDescriptorOutput
    ) throws -> Int {
        var withoutPhone = 0
        try OrderedBatchPipeline<Range<Int>, (rows: [UInt8], withoutPhone: Int)>(workers: 2).run(
            produce: { send in
                for start in stride(from: 0, to: members.count, by: 4096) {
                    try send(start..<min(start + 4096, members.count))
                }
            },
            makeWorker: {
                { range in
                    var chunk: (rows: [UInt8], withoutPhone: Int) = ([], 0)
                    for index in range {  // members[index], not a copy, which would retain each of its strings
                        guard let phone = members[index].history.phone else {
                            chunk.withoutPhone += 1
                            continue
                        }
                        let number =
                            switch PhoneNumberParser.parse(phone, defaultRegion: region) {
                            case .success(let info): info.number.e164
                            case .failure: phone  // as written: plan and send reject it with the reason
                            }
                        chunk.rows += AudienceReport.row(members[index], phone: number, format: format)
                    }
                    return chunk
                }
            },
            consume: { chunk in
                try output.write(chunk.rows)
                withoutPhone += chunk.withoutPhone
            })
        try output.flush()
        return withoutPhone
    }

    func run() async throws {
        logging.bootstrap()
        let now = try clock.instant()
        // One filter of both, so that the words they look for are tracked once, in one order.
        let texts = [filter, try preset.map { try AudiencePreset.condition($0) }].compactMap { $0 }
        let condition = texts.isEmpty ? nil : try AudienceFilter(texts.map { "(\($0))" }.joined(separator: " and "))
        let read = orders.run(keywords: condition?.keywords ?? [])
        let (book, summary) = try await orders.failures { try await runOnOwnThread { try read.run() } }
        let audience = SparrowCore.Audience(book, now: now, aovThreshold: aovThreshold.flatMap { Money($0) })
        var scored = audience.members
        // The configuration is read, and its store opened, once for both the history and the narrowing.
        var (history, narrowing): ([UInt64: MarketingHistory]?, Set<UInt64>?) = (nil, nil)
        if let config {
            let configuration = try ConfigOption.load(path: config)
            (history, narrowing) = try await withStore(configuration) { store in
                (
                    condition?.readsMarketing == true ? try await store.marketingHistory() : nil,
                    try await self.narrowing(store, named: configuration.store)
                )
            }
        }
        if let history {
            for index in scored.indices {
                scored[index].marketing = number(of: scored[index]).flatMap { history[$0] } ?? MarketingHistory()
            }
        }
        var members = condition.map { scored.filter($0.admits) } ?? scored
        let filtered = members.count
        if let narrowing {
            members = members.filter { member in number(of: member).map(narrowing.contains) ?? false }
        }
        let format = AudienceReport.Format(rawValue: output)!
        let output = FileDescriptorOutput(descriptor: 1)
        var withoutPhone = 0
        if matrix {
            try output.write(Array(AudienceReport.matrix(members, aovThreshold: audience.aovThreshold).utf8))
        } else {
            try output.write(Array(AudienceReport.header(format).utf8))
            try output.flush()
            let (members, region) = (members, orders.phoneRegion)
            withoutPhone = try await runOnOwnThread {
                try Self.write(members, format: format, region: region, to: FileDescriptorOutput(descriptor: 1))
            }
        }
        try output.flush()
        var lines = [
            "sparrow: \(summary.orders) orders (\(summary.source)) of \(book.histories.count) customers; "
                + "\(audience.members.count) bought, \(audience.unscored) did not"
        ]
        if filtered < audience.members.count {
            lines.append(
                "sparrow: \(audience.members.count - filtered) customers who bought do not meet the filter or preset")
        }
        if members.count < filtered {
            let campaign = respondersOf ?? nonRespondersOf ?? ""
            lines.append(
                "sparrow: \(filtered - members.count) of them are left out by campaign \(campaign)'s responses")
        }
        if withoutPhone > 0 {
            lines.append("sparrow: \(withoutPhone) customers who bought have no phone number: left out")
        }
        if summary.rejected > 0 { lines.append("sparrow: \(summary.rejected) rejected rows in \(orders.rejects)") }
        printError(lines.joined(separator: "\n"))
    }

    /// A member's number as an E.164 value, when their phone is a valid one.
    private func number(of member: AudienceMember) -> UInt64? {
        member.history.phone.flatMap { phone in
            try? PhoneNumberParser.parse(phone, defaultRegion: orders.phoneRegion).get().number.e164Value
        }
    }

    /// The numbers `--responders-of` and `--non-responders-of` keep (both: those in each), or nil without them.
    private func narrowing(_ store: any CampaignStore, named location: StoreLocation) async throws -> Set<UInt64>? {
        guard respondersOf != nil || nonRespondersOf != nil else { return nil }
        var kept: Set<UInt64>?
        for (campaign, responded) in [(respondersOf, true), (nonRespondersOf, false)] {
            guard let campaign else { continue }
            guard try await store.effect(campaign: campaign) != nil else {
                throw UsageError(
                    message:
                        "campaign '\(campaign)' has no measured effect in \(location): run `sparrow effect` first"
                )
            }
            let numbers = Set(try await store.recipients(of: campaign, responded: responded))
            kept = kept.map { $0.intersection(numbers) } ?? numbers
        }
        return kept
    }
}

/// The options of the commands that read a store's order export.
struct OrderFileOptions: ParsableArguments {
    @Option(help: "The order export to read.")
    var orders: String

    @Option(help: "The export's text encoding, utf-8 or gbk (default: detected).")
    var encoding: String?

    @Option(help: "The UTC offset of times written without one, e.g. +08:00.")
    var utcOffset: String = "+08:00"

    @Option(help: "Region (ISO 3166) of phone numbers written without a country code.")
    var region: String = "CN"

    @Option(help: "Where rejected rows are written (JSON Lines).")
    var rejects: String = "rejects.jsonl"

    func validate() throws {
        if let encoding, OrderFileRun.Encoding(rawValue: encoding.lowercased()) == nil {
            throw ValidationError("--encoding must be utf-8 or gbk")
        }
        guard Self.seconds(ofOffset: utcOffset) != nil else {
            throw ValidationError("--utc-offset must be written +HH:MM or -HH:MM")
        }
        guard PhoneRegions.isKnown(region.uppercased()) else {
            throw ValidationError("--region '\(region)' is not a region code (ISO 3166, e.g. CN)")
        }
    }

    var phoneRegion: String { region.uppercased() }

    /// A read of the export, tracking `keywords` in each purchase's items.
    func run(keywords: [String] = []) -> OrderFileRun {
        OrderFileRun(
            options: .init(
                path: orders, encoding: encoding.flatMap { OrderFileRun.Encoding(rawValue: $0.lowercased()) },
                offset: Self.seconds(ofOffset: utcOffset)!, rejectsPath: rejects, keywords: keywords))
    }

    /// Runs `read`, turning a file that is not an order export into a usage error and one that cannot be read into
    /// a runtime failure.
    func failures<T>(_ read: () async throws -> T) async throws -> T {
        do {
            return try await read()
        } catch let error as InputFileError {
            throw UsageError(message: "\(orders): \(error)")
        } catch let error as IOError {
            throw RuntimeFailure(message: "\(error)")
        }
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

extension OrderFileRun.Summary {
    /// The export's kind and encoding: `taobao, gbk`.
    var source: String {
        [export?.rawValue, encoding?.rawValue].compactMap { $0 }.joined(separator: ", ")
    }
}
