import Testing

@testable import SparrowCore

/// Fixed-offset zones are enough for the planner; DST is pinned in the configuration tests with tzdata.
struct FixedZones: ZoneRulesProvider {
    func rules(for identifier: String) -> ZoneRules? {
        switch identifier {
        case "Asia/Shanghai": .fixed(identifier, offset: 8 * 3600)
        case "Asia/Tokyo": .fixed(identifier, offset: 9 * 3600)
        case "America/New_York": .fixed(identifier, offset: -5 * 3600)
        default: nil
        }
    }
}

@Suite struct PlannerTests {
    static let carriers = CarrierDirectory([
        Carrier(
            id: "china-mobile", name: "中国移动", prefixes: ["86138", "861340"], rate: 100, burst: 10, unit: .messages),
        Carrier(id: "china-telecom", name: "中国电信", prefixes: ["86134", "86199"], rate: nil, burst: 1, unit: .segments),
    ])

    static func planner(gateways: [GatewayRoute]? = nil) throws -> Planner {
        let settings = PlanSettings(
            template: try MessageTemplate("{{name}}，您好"), signature: "【店】", optoutSuffix: "回T退订",
            defaultRegion: "CN", defaultTimeZone: "Asia/Shanghai",
            quietHours: QuietHours(start: WallTime("21:00")!, end: WallTime("08:00")!), carriers: carriers,
            gateways: gateways ?? [
                GatewayRoute(name: "mobile-only", pricePerSegment: 0.04, carriers: ["china-mobile"]),
                GatewayRoute(name: "all", pricePerSegment: 0.05, carriers: []),
            ])
        return Planner(settings: settings, zones: FixedZones())
    }

    static let noonInShanghai = Timestamp(rfc3339: "2026-11-22T04:00:00Z")!
    static let elevenPMInShanghai = Timestamp(rfc3339: "2026-11-22T15:00:00Z")!

    @Test func longestPrefixWins() {
        #expect(Self.carriers.carrier(forE164Digits: "8613412345678".utf8)?.id == "china-telecom")
        #expect(Self.carriers.carrier(forE164Digits: "8613401234567".utf8)?.id == "china-mobile")
        #expect(Self.carriers.carrier(forE164Digits: "8613812345678".utf8)?.id == "china-mobile")
        #expect(Self.carriers.carrier(forE164Digits: "8615012345678".utf8) == nil)
        #expect(Self.carriers.carrier(forE164Digits: "86".utf8) == nil)
    }

    /// A throttle keeps 10 ms of its carrier's rate out of the burst for timing, and always admits one message.
    @Test(arguments: [(500.0, 100, 95), (2_000.0, 200, 180), (10.0, 5, 4), (10.0, 1, 1), (50_000.0, 100, 1)])
    func aThrottleKeepsTenMillisecondsOfTheBurstInReserve(rate: Double, burst: Int, admitted: Int) {
        let carrier = Carrier(id: "c", name: "c", prefixes: ["86"], rate: rate, burst: burst, unit: .messages)
        #expect(carrier.admittedBurst == admitted)
        #expect(Carrier(id: "c", name: "c", prefixes: ["86"], rate: nil, burst: 7, unit: .messages).admittedBurst == 7)
    }

    @Test func readyMessageIsRoutedAndCosted() throws {
        var planner = try Self.planner()
        let row = RecipientRow(line: 2, values: ["phone": "138 0013 8000", "name": "王芳"])
        let message = try planner.plan(row, now: Self.noonInShanghai).get()
        #expect(message.number.e164 == "+8613800138000")
        #expect(message.carrier == "china-mobile")
        #expect(message.gateway == "mobile-only")
        #expect(message.text == "【店】王芳，您好回T退订")
        #expect(message.segments == SegmentCount(encoding: .ucs2, units: 12, segments: 1))
        #expect(message.cost == 0.04)
        #expect(message.sendAt == Self.noonInShanghai && !message.isDeferred)
    }

    @Test func quietHoursDeferInTheRecipientsZone() throws {
        var planner = try Self.planner()
        let shanghai = try planner.plan(
            RecipientRow(line: 2, values: ["phone": "13800138000", "name": "a"]), now: Self.elevenPMInShanghai
        ).get()
        #expect(shanghai.isDeferred && shanghai.sendAt == Timestamp(rfc3339: "2026-11-23T08:00:00+08:00"))
        // 10:00 in New York at the same instant: allowed.
        let newYork = try planner.plan(
            RecipientRow(line: 3, values: ["phone": "13800138001", "name": "a", "tz": "America/New_York"]),
            now: Self.elevenPMInShanghai
        ).get()
        #expect(!newYork.isDeferred)
    }

