public import Logging
public import SparrowCore
public import SparrowStore
public import SparrowTransport

/// Settles a campaign's messages through its providers' status queries: those whose submit's answer was lost
/// (`unknown`, or left `submitting` by a run that stopped) and those still waiting for a receipt. Neither Tencent
/// Cloud nor Alibaba Cloud honours an idempotency key, so asking is the only way to know, short of a receipt.
///
/// - Tencent Cloud (`PullSmsSendStatus`): the application's delivery reports are pulled until none is left. Each
///   names the request's first message (`SessionContext`), so its campaign, and its number: the message is found
///   even when its answer was lost. A report of another campaign settles that campaign's message, and one that
///   names no message is kept as an unmatched receipt: a report is handed out once.
/// - Alibaba Cloud (`QuerySendDetails`): each message is asked after, by its number and the days it may have been
///   sent on, and found by the request's first message (`OutId`). Alibaba keeps a record of every message it took,
///   waiting or final, so a message in doubt that it has no record of never reached it: once `reopenAfter` has
///   passed since its request (no request still on its way), it is sent again by the next `resume`.
public struct StatusSettler: Sendable {
    /// What a pass found.
    public struct Outcome: Sendable, Hashable {
        /// Messages asked after (Alibaba), and reports pulled (Tencent).
        public var asked = 0
        public var pulled = 0
        /// Messages moved forward: taken, delivered or not.
        public var settled = 0
        /// Messages in doubt that never reached their gateway: opened again, to be sent.
        public var reopened = 0
        /// Queries that got no usable answer, by gateway, with the first one's reason.
        public var unanswered: [String: Unanswered] = [:]

        public struct Unanswered: Sendable, Hashable {
            public var queries: Int
            public var reason: String
        }

        public init() {}

        mutating func count(_ moved: [MessageState: Int]) {
            for (state, messages) in moved {
                if state == .ready { reopened += messages } else { settled += messages }
            }
        }
    }

    /// The provider gateways among `gateways`; the others have no status query.
    public let gateways: [GatewayEndpoint]
    public let store: any CampaignStore
    public let transport: CurlTransport
    /// The campaign's clock, which the journal's times are on.
    public let clock: CampaignClock
    /// How long after its request a message in doubt may be taken as never having reached its gateway.
    public let reopenAfter: Duration
    /// Ask after accepted messages still waiting for their receipt too, not only those in doubt: one query each on
    /// Alibaba Cloud.
    public let awaitingReceipts: Bool
    public let logger: Logger

    public init(
        gateways: [GatewayEndpoint], store: any CampaignStore, transport: CurlTransport, clock: CampaignClock,
        reopenAfter: Duration = .seconds(600), awaitingReceipts: Bool = true, logger: Logger = Logger(label: "sparrow")
    ) {
        self.awaitingReceipts = awaitingReceipts
        self.gateways = gateways.filter { $0.dialect.provider != nil }
        self.store = store
        self.transport = transport
        self.clock = clock
        self.reopenAfter = reopenAfter
        self.logger = logger
    }

    /// Settles what it can of `campaign`'s messages on the provider gateways.
    /// - Throws: what the store throws, or `CancellationError`.
    public func settle(campaign: String) async throws -> Outcome {
        var outcome = Outcome()
        for gateway in gateways {
            try Task.checkCancellation()
            let unsettled = try await store.unsettled(
                campaign: campaign, gateways: [gateway.name], awaitingReceipts: awaitingReceipts, afterLine: 0,
                limit: 1)
            guard !unsettled.isEmpty else { continue }
            switch gateway.dialect.provider {
            case .tencent(let tencent)?: try await pull(tencent, gateway, &outcome)
            case .aliyun(let aliyun)?: try await query(aliyun, gateway, campaign: campaign, &outcome)
            case nil: continue
            }
        }
        logger.info(
            "status queries settled the campaign's messages in doubt",
            metadata: [
                "campaign.id": "\(campaign)", "asked": "\(outcome.asked)", "pulled": "\(outcome.pulled)",
                "settled": "\(outcome.settled)", "reopened": "\(outcome.reopened)",
                "unanswered": "\(outcome.unanswered.values.reduce(0) { $0 + $1.queries })",
            ])
        return outcome
    }

