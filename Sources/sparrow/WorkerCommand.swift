import ArgumentParser
import Foundation
import SparrowCommandSupport
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowPostgres
import SparrowReports
import SparrowStore

/// How a worker holds its messages and looks for more.
struct WorkerOptions: ParsableArguments {
    static let defaultLease = Duration.seconds(30)

    @Option(
        name: .customLong("lease"),
        help:
            "Seconds a heartbeat holds this worker's messages: another worker takes them over that long after it dies.")
    var leaseSeconds: Int = Int(defaultLease / .seconds(1))

    @Option(name: .customLong("poll"), help: "Milliseconds between two looks for newly journaled messages.")
    var pollMilliseconds: Int = 1_000

    func validate() throws {
        guard leaseSeconds >= 1 else { throw ValidationError("--lease is a number of seconds, 1 or more") }
        guard pollMilliseconds >= 10 else { throw ValidationError("--poll is a number of milliseconds, 10 or more") }
    }

    var lease: Duration { .seconds(leaseSeconds) }
    var poll: Duration { .milliseconds(pollMilliseconds) }
}

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Send a campaign's messages beside other workers, on this host or others, through a PostgreSQL store.",
        discussion: """
            Any number of workers share one campaign of a PostgreSQL store (store: postgres://…), which `sparrow \
            send` journals (and sends from too). Each claims messages a batch at a time, holds them under a lease \
            its heartbeats renew, and sends them through the carriers' throttles: with shared_rates, one rate per \
            carrier over all of them. It ends when the campaign's input was read through and nothing due is left \
            unanswered, whichever worker held it: a worker that dies has its messages taken over once its lease runs \
            out, those in flight sent again under their keys to gateways that honour them and recorded unknown \
            otherwise. Ctrl-C or SIGTERM stops it gently, handing back what it holds.
            """)

    @OptionGroup var config: ConfigOption

    @Option(help: "The campaign to work on; the worker waits for it to begin.")
    var campaign: String

    @OptionGroup var worker: WorkerOptions

    @OptionGroup var clock: InstantOption

    @Flag(help: "Wait for deferred messages (quiet hours, a gateway's limits) and send them when they come due.")
    var wait = false

    @OptionGroup var beside: BesideOptions

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let configuration = try config.load()
        let now = try clock.instant()
        try await withSharedStore(configuration) { store in
            let record = try await begun(in: store)
            let launcher = CampaignLauncher(
                configuration: configuration, configPath: config.path, store: store, campaign: campaign,
                message: try Resume.message(of: record, configuration), now: now, wait: wait, beside: beside,
                worker: worker)
            try await launcher.launch(reading: nil, rejectsPath: nil)
        }
    }

    /// The campaign, once `send` has begun it.
    private func begun(in store: any CampaignStore) async throws -> CampaignRecord {
        var told = false
        while true {
            if let record = try await store.campaign(id: campaign) { return record }
            if !told {
                printError("sparrow: waiting for campaign '\(campaign)' to begin")
                told = true
            }
            try await Task.sleep(for: worker.poll)
        }
    }
}

struct Workers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the workers of a PostgreSQL store: live ones, and those whose lease ran out.")

    @OptionGroup var config: ConfigOption

    @Option(help: "Output format: table or json.")
    var format: String = "table"

    func validate() throws {
        guard WorkerList.Format(rawValue: format) != nil else {
            throw ValidationError("--format must be table or json")
        }
    }

    func run() async throws {
        let configuration = try config.load()
        try await withSharedStore(configuration) { store in
            let workers = try await store.workers().map { worker in
                WorkerList.Entry(
                    id: worker.id, host: worker.host, pid: worker.pid, campaign: worker.campaign,
                    started: worker.startedAt, silentSeconds: worker.silentFor / .seconds(1),
                    leaseSeconds: worker.lease / .seconds(1), holding: worker.holding, sent: worker.sent,
                    rate: worker.rate)
            }
            print(WorkerList.render(workers, format: WorkerList.Format(rawValue: format)!), terminator: "")
        }
    }
}