    @Test(arguments: [
        (["name": "a"], RejectReason.missingPhone),
        (["phone": "12345", "name": "a"], .invalidPhone),
        (["phone": "13800138000"], .missingVariable),
        (["phone": "13800138000", "name": "a", "tz": "Mars/Olympus"], .invalidTimeZone),
        (["phone": "13800138000", "name": "a", "carrier": "nope"], .unknownCarrier),
        (["phone": "13800138000", "name": "a", "region": "ZZ"], .invalidRegion),
    ])
    func rejectsSayWhy(_ values: [String: String], reason: RejectReason) throws {
        var planner = try Self.planner()
        #expect(throws: RowRejection(line: 9, reason: reason, message: "")) {
            try planner.plan(RecipientRow(line: 9, values: TemplateValues(values)), now: Self.noonInShanghai).mapError {
                RowRejection(line: $0.line, reason: $0.reason, message: "")
            }.get()
        }
    }

    @Test func noGatewayForTheCarrierIsNoRoute() throws {
        var planner = try Self.planner(gateways: [
            GatewayRoute(name: "m", pricePerSegment: 0, carriers: ["china-mobile"])
        ])
        let result = planner.plan(
            RecipientRow(line: 2, values: ["phone": "19912345678", "name": "a"]), now: Self.noonInShanghai)
        #expect(throws: RowRejection.self) { try result.get() }
        if case .failure(let rejection) = result { #expect(rejection.reason == .noRoute) }
    }

    @Test func duplicatesAreCaughtAcrossWritings() throws {
        var planner = try Self.planner()
        var filter = DuplicateFilter()
        var flags: [Bool] = []
        for phone in ["138 0013 8000", "+86 138-0013-8000", "13800138001", "008613800138000"] {
            let message = try planner.plan(
                RecipientRow(line: 1, values: ["phone": phone, "name": "a"]), now: Self.noonInShanghai
            ).get()
            flags.append(filter.isDuplicate(message.number))
        }
        #expect(flags == [false, true, false, true])
    }

    @Test func forecastHonoursRatesAndReleases() throws {
        var planner = try Self.planner()
        var summary = PlanSummary()
        for index in 0..<1000 {
            let message = try planner.plan(
                RecipientRow(line: index, values: ["phone": "1380013\(String(1000 + index).suffix(4))", "name": "a"]),
                now: Self.noonInShanghai
            ).get()
            summary.add(message)
        }
        // 1,000 messages at 100 a second: ten seconds.
        #expect(summary.forecastFinish(now: Self.noonInShanghai, carriers: Self.carriers) == Self.noonInShanghai + 10)
        #expect(summary.byGateway["mobile-only"]?.messages == 1000)
        #expect(summary.byStatus[.ready] == 1000)
    }
}

@Suite struct DuplicateFilterTests {
    /// 60,000 draws from 30,000 numbers: the table grows five times on the way, and agrees with a `Set` throughout.
    @Test func flagsExactlyTheNumbersSeenBefore() throws {
        var generator = SplitMix64(seed: 5)
        var filter = DuplicateFilter()
        var seen = Set<UInt64>()
        var disagreements = 0
        for _ in 0..<60_000 {
            let value = 8_613_800_000_000 + generator.next() % 30_000
            let number = try PhoneNumberParser.parse("+\(value)", defaultRegion: nil).get().number
            if filter.isDuplicate(number) != !seen.insert(value).inserted { disagreements += 1 }
        }
        #expect(disagreements == 0)
        #expect(filter.count == seen.count)
        #expect(seen.count > 25_000)
    }
}

@Suite struct NumberSetTests {
    @Test func findsExactlyTheListedNumbers() throws {
        var generator = SplitMix64(seed: 9)
        let listed = (0..<5000).map { _ in 8_613_000_000_000 + generator.next() % 1_000_000_000 }
        let list = NumberSet(listed.shuffled(using: &generator))
        let set = Set(listed)
        for _ in 0..<20_000 {
            let value = 8_613_000_000_000 + generator.next() % 1_000_000_000
            let number = try PhoneNumberParser.parse("+\(value)", defaultRegion: nil).get().number
            #expect(list.contains(number) == set.contains(value))
        }
        for value in listed.prefix(500) {
            #expect(list.contains(try PhoneNumberParser.parse("+\(value)", defaultRegion: nil).get().number))
        }
    }
}