    /// Pulls Tencent Cloud's reports until a pull comes back short, recording each pull's at once.
    private func pull(_ tencent: TencentSMS, _ gateway: GatewayEndpoint, _ outcome: inout Outcome) async throws {
        while true {
            try Task.checkCancellation()
            let answer = try await ask(
                gateway, { tencent.pullStatusRequest(now: Timestamp.wallClock()) }, read: tencent.readPulledStatuses)
            let page: StatusPage
            switch answer {
            case .success(let pulled): page = pulled
            case .failure(let error):
                note(error, gateway, &outcome)
                return
            }
            let at = clock.now()
            outcome.pulled += page.statuses.count
            outcome.count(
                try await store.settle(
                    page.statuses.compactMap { status in
                        let message: StatusFinding.Message
                        if let campaign = status.campaign {
                            message = .recipient(campaign: String(campaign), e164: status.number)
                        } else if let serialNo = status.gatewayID {
                            message = .gatewayMessageID(serialNo)
                        } else {
                            return nil
                        }
                        return StatusFinding(
                            message: message, gateway: gateway.name, state: status.state,
                            gatewayMessageID: status.gatewayID,
                            error: status.error, at: at)
                    }))
            if page.statuses.count < TencentSMS.pullLimit { return }
        }
    }

    /// Asks Alibaba Cloud after each of the campaign's messages in doubt or waiting on `gateway`, a page of the
    /// journal at a time, up to the gateway's `max_in_flight` (at most 16) queries at once.
    private func query(
        _ aliyun: AlibabaSMS, _ gateway: GatewayEndpoint, campaign: String, _ outcome: inout Outcome
    ) async throws {
        var after = 0
        while true {
            let page = try await store.unsettled(
                campaign: campaign, gateways: [gateway.name], awaitingReceipts: awaitingReceipts, afterLine: after,
                limit: 256)
            guard let last = page.last else { return }
            after = last.line
            var findings: [StatusFinding] = []
            // The journal's times are on the campaign's clock, Alibaba's days on the wall clock's.
            let offset = Timestamp.wallClock().secondsSince1970 - clock.now().secondsSince1970
            try await withThrowingTaskGroup(of: (UnsettledMessage, Result<ProviderStatus?, StatusQueryError>).self) {
                group in
                var pending = page[...]
                func next() {
                    guard let message = pending.popFirst() else { return }
                    group.addTask {
                        (message, try await find(message, aliyun, gateway, campaign: campaign, offset: offset))
                    }
                }
                for _ in 0..<min(gateway.maxInFlight, 16) { next() }
                while let (message, found) = try await group.next() {
                    next()
                    outcome.asked += 1
                    switch found {
                    case .failure(let error):
                        note(error, gateway, &outcome)
                    case .success(let status?):
                        findings.append(
                            StatusFinding(
                                message: .id(message.id), gateway: gateway.name, state: status.state,
                                error: status.error, at: clock.now()))
                    case .success(nil):
                        let inDoubt = message.state == .unknown || message.state == .submitting
                        guard inDoubt, mayReopen(message) else { continue }
                        findings.append(
                            StatusFinding(
                                message: .id(message.id), gateway: gateway.name, state: .ready,
                                error: "not at the gateway by QuerySendDetails: sent again", at: clock.now()))
                    }
                }
            }
            outcome.count(try await store.settle(findings))
        }
    }

    /// Whether `reopenAfter` has passed since `message`'s state last changed. Zero means at once, whatever the
    /// journal's times: they are on the campaign's clock, which `--now` may have started elsewhere run by run.
    private func mayReopen(_ message: UnsettledMessage) -> Bool {
        reopenAfter == .zero
            || clock.now().secondsSince1970 - message.updatedAt.secondsSince1970 >= reopenAfter.components.seconds
    }

