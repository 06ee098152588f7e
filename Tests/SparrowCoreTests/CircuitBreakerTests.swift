import Testing

@testable import SparrowCore

@Suite struct BreakerOutcomeTests {
    @Test(arguments: [
        (200, BreakerOutcome.healthy), (204, .healthy), (301, .healthy), (400, .healthy), (401, .healthy),
        (404, .healthy), (422, .healthy), (429, .inconclusive), (500, .unhealthy), (502, .unhealthy),
        (503, .unhealthy), (504, .unhealthy), (599, .unhealthy),
    ])
    func judgesAnswer(_ status: Int, outcome: BreakerOutcome) {
        #expect(BreakerOutcome(.status(status)) == outcome)
        #expect(BreakerOutcome(.status(status, retryAfter: "5", body: "x")) == outcome)
    }

    @Test(arguments: everyFailureKind)
    func judgesFailure(_ kind: TransferFailure.Kind) {
        let expected: BreakerOutcome = kind == .cancelled ? .inconclusive : .unhealthy
        #expect(BreakerOutcome(.failure(kind, sent: 0)) == expected)
        #expect(BreakerOutcome(.failure(kind, sent: 143)) == expected)
    }
}

@Suite struct CircuitBreakerTests {
    @Test func opensAfterConsecutiveFailures() {
        var breaker = CircuitBreaker()
        let now = Duration.seconds(100)
        for _ in 1...4 { breaker.record(.unhealthy, probe: false, now: now) }
        #expect(breaker.state == .closed(consecutiveFailures: 4))
        breaker.record(.healthy, probe: false, now: now)
        #expect(breaker.state == .closed(consecutiveFailures: 0))
        for _ in 1...4 { breaker.record(.unhealthy, probe: false, now: now) }
        breaker.record(.inconclusive, probe: false, now: now)
        #expect(breaker.state == .closed(consecutiveFailures: 4))
        #expect(breaker.admit(now: now) == .go)
        breaker.record(.unhealthy, probe: false, now: now)
        #expect(breaker.state == .open(until: .seconds(130)))
        #expect(breaker.admit(now: .seconds(129)) == .reject(until: .seconds(130)))
    }

    /// `record` names the outcomes that open or close the breaker, and only those: what logs and metrics report.
    @Test func recordNamesEachOpeningAndClosing() {
        var breaker = CircuitBreaker(configuration: .init(failureThreshold: 2, coolDown: .seconds(10)))
        #expect(breaker.record(.unhealthy, probe: false, now: .zero) == nil)
        #expect(breaker.record(.unhealthy, probe: false, now: .zero) == .opened(coolDown: .seconds(10)))
        #expect(breaker.record(.unhealthy, probe: false, now: .seconds(1)) == nil)  // stale: admitted before
        #expect(breaker.admit(now: .seconds(10)) == .probe)
        #expect(breaker.record(.unhealthy, probe: true, now: .seconds(10)) == .opened(coolDown: .seconds(20)))
        #expect(breaker.admit(now: .seconds(30)) == .probe)
        #expect(breaker.record(.inconclusive, probe: true, now: .seconds(30)) == nil)
        #expect(breaker.admit(now: .seconds(30)) == .probe)
        #expect(breaker.record(.healthy, probe: true, now: .seconds(30)) == .closed)
        #expect(breaker.record(.healthy, probe: false, now: .seconds(31)) == nil)
    }

    @Test func probesOnceThenClosesOnSuccess() {
        var breaker = CircuitBreaker(configuration: .init(failureThreshold: 1, coolDown: .seconds(10)))
        breaker.record(.unhealthy, probe: false, now: .zero)
        #expect(breaker.admit(now: .seconds(9)) == .reject(until: .seconds(10)))
        #expect(breaker.admit(now: .seconds(10)) == .probe)
        #expect(breaker.state == .halfOpen(probeInFlight: true))
        #expect(breaker.admit(now: .seconds(11)) == .reject(until: nil))
        breaker.record(.unhealthy, probe: false, now: .seconds(11))  // stale: admitted before it opened
        breaker.record(.healthy, probe: false, now: .seconds(11))
        #expect(breaker.state == .halfOpen(probeInFlight: true))
        breaker.record(.healthy, probe: true, now: .seconds(12))
        #expect(breaker.state == .closed(consecutiveFailures: 0))
        #expect(breaker.admit(now: .seconds(12)) == .go)
    }

