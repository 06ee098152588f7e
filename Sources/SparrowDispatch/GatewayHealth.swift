import CoreMetrics
import Logging
import SparrowCore
import Synchronization

/// The gateways' health, owned by one actor: their circuit breakers, which place each new message on its planned
/// gateway or, while that one's circuit is open, on its backup, and the gauges and logs of their opening and closing.
///
/// Transfers end on the transport's thread, which must never wait for an actor: each one's outcome is dropped into
/// an inbox that the actor drains whole, in the order they came, before it routes, whenever `drainSize` outcomes
/// have gathered, and soon after any outcome that may open or close a circuit (a failure, a probe's). So the healthy
/// outcomes of the hot path cross into the actor in batches, and routes come out of it a lane's group at a time.
actor GatewayHealth {
    /// What one transfer told about its gateway, for that gateway's breaker.
    struct Report: Sendable {
        let gateway: String
        let outcome: BreakerOutcome
        /// The transfer was the probe of a half-open circuit.
        let probe: Bool
        /// When it ended, on the client's clock.
        let at: Duration
    }

    private var router: GatewayRouter
    private let clock: RunClock
    private let logger: Logger
    private let circuitOpen: [String: Gauge]
    private let inbox = Lock(Inbox())

    /// Outcomes reported and not yet applied.
    private struct Inbox {
        var reports: [Report] = []
        /// A task to drain them has been started and has not taken them yet.
        var draining = false
    }

    /// Healthy outcomes that gather before a task drains them, when no route does first.
    static let drainSize = 256

    init(
        gateways: [String], backups: [String: String], breaker: CircuitBreaker.Configuration, clock: RunClock,
        logger: Logger, metrics: any MetricsFactory
    ) {
        router = GatewayRouter(backups: backups, breaker: breaker)
        self.clock = clock
        self.logger = logger
        circuitOpen = Dictionary(
            uniqueKeysWithValues: gateways.map { gateway in
                let gauge = Gauge(
                    label: "sparrow_gateway_circuit_open", dimensions: [("gateway", gateway)], factory: metrics)
                gauge.record(0)
                return (gateway, gauge)
            })
    }

    /// Takes a transfer's outcome, from any thread, without waiting.
    nonisolated func report(_ report: Report) {
        let startDrain = inbox.withLock { inbox in
            inbox.reports.append(report)
            let urgent = report.outcome != .healthy || report.probe
            guard urgent || inbox.reports.count >= Self.drainSize, !inbox.draining else { return false }
            inbox.draining = true
            return true
        }
        if startDrain { Task { await self.drain() } }
    }

    /// Applies every outcome reported so far to its gateway's breaker.
    func drain() {
        let reports = inbox.withLock { inbox in
            defer { inbox = Inbox() }
            return inbox.reports
        }
        for report in reports {
            let transition = router.record(report.outcome, gateway: report.gateway, probe: report.probe, now: report.at)
            if let transition { record(transition, of: report.gateway) }
        }
    }

    /// Routes the leading messages of a group, in order: a message that may already have reached its gateway to that
    /// gateway, a new one to the first gateway of its chain whose breaker admits it. It stops at the first message
    /// that no gateway of its chain admits now (their circuits are open, or a probe is in flight, whose outcome the
    /// messages before it may carry), and waits for one to admit it only when it is the first.
    /// - Returns: at least one route, unless `placements` is empty.
    /// - Throws: `CancellationError` when the task is cancelled while it waits.
    func route(_ placements: [GatewayClient.Placement]) async throws -> [GatewayClient.Route] {
        var routes: [GatewayClient.Route] = []
        routes.reserveCapacity(placements.count)
        drain()
        for placement in placements {
            switch placement {
            case .pinned(let gateway):
                routes.append(GatewayClient.Route(gateway: gateway))
            case .planned(let planned):
                while true {
                    let now = clock.now
                    switch router.route(from: planned, now: now) {
                    case .send(let gateway, let probe):
                        routes.append(GatewayClient.Route(gateway: gateway, probe: probe))
                    case .hold where !routes.isEmpty:
                        return routes
                    case .hold(let until):
                        try await clock.sleep(until: max(until ?? now + .milliseconds(100), now + .milliseconds(10)))
                        drain()
                        continue
                    }
                    break
                }
            }
        }
        return routes
    }

    /// Logs a circuit's opening or closing, and sets its gauge.
    private func record(_ transition: CircuitBreaker.Transition, of gateway: String) {
        switch transition {
        case .opened(let coolDown):
            circuitOpen[gateway]?.record(1)
            logger.warning(
                "the gateway's circuit opened: new messages go to its backup, or wait",
                metadata: ["gateway.name": "\(gateway)", "cool_down": "\(coolDown)"])
        case .closed:
            circuitOpen[gateway]?.record(0)
            logger.notice(
                "the gateway's circuit closed after a healthy probe", metadata: ["gateway.name": "\(gateway)"])
        }
    }
}