    /// Alibaba Cloud's record of `message`: the one of its campaign on the days it may have been sent (its times
    /// moved by `offset` seconds to the wall clock), the most advanced when there are several; nil when there is
    /// none.
    private func find(
        _ message: UnsettledMessage, _ aliyun: AlibabaSMS, _ gateway: GatewayEndpoint, campaign: String, offset: Int64
    ) async throws -> Result<ProviderStatus?, StatusQueryError> {
        let bizID = message.gatewayMessageID.map { String($0.prefix { $0 != "/" }) }
        var found: ProviderStatus?
        for date in Self.sendDates(from: message.sendAt + offset, to: message.updatedAt + offset) {
            var page = 1
            while true {
                let answer = try await ask(
                    gateway,
                    {
                        aliyun.queryRequest(
                            number: message.recipient, sendDate: date, bizID: bizID, page: page,
                            now: Timestamp.wallClock(), nonce: "query.\(UInt64.random(in: 1...UInt64.max))")
                    }, read: aliyun.readDetails)
                guard case .success(let records) = answer else { return answer.map { _ in nil } }
                for status in records.statuses
                where status.campaign.map({ $0 == campaign }) ?? (bizID != nil)
                    && status.state.rank >= (found?.state.rank ?? 0)
                {
                    found = status
                }
                guard records.statuses.count == AlibabaSMS.queryPageSize,
                    page * AlibabaSMS.queryPageSize < records.total ?? 0
                else { break }
                page += 1
            }
        }
        return .success(found)
    }

    /// The days (China's dates) a message's request may have gone on: from when it was due to when its state last
    /// changed, ten minutes either side, within the 30 days Alibaba keeps.
    static func sendDates(from due: Timestamp, to changed: Timestamp) -> [String] {
        let last = changed.secondsSince1970 + 600
        var instant = min(max(due.secondsSince1970, last - 30 * 86_400) - 600, last)
        var dates: [String] = []
        while true {
            let date = AlibabaSMS.sendDate(of: Timestamp(secondsSince1970: instant))
            if dates.last != date { dates.append(date) }
            guard instant < last else { return dates }
            instant = min(instant + 86_400, last)
        }
    }

    /// Sends one query and reads its answer. A query is only a question, so one whose transfer failed (a timeout,
    /// a reset) is asked again, signed anew, up to `queryAttempts` times, a second apart and twice as long after
    /// each; a transfer that failed every time is a reason, as an error answer is.
    /// - Throws: `CancellationError` when the task is cancelled while it waits to ask again.
    private func ask(
        _ gateway: GatewayEndpoint, _ request: () -> EncodedRequest,
        read: (Int, [UInt8]) -> Result<StatusPage, StatusQueryError>
    ) async throws -> Result<StatusPage, StatusQueryError> {
        var pause = Duration.seconds(1)
        for attempt in 1...Self.queryAttempts {
            switch await transport.perform(gateway.transferRequest(request())) {
            case .answered(let answer):
                return read(answer.status, answer.body)
            case .failed(let failure) where attempt == Self.queryAttempts:
                return .failure(StatusQueryError(reason: "\(failure)"))
            case .failed:
                try await clock.monotonic.sleep(for: pause)
                pause *= 2
            }
        }
        preconditionFailure("the last attempt returns")
    }

    private static let queryAttempts = 3

    /// Counts a query that got no usable answer, and logs the first of each gateway.
    private func note(_ error: StatusQueryError, _ gateway: GatewayEndpoint, _ outcome: inout Outcome) {
        outcome.unanswered[gateway.name, default: .init(queries: 0, reason: error.reason)].queries += 1
        if outcome.unanswered[gateway.name]?.queries == 1 {
            logger.warning(
                "a gateway did not answer its status query",
                metadata: ["gateway": "\(gateway.name)", "error": "\(error)"])
        }
    }
}