    @Test func failedProbesDoubleTheCoolDownUpToTheCap() {
        var breaker = CircuitBreaker()
        var now = Duration.seconds(1_000)
        for _ in 1...5 { breaker.record(.unhealthy, probe: false, now: now) }
        var coolDowns: [Duration] = []
        for _ in 1...7 {
            guard case .open(let until) = breaker.state else {
                Issue.record("the breaker is open")
                return
            }
            coolDowns.append(until - now)
            now = until
            #expect(breaker.admit(now: now) == .probe)
            breaker.record(.unhealthy, probe: true, now: now)
        }
        #expect(coolDowns == [30, 60, 120, 240, 300, 300, 300].map { Duration.seconds($0) })
        // A healthy probe closes the breaker and the next opening starts from the first cool-down again.
        guard case .open(let until) = breaker.state else { return }
        now = until
        #expect(breaker.admit(now: now) == .probe)
        breaker.record(.healthy, probe: true, now: now)
        for _ in 1...5 { breaker.record(.unhealthy, probe: false, now: now) }
        #expect(breaker.state == .open(until: now + .seconds(30)))
    }

    @Test func anInconclusiveProbeLetsTheNextCallerProbe() {
        var breaker = CircuitBreaker(configuration: .init(failureThreshold: 1, coolDown: .seconds(10)))
        breaker.record(.unhealthy, probe: false, now: .zero)
        #expect(breaker.admit(now: .seconds(10)) == .probe)
        breaker.record(.inconclusive, probe: true, now: .seconds(10))
        #expect(breaker.state == .halfOpen(probeInFlight: false))
        #expect(breaker.admit(now: .seconds(10)) == .probe)
        #expect(breaker.admit(now: .seconds(10)) == .reject(until: nil))
    }

    @Test func refusesAProbeOutcomeWithoutAProbe() async {
        await #expect(processExitsWith: .failure) {
            var breaker = CircuitBreaker()
            breaker.record(.healthy, probe: true, now: .zero)
        }
    }

    /// Everything that can happen to a breaker in six steps, against a reference written from the specification.
    @Test(arguments: [1, 2])
    func followsTheReferenceOverEveryShortHistory(threshold: Int) {
        let configuration = CircuitBreaker.Configuration(
            failureThreshold: threshold, coolDown: .seconds(10), maxCoolDown: .seconds(25))
        let steps = 6
        let histories = (0..<steps).reduce(1) { count, _ in count * Step.allCases.count }
        var violations: [String] = []
        for code in 0..<histories {
            var history: [Step] = []
            var rest = code
            for _ in 0..<steps {
                history.append(Step.allCases[rest % Step.allCases.count])
                rest /= Step.allCases.count
            }
            if let violation = Self.violation(in: history, configuration: configuration) {
                violations.append(violation)
            }
        }
        #expect(histories == 531_441)
        #expect(violations.isEmpty, "\(violations.count) histories, first: \(violations.first ?? "")")
    }

    /// Long random histories, with the same checks.
    @Test func followsTheReferenceOverLongRandomHistories() {
        var generator = SplitMix64(seed: 5)
        for _ in 0..<2_000 {
            let configuration = CircuitBreaker.Configuration(
                failureThreshold: Int.random(in: 1...4, using: &generator), coolDown: .seconds(10),
                maxCoolDown: .seconds(45))
            let history = (0..<60).map { _ in Step.allCases.randomElement(using: &generator)! }
            #expect(Self.violation(in: history, configuration: configuration) == nil)
        }
    }

    enum Step: CaseIterable {
        case admit, healthy, unhealthy, inconclusive, probeHealthy, probeUnhealthy, probeInconclusive, tick, longTick
    }

    /// Drives a breaker and the reference through `history` (transfers end in any order, probe outcomes only while
    /// a probe is out, the clock moves by 5 s or 20 s) and describes the first step where they part or where the
    /// breaker breaks a rule: `.go` only while closed, one probe at a time, a rejection's time in the future, a
    /// cool-down of `coolDown` doubling to at most `maxCoolDown`.
    static func violation(in history: [Step], configuration: CircuitBreaker.Configuration) -> String? {
        var breaker = CircuitBreaker(configuration: configuration)
        var reference = ReferenceBreaker(configuration: configuration)
        var now = Duration.zero
        var probeOut = false
        let coolDowns = (0..<8).map { min(configuration.coolDown * (1 << $0), configuration.maxCoolDown) }
        for (index, step) in history.enumerated() {
            let before = breaker.state
            let failure = { (rule: String) in "\(rule) at step \(index + 1) of \(history)" }
            switch step {
            case .admit:
                let admission = breaker.admit(now: now)
                guard admission == reference.admit(now: now) else { return failure("\(admission)") }
                switch admission {
                case .go:
                    guard case .closed = before else { return failure("admitted while \(before)") }
                case .probe:
                    guard !probeOut else { return failure("a second probe") }
                    probeOut = true
                case .reject(let until):
                    guard until.map({ $0 > now }) ?? probeOut else {
                        return failure("rejected until \(String(describing: until))")
                    }
                }
            case .healthy, .unhealthy, .inconclusive:
                breaker.record(step.outcome, probe: false, now: now)
                reference.record(step.outcome, probe: false, now: now)
            case .probeHealthy, .probeUnhealthy, .probeInconclusive:
                guard probeOut else { continue }
                probeOut = false
                breaker.record(step.outcome, probe: true, now: now)
                reference.record(step.outcome, probe: true, now: now)
            case .tick:
                now += .seconds(5)
            case .longTick:
                now += .seconds(20)
            }
            guard breaker.state == reference.state else { return failure("\(breaker.state) != \(reference.state)") }
            if case .open(let until) = breaker.state, before != breaker.state, !coolDowns.contains(until - now) {
                return failure("a cool-down of \(until - now)")
            }
        }
        return nil
    }
}

