import ArgumentParser
import Logging
import SparrowCommandSupport
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowReports
import SparrowStore
import SparrowTransport

struct Settle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask the providers what became of a campaign's messages in doubt or awaiting receipts.",
        discussion: """
            Tencent Cloud and Alibaba Cloud honour no idempotency key: a batch in flight when a run stopped, or one \
            whose answer was lost, ends unknown rather than being sent twice. Their status queries settle it: \
            Tencent's delivery reports are pulled (PullSmsSendStatus), and Alibaba is asked after each such message \
            (QuerySendDetails). A message Alibaba has no record of never reached it: once --reopen-after has \
            passed since its request, it is opened again, and the next resume sends it. `resume` settles the \
            campaign this way before it sends.
            """)

    @OptionGroup var config: ConfigOption

    @Option(help: "The campaign to settle.")
    var campaign: String

    @OptionGroup var settling: SettleOptions

    @OptionGroup var clock: InstantOption

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let configuration = try config.load()
        try await withStore(configuration) { store in
            guard try await store.campaign(id: campaign) != nil else {
                throw UsageError(message: "no campaign '\(campaign)' in \(configuration.store)")
            }
            try await holdingCampaign(campaign, in: store) {
                let transport = CurlTransport(maxInFlight: 16)
                defer { transport.shutdown() }
                let settler = settling.settler(
                    configuration, store: store, transport: transport, now: try clock.instant(), awaitingReceipts: true)
                guard !settler.gateways.isEmpty else {
                    throw UsageError(
                        message:
                            "\(configuration.file) has no Tencent Cloud or Alibaba Cloud gateway: receipts settle the others"
                    )
                }
                let outcome = try await settler.settle(campaign: campaign)
                StatusSettlement.print(outcome, resume: "sparrow resume --config \(config.path) --campaign \(campaign)")
                printError(
                    CampaignReport.render(
                        try await store.figures(campaign: campaign), campaign: campaign, format: .table))
                if !outcome.unanswered.isEmpty { throw ExitCode.failure }
            }
        }
    }
}

/// How `settle` and `resume` ask the providers' status queries.
struct SettleOptions: ParsableArguments {
    /// Ten minutes by default: no request is still on its way to the gateway by then.
    @Option(
        help: "Seconds after its request before a message Alibaba Cloud has no record of is sent again (0: at once).")
    var reopenAfter: Int = 600

    func validate() throws {
        guard reopenAfter >= 0 else { throw ValidationError("--reopen-after is a number of seconds, 0 or more") }
    }

    /// A settler for the configuration's provider gateways, on the campaign clock that begins at `now`.
    func settler(
        _ configuration: SparrowConfiguration, store: any CampaignStore, transport: CurlTransport, now: Timestamp,
        awaitingReceipts: Bool
    ) -> StatusSettler {
        StatusSettler(
            gateways: configuration.gateways.map(\.endpoint), store: store, transport: transport,
            clock: CampaignClock(origin: now), reopenAfter: .seconds(reopenAfter), awaitingReceipts: awaitingReceipts,
            logger: Logger(label: "sparrow"))
    }
}

/// What `settle` and `resume` say of a settlement.
enum StatusSettlement {
    static func print(_ outcome: StatusSettler.Outcome, resume: String?) {
        var parts = ["\(outcome.settled) messages settled"]
        if outcome.asked > 0 { parts.append("\(outcome.asked) asked after") }
        if outcome.pulled > 0 { parts.append("\(outcome.pulled) reports pulled") }
        printError("sparrow: status queries: " + parts.joined(separator: ", "))
        if outcome.reopened > 0 {
            printError(
                "sparrow: \(outcome.reopened) messages never reached their gateway: opened again"
                    + (resume.map { ", send them with: \($0)" } ?? ""))
        }
        for (gateway, unanswered) in outcome.unanswered.sorted(by: { $0.key < $1.key }) {
            printError(
                "sparrow: gateway '\(gateway)' left \(unanswered.queries) status queries unanswered: \(unanswered.reason); ask again later"
            )
        }
    }
}
