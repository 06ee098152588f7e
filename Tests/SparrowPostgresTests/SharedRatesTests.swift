import PostgresNIO
import SparrowCore
import SparrowDispatch
import Prometheus
@testable import SparrowPostgres
import SparrowTestSupport
import Testing

@Suite(.enabled(if: TestDatabase.url != nil, "needs PostgreSQL: run under scripts/with-postgres.sh (make test does)"))
struct SharedRatesTests {
    /// Four workers, each with a pool of its own as separate processes have, lease one carrier's units until each
    /// has used 100, each unit as soon as it may go: together they never go beyond the one rate.
    @Test func workersTogetherKeepToOneRate() async throws {
        let rate = SharedRate(rate: 200, burst: 20)
        let used = try await TestDatabase.withFresh { location in
            try await withThrowingTaskGroup(of: [Int64].self) { group in
                for _ in 0..<4 {
                    group.addTask { try await Self.work(at: location, rate: rate, units: 100) }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        }.sorted()
        for stretch: Int64 in [100_000, 1_000_000] {
            var start = 0
            var most = 0
            for (index, time) in used.enumerated() {
                while used[start] <= time - stretch { start += 1 }
                most = max(most, index - start + 1)
            }
            let bound = Int(200 * stretch / 1_000_000) + rate.burst
            #expect(most <= bound, "\(most) units within \(stretch) µs, bound \(bound)")
        }
    }

    /// A worker's loop: lease a few units due within 50 ms, use each at its earliest time, wait for the last one; until
    /// it has used `units`. Returns when it used each, on the database's clock.
    private static func work(at location: PostgresLocation, rate: SharedRate, units: Int) async throws -> [Int64] {
        try await PostgresDatabase.with(location, logger: TestDatabase.logger) { database in
            let rates = SharedRates(database)
            let clock = ContinuousClock()
            var used: [Int64] = []
            while used.count < units {
                let asked = clock.now
                let lease = try await rates.lease(8, of: "china-mobile", at: rate, horizon: .milliseconds(50))
                used += (0..<lease.count).map(lease.earliest)
                // Paces the loop: the lease's times are the database's, read after `asked`, so this wakes a little
                // before the last unit's time (by the ask's way to the database), which does not matter here.
                let last = lease.count > 0 ? lease.earliest(lease.count - 1) : lease.now + rate.interval
                try await clock.sleep(until: asked + .microseconds(last - lease.now))
            }
            return used
        }
    }

    /// Three workers' lanes, each with a carrier throttle leasing from the one rate, admit messages of one and two
    /// segments as fast as their throttles let them, until each has admitted 100 segments: from the first ask to the
    /// last admission, together they never go beyond the one rate (with its unit of grace).
    @Test func throttlesOfSeveralWorkersShareTheRate() async throws {
        let rate = SharedRate(rate: 100, burst: 10)
        let clock = ContinuousClock()
        let runs = try await TestDatabase.withFresh { location in
            try await withThrowingTaskGroup(
                of: (units: Int, leased: Int, began: ContinuousClock.Instant, ended: ContinuousClock.Instant).self
            ) {
                group in
                for worker in 0..<3 {
                    group.addTask {
                        try await PostgresDatabase.with(location, logger: TestDatabase.logger) { database in
                            let rates = SharedRates(database)
                            let registry = PrometheusCollectorRegistry()
                            let throttle = CarrierThrottle(
                                sharing: SharedRateLeaser(rate: rate) { wanted, minimum in
                                    try await rates.lease(
                                        wanted, minimum: minimum, of: "china-mobile", at: rate,
                                        horizon: .milliseconds(100))
                                }, clock: .continuous,
                                counters: SharedRateCounters(
                                    carrier: "china-mobile", factory: PrometheusMetricsFactory(registry: registry)))
                            var segments = (0..<64).map { 1 + ($0 + worker) % 2 }
                            var units = 0
                            let began = clock.now
                            while units < 100 {
                                let count = try await throttle.admit(segments)
                                units += segments.prefix(count).reduce(0, +)
                                segments = Array(segments[count...] + segments[..<count])
                            }
                            let leased = metric(
                                registry.emitToString(),
                                #"sparrow_shared_rate_units_leased_total{carrier="china-mobile"}"#)
                            return (units, leased ?? 0, began, clock.now)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        // Each worker counted the units it leased: at least those it admitted.
        #expect(runs.allSatisfy { $0.leased >= $0.units }, "\(runs.map { ($0.units, $0.leased) })")
        let units = runs.map(\.units).reduce(0, +)
        let span = (runs.map(\.ended).max()! - runs.map(\.began).min()!) / .seconds(1)
        #expect(Double(units) <= 100 * span + 10 + 1, "\(units) segments in \(span) s")
    }

    /// Units leased and never used are lost, not granted again: the next lease is what the rate grants after the
    /// first one's last unit, at the database's time.
    @Test func unitsAreLeasedOnce() async throws {
        let rate = SharedRate(rate: 10, burst: 5)
        try await TestDatabase.withFresh { location in
            try await PostgresDatabase.with(location, logger: TestDatabase.logger) { database in
                let rates = SharedRates(database)
                let first = try await rates.lease(50, of: "china-unicom", at: rate, horizon: .zero)
                let second = try await rates.lease(50, of: "china-unicom", at: rate, horizon: .zero)
                #expect(first.count == 5)
                let afterFirst = first.due(4) + rate.interval
                #expect(second == rate.lease(50, tat: afterFirst, now: second.now, horizon: 0).lease)
                #expect(second.due(0) >= afterFirst)
                // Another carrier's rate is its own.
                #expect(try await rates.lease(50, of: "china-telecom", at: rate, horizon: .zero).count == 5)
            }
        }
    }

    /// Processes that disagree about a carrier's rate are told, once a carrier each: the rate is kept per carrier id.
    @Test func aDisagreementAboutACarriersRateIsLoggedOnce() async throws {
        let capture = LogCapture()
        try await TestDatabase.withFresh { location in
            try await PostgresDatabase.with(location, logger: TestDatabase.logger) { database in
                _ = try await SharedRates(database).lease(
                    1, of: "china-unicom", at: SharedRate(rate: 10, burst: 5), horizon: .zero)
            }
            try await PostgresDatabase.with(location, logger: capture.logger) { database in
                let rates = SharedRates(database)
                for _ in 0..<2 {
                    _ = try await rates.lease(1, of: "china-unicom", at: SharedRate(rate: 20, burst: 5), horizon: .zero)
                }
                _ = try await rates.lease(1, of: "china-telecom", at: SharedRate(rate: 20, burst: 5), horizon: .zero)
            }
        }
        let warnings = capture.events.filter { $0.level == .warning }
        #expect(warnings.count == 1)
        #expect(warnings.first?.metadata["carrier"] == "china-unicom")
        #expect(warnings.first?.metadata["rate"] == "20.0" && warnings.first?.metadata["other.rate"] == "10.0")
    }

    /// Workers starting together on a new database migrate it once; a database migrated by a newer Sparrow is refused.
    @Test func migratesOnceAndRefusesANewerSchema() async throws {
        try await TestDatabase.withFresh(empty: true) { location in
            // A whole minute to reach it: the suite creates and drops databases at once on two cores, which held
            // four migrations of a new database past the default 10 s; what this test checks is how many there are.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await PostgresDatabase.with(
                            location, logger: TestDatabase.logger, reachableWithin: .seconds(60)
                        ) { _ in }
                    }
                }
                try await group.waitForAll()
            }
            let client = PostgresClient(configuration: location.configuration)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                let versions = try await client.query("SELECT count(*), max(version) FROM sparrow_schema")
                for try await (count, version) in versions.decode((Int, Int).self) {
                    #expect(count == version)
                }
                try await client.query("INSERT INTO sparrow_schema (version) VALUES (99)")
            }
            await #expect {
                try await PostgresDatabase.with(location, logger: TestDatabase.logger, reachableWithin: .seconds(60)) {
                    _ in
                }
            } throws: { error in
                "\(error)".hasSuffix(
                    "its schema is version 99, newer than this Sparrow's \(PostgresDatabase.migrations.count)")
            }
        }
    }

    /// Without its database a worker leases nothing: it is told so when the database cannot be reached in time.
    @Test(.timeLimit(.minutes(1))) func anUnreachableDatabaseIsAClearError() async throws {
        let location = try PostgresLocation("postgres://sparrow@127.0.0.1:1/sparrow?sslmode=disable")
        await #expect {
            try await PostgresDatabase.with(location, logger: TestDatabase.logger, reachableWithin: .milliseconds(300))
            {
                try await SharedRates($0).lease(
                    1, of: "china-mobile", at: SharedRate(rate: 1, burst: 1), horizon: .zero)
            }
        } throws: { error in
            "\(error)".hasPrefix("postgres://sparrow@127.0.0.1:1/sparrow: cannot be reached within 0.3 seconds")
        }
    }
}