extension CircuitBreakerTests.Step {
    var outcome: BreakerOutcome {
        switch self {
        case .healthy, .probeHealthy: .healthy
        case .unhealthy, .probeUnhealthy: .unhealthy
        default: .inconclusive
        }
    }
}

/// The breaker as the specification words it, sentence by sentence.
struct ReferenceBreaker {
    let configuration: CircuitBreaker.Configuration
    var consecutiveFailures = 0
    var openUntil: Duration?
    var lastCoolDown: Duration
    var halfOpen = false
    var probing = false

    init(configuration: CircuitBreaker.Configuration) {
        self.configuration = configuration
        lastCoolDown = configuration.coolDown
    }

    var state: CircuitBreaker.State {
        if let openUntil { return .open(until: openUntil) }
        return halfOpen ? .halfOpen(probeInFlight: probing) : .closed(consecutiveFailures: consecutiveFailures)
    }

    mutating func admit(now: Duration) -> CircuitBreaker.Admission {
        if let until = openUntil {
            if now < until { return .reject(until: until) }  // open: reject until the cool-down ends
            openUntil = nil  // then half-open
            halfOpen = true
        }
        guard halfOpen else { return .go }  // closed: admit everything
        if probing { return .reject(until: nil) }  // half-open: one probe at a time
        probing = true
        return .probe
    }

    mutating func record(_ outcome: BreakerOutcome, probe: Bool, now: Duration) {
        if probe {
            probing = false
            if outcome == .healthy {
                halfOpen = false  // a healthy probe closes it
                consecutiveFailures = 0
            } else if outcome == .unhealthy {
                halfOpen = false  // an unhealthy probe opens it for twice as long, at most the cap
                lastCoolDown = min(lastCoolDown * 2, configuration.maxCoolDown)
                openUntil = now + lastCoolDown
            }
            return
        }
        guard openUntil == nil, !halfOpen else { return }  // stale outcomes are ignored
        if outcome == .healthy { consecutiveFailures = 0 }
        if outcome == .unhealthy { consecutiveFailures += 1 }
        if consecutiveFailures == configuration.failureThreshold {
            consecutiveFailures = 0
            lastCoolDown = configuration.coolDown
            openUntil = now + lastCoolDown
        }
    }
}

@Suite struct GatewayRouterTests {
    static let breaker = CircuitBreaker.Configuration(
        failureThreshold: 3, coolDown: .seconds(10), maxCoolDown: .seconds(60))

