import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SparrowCommandSupport
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowPostgres
import SparrowReceipts
import SparrowReports
import SparrowStore
import SparrowTransport

struct Flows: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lifecycle flows: messages triggered by order events, on durable timers.",
        subcommands: [Run.self, Status.self], defaultSubcommand: Run.self)

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take order events and send the flows' messages as they come due.",
            discussion: """
                Runs until Ctrl-C or SIGTERM: order events come over HTTP (flows.listen: POST /shopify for Shopify's \
                webhooks, POST /events for Taobao's messages and other systems) and, with --stdin, as JSON Lines on \
                standard input. Each rule's pending messages are timers in the store: a restart loses none and sends \
                none twice. With --replay, the log on standard input is replayed on its own time (each event's), \
                and the command ends once every timer has fired and every message is answered.
                """)

        @OptionGroup var config: ConfigOption

        @Flag(help: "Read order events as JSON Lines on standard input.")
        var stdin = false

        @Flag(help: "With --stdin: replay the log on its own time instead of the clock's, without the HTTP listener.")
        var replay = false

        @OptionGroup var clock: InstantOption

        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            if replay, !stdin { throw ValidationError("--replay replays the log on standard input: add --stdin") }
            if replay, clock.now != nil { throw ValidationError("--replay runs on the log's time: drop --now") }
        }

        func run() async throws {
            logging.bootstrap()
            let configuration = try config.load()
            guard let flows = configuration.flows else {
                throw UsageError(message: "\(configuration.file) has no flows section (see docs/flows.md)")
            }
            for rule in flows.rules {
                if let refusal = configuration.refusal(of: rule.steps[0].message) {
                    throw UsageError(message: "\(flows.locations[rule.name]!): rule '\(rule.name)': \(refusal)")
                }
            }
            try stopOnLintErrors(configuration.lintFlows(), strict: configuration.lint.strict)
            let now = try clock.instant()
            // One process runs a store's flows: two would both fire its due timers and finish its messages.
            try await withFlowStore(configuration) { store in
                try await holdingCampaign("flow.service", in: store) {
                    let zones = SystemZones(around: now)
                    let zoneOffset = Int(zones.rules(for: configuration.defaultTimeZone)?.offset(at: now) ?? 8 * 3600)
                    let scheduler = FlowScheduler(
                        rules: flows.rules,
                        schedule: FlowSchedule(
                            quietHours: configuration.quietHours, outsideMarketingHours: flows.outsideMarketingHours),
                        defaultRegion: configuration.defaultRegion, defaultTimeZone: configuration.defaultTimeZone,
                        zones: zones)
                    let window = configuration.gateways.reduce(0) { $0 + $1.maxInFlight }
                    let transport = CurlTransport(maxInFlight: window)
                    defer { transport.shutdown() }
                    let time = EventTime(try await store.lastFlowActivity() ?? Timestamp(secondsSince1970: 0))
                    try await withSharedRates(configuration) { sharedRates in
                        let service = FlowService(
                            scheduler: scheduler, settings: { configuration.planSettings(message: $0) },
                            zones: zones, store: store,
                            client: GatewayClient(
                                gateways: configuration.gateways.map(\.endpoint), transport: transport,
                                breaker: configuration.circuitBreaker, logger: Logger(label: "sparrow")),
                            idempotentGateways: Set(
                                configuration.gateways.filter(\.retry.honoursIdempotencyKey).map(\.name)),
                            carriers: configuration.carriers, window: window,
                            clock: replay ? CampaignClock(following: time) : CampaignClock(origin: now),
                            cap: MarketingCap(
                                max: configuration.frequencyCap?.max,
                                window: configuration.frequencyCap?.window.components.seconds ?? 0),
                            logger: Logger(label: "sparrow"), sharedRates: sharedRates)
                        printError(
                            "sparrow: \(flows.rules.count) flow rules from \(flows.files.joined(separator: ", "))")
                        let log = OrderEventLog(zoneOffset: zoneOffset)
                        let refused: @Sendable (OrderEventLog.Refusal) -> Void = { printError("sparrow: stdin: \($0)") }
                        var services: [any Service] = []
                        if !replay, flows.token == nil, flows.hmacSecret == nil,
                            !["127.0.0.1", "::1", "localhost"].contains(flows.host)
                        {
                            throw UsageError(
                                message:
                                    "\(configuration.file): flows has neither a token nor an hmac_secret: anyone could post "
                                    + "order events to \(flows.host); set one, or listen on 127.0.0.1")
                        }
                        if !replay {
                            let server = FlowEventServer(
                                configuration: .init(
                                    host: flows.host, port: flows.port, shopifySecret: flows.shopifySecret,
                                    token: flows.token,
                                    hmacSecret: flows.hmacSecret, zoneOffset: zoneOffset),
                                logger: Logger(label: "sparrow")
                            ) { event in try await service.ingest(event) != nil }
                            services.append(Listener(server: server))
                        }
                        do {
                            try await runUntilSignalled(
                                notice: "flows: stopping: finishing the requests in flight", beside: services
                            ) {
                                try await withThrowingTaskGroup(of: Void.self) { group in
                                    let events = BoundedQueue<[OrderEvent]>(capacity: 4)
                                    if stdin {
                                        group.addTask { _ = try await log.read(0, into: events, refused: refused) }
                                    }
                                    if replay {
                                        group.addTask { try await service.replay(events, time: time) }
                                    } else {
                                        group.addTask { try await service.run() }
                                        if stdin {
                                            group.addTask {
                                                for try await batch in events {
                                                    for event in batch { try await service.ingest(event) }
                                                }
                                            }
                                        }
                                    }
                                    try await group.waitForAll()
                                }
                            }
                        } catch let failure as RuntimeFailure {
                            throw failure
                        } catch let error as IOError {
                            throw RuntimeFailure(message: "stdin: \(error)")
                        } catch {
                            throw RuntimeFailure(message: "flows stopped: \(error); run it again to go on")
                        }
                        if replay {
                            print(
                                FlowStatusReport.render(
                                    try await store.flowStatus(next: 10), rules: flows.rules, format: .table),
                                terminator: "")
                        }
                    }
                }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show each rule's pending, sent, cancelled and skipped messages, and what is due next.")

        @OptionGroup var config: ConfigOption

        @Option(help: "table or json.")
        var format: FlowStatusReport.Format = .table

        @Option(help: "How many of the next pending messages to list.")
        var next: Int = 10

        func run() async throws {
            let configuration = try config.load()
            try await withFlowStore(configuration) { store in
                print(
                    FlowStatusReport.render(
                        try await store.flowStatus(next: max(0, next)), rules: configuration.flows?.rules ?? [],
                        format: format), terminator: "")
            }
        }
    }

    /// The flows' HTTP listener, saying once where it listens.
    private struct Listener: Service {
        let server: FlowEventServer

        func run() async throws {
            do {
                try await server.run { port in
                    printError("sparrow: flows listening on http://\(server.configuration.host):\(port)")
                }
            } catch {
                throw RuntimeFailure(message: "flows: the listener stopped: \(error)")
            }
        }
    }
}

extension FlowStatusReport.Format: ExpressibleByArgument {}