    @Test func failsOverAndBack() {
        var router = GatewayRouter(backups: ["primary": "fallback"], breaker: Self.breaker)
        var now = Duration.seconds(50)
        #expect(router.route(from: "primary", now: now) == .send(to: "primary", probe: false))
        for _ in 1...3 {
            router.record(BreakerOutcome(.failure(.connect, sent: 0)), gateway: "primary", probe: false, now: now)
        }
        #expect(router.breakerState(of: "primary") == .open(until: .seconds(60)))
        // Primary open: new messages go to the backup.
        #expect(router.route(from: "primary", now: now) == .send(to: "fallback", probe: false))
        now = .seconds(59)
        #expect(router.route(from: "primary", now: now) == .send(to: "fallback", probe: false))
        // Cool-down over: one message probes the primary, the others keep going to the backup meanwhile.
        now = .seconds(60)
        #expect(router.route(from: "primary", now: now) == .send(to: "primary", probe: true))
        #expect(router.route(from: "primary", now: now) == .send(to: "fallback", probe: false))
        // The probe fails: the backup again, for twice as long.
        router.record(BreakerOutcome(.status(502)), gateway: "primary", probe: true, now: .seconds(61))
        #expect(router.breakerState(of: "primary") == .open(until: .seconds(81)))
        now = .seconds(80)
        #expect(router.route(from: "primary", now: now) == .send(to: "fallback", probe: false))
        // The next probe succeeds: back to the primary.
        now = .seconds(81)
        #expect(router.route(from: "primary", now: now) == .send(to: "primary", probe: true))
        router.record(BreakerOutcome(.status(200)), gateway: "primary", probe: true, now: now)
        #expect(router.route(from: "primary", now: now) == .send(to: "primary", probe: false))
        #expect(router.breakerState(of: "fallback") == .closed(consecutiveFailures: 0))
    }

    @Test func walksAChainAndHoldsWhenEveryGatewayIsOpen() {
        var router = GatewayRouter(backups: ["a": "b", "b": "c"], breaker: Self.breaker)
        func trip(_ gateway: String, at now: Duration) {
            for _ in 1...3 { router.record(.unhealthy, gateway: gateway, probe: false, now: now) }
        }
        trip("a", at: .seconds(0))
        trip("b", at: .seconds(2))
        #expect(router.route(from: "a", now: .seconds(3)) == .send(to: "c", probe: false))
        #expect(router.route(from: "b", now: .seconds(3)) == .send(to: "c", probe: false))
        trip("c", at: .seconds(4))
        #expect(router.route(from: "a", now: .seconds(5)) == .hold(until: .seconds(10)))
        #expect(router.route(from: "b", now: .seconds(5)) == .hold(until: .seconds(12)))
        #expect(router.route(from: "c", now: .seconds(5)) == .hold(until: .seconds(14)))
        // a probes; with b still open the chain waits for b's cool-down, then b probes.
        #expect(router.route(from: "a", now: .seconds(10)) == .send(to: "a", probe: true))
        #expect(router.route(from: "a", now: .seconds(11)) == .hold(until: .seconds(12)))
        #expect(router.route(from: "a", now: .seconds(12)) == .send(to: "b", probe: true))
        #expect(router.route(from: "a", now: .seconds(13)) == .hold(until: .seconds(14)))
        #expect(router.route(from: "a", now: .seconds(14)) == .send(to: "c", probe: true))
        // Every gateway waits for its probe.
        #expect(router.route(from: "a", now: .seconds(15)) == .hold(until: nil))
        router.record(.healthy, gateway: "b", probe: true, now: .seconds(16))
        #expect(router.route(from: "a", now: .seconds(16)) == .send(to: "b", probe: false))
    }

    @Test func aGatewayWithoutBackupOnlyEverRoutesToItself() {
        var router = GatewayRouter(backups: [:], breaker: Self.breaker)
        #expect(router.route(from: "solo", now: .zero) == .send(to: "solo", probe: false))
        for _ in 1...3 { router.record(.unhealthy, gateway: "solo", probe: false, now: .zero) }
        #expect(router.route(from: "solo", now: .seconds(1)) == .hold(until: .seconds(10)))
    }

    @Test(arguments: [
        ([String: String](), [String]?.none), (["a": "b", "b": "c"], nil), (["a": "c", "b": "c"], nil),
        (["a": "a"], ["a", "a"]), (["a": "b", "b": "a"], ["a", "b", "a"]),
        (["x": "a", "a": "b", "b": "c", "c": "a"], ["a", "b", "c", "a"]),
    ])
    func findsCycles(_ backups: [String: String], cycle: [String]?) {
        #expect(GatewayRouter.cycle(in: backups) == cycle)
    }

    @Test func refusesACycle() async {
        await #expect(processExitsWith: .failure) {
            _ = GatewayRouter(backups: ["a": "b", "b": "a"])
        }
    }
}
