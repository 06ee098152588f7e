public import SparrowCore

/// A message as the journal records it before it is submitted: everything needed to submit it again after a
/// crash, without the input.
///
/// A value whose fields live in one shared, immutable box: an entry passes from the journal to a lane, a request and
/// a record, and each copy on the way retains the box once, not each of its strings.
public struct JournalEntry: Sendable, Hashable {
    private struct Fields: Sendable, Hashable {
        var id: String
        var campaign: String
        var line: Int
        var to: String
        var carrier: String?
        var gateway: String
        var text: String
        var segments: Int
        var throttleUnits: Int
        var cost: Double
        var sendAt: Timestamp
        var state: MessageState
        var timeZone: String?
        var parameters: [String]
    }

    private final class Box: Sendable {
        let fields: Fields

        init(_ fields: Fields) {
            self.fields = fields
        }
    }

    private var box: Box

    /// Deterministic (campaign, row, number): also the gateway idempotency key.
    public var id: String {
        get { box.fields.id }
        set { change(\.id, to: newValue) }
    }
    public var campaign: String {
        get { box.fields.campaign }
        set { change(\.campaign, to: newValue) }
    }
    public var line: Int {
        get { box.fields.line }
        set { change(\.line, to: newValue) }
    }
    public var to: String {
        get { box.fields.to }
        set { change(\.to, to: newValue) }
    }
    public var carrier: String? {
        get { box.fields.carrier }
        set { change(\.carrier, to: newValue) }
    }
    public var gateway: String {
        get { box.fields.gateway }
        set { change(\.gateway, to: newValue) }
    }
    public var text: String {
        get { box.fields.text }
        set { change(\.text, to: newValue) }
    }
    public var segments: Int {
        get { box.fields.segments }
        set { change(\.segments, to: newValue) }
    }
    /// What the message costs its carrier's token bucket (1, or its segments).
    public var throttleUnits: Int {
        get { box.fields.throttleUnits }
        set { change(\.throttleUnits, to: newValue) }
    }
    public var cost: Double {
        get { box.fields.cost }
        set { change(\.cost, to: newValue) }
    }
    public var sendAt: Timestamp {
        get { box.fields.sendAt }
        set { change(\.sendAt, to: newValue) }
    }
    public var state: MessageState {
        get { box.fields.state }
        set { change(\.state, to: newValue) }
    }
    /// The recipient's zone, whose quiet hours are checked again just before the message goes.
    public var timeZone: String? {
        get { box.fields.timeZone }
        set { change(\.timeZone, to: newValue) }
    }
    /// The values of an approved template's placeholders, in its order; empty for free text.
    public var parameters: [String] {
        get { box.fields.parameters }
        set { change(\.parameters, to: newValue) }
    }

    public init(
        id: String, campaign: String, line: Int, to: String, carrier: String?, gateway: String, text: String,
        segments: Int, throttleUnits: Int, cost: Double, sendAt: Timestamp, state: MessageState,
        timeZone: String? = nil, parameters: [String] = []
    ) {
        box = Box(
            Fields(
                id: id, campaign: campaign, line: line, to: to, carrier: carrier, gateway: gateway, text: text,
                segments: segments, throttleUnits: throttleUnits, cost: cost, sendAt: sendAt, state: state,
                timeZone: timeZone, parameters: parameters))
    }

    /// Setting a field makes a new box: entries that share this one keep their values.
    private mutating func change<Value>(_ field: WritableKeyPath<Fields, Value>, to value: Value) {
        var fields = box.fields
        fields[keyPath: field] = value
        box = Box(fields)
    }

    public static func == (lhs: JournalEntry, rhs: JournalEntry) -> Bool {
        lhs.box === rhs.box || lhs.box.fields == rhs.box.fields
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(box.fields)
    }
}

/// An input row that became no message (rejected, a duplicate, suppressed or capped), kept for the funnel.
public struct SkippedRow: Sendable, Hashable {
    public var line: Int
    public var status: PlanStatus
    /// The reject reason code, for rejected rows.
    public var reason: String?
    public var carrier: String?
    public var gateway: String?
    /// A held-out row's number (E.164), and when its message would have gone: what its effect is measured from.
    public var recipient: String?
    public var sendAt: Timestamp?

    public init(
        line: Int, status: PlanStatus, reason: String? = nil, carrier: String? = nil, gateway: String? = nil,
        recipient: String? = nil, sendAt: Timestamp? = nil
    ) {
        self.line = line
        self.status = status
        self.reason = reason
        self.carrier = carrier
        self.gateway = gateway
        self.recipient = recipient
        self.sendAt = sendAt
    }
}

extension JournalEntry {
    /// The skipped row of a message whose number has a message in the campaign already.
    package var duplicate: SkippedRow { SkippedRow(line: line, status: .duplicate, carrier: carrier, gateway: gateway) }
}

/// What the gateway made of a submit.
public struct SubmitRecord: Sendable, Hashable {
    public var id: String
    /// The message's campaign and number, as journaled: what the frequency cap's ledger counts a send against.
    public var campaign: String
    public var recipient: String
    public var state: MessageState
    public var gateway: String
    public var gatewayMessageID: String?
    public var attempts: Int
    /// From the first request to the answer; nil when no request was made in this run.
    public var latency: Duration?
    public var error: String?
    public var at: Timestamp
    /// The gateway's ids of each part, for a message Sparrow sent in parts (empty otherwise): each part gets its own
    /// receipt, and the message is settled when every part is.
    public var partIDs: [String]
    /// For a message the gateway put off (`deferred`): when it goes again.
    public var sendAt: Timestamp?
    /// The gateway refused the number itself: it goes on the suppression list.
    public var suppress: Bool

    public init(
        id: String, campaign: String, recipient: String, state: MessageState, gateway: String,
        gatewayMessageID: String?, attempts: Int, latency: Duration?, error: String?, at: Timestamp,
        partIDs: [String] = [], sendAt: Timestamp? = nil, suppress: Bool = false
    ) {
        self.sendAt = sendAt
        self.suppress = suppress
        self.id = id
        self.campaign = campaign
        self.recipient = recipient
        self.state = state
        self.gateway = gateway
        self.gatewayMessageID = gatewayMessageID
        self.attempts = attempts
        self.latency = latency
        self.error = error
        self.at = at
        self.partIDs = partIDs
    }
}

/// A delivery receipt, matched to its message by the gateway's message id.
public struct ReceiptRecord: Sendable, Hashable {
    /// The gateway that sent it; nil matches the message id on any gateway.
    public var gateway: String?
    public var gatewayMessageID: String
    public var state: MessageState
    public var at: Timestamp

    public init(gateway: String?, gatewayMessageID: String, state: MessageState, at: Timestamp) {
        self.gateway = gateway
        self.gatewayMessageID = gatewayMessageID
        self.state = state
        self.at = at
    }
}

/// A message a gateway's status query may settle.
public struct UnsettledMessage: Sendable, Hashable {
    public var id: String
    public var line: Int
    /// E.164.
    public var recipient: String
    public var gateway: String
    public var state: MessageState
    public var gatewayMessageID: String?
    /// When it was due, and when its state last changed: the request went between the two.
    public var sendAt: Timestamp
    public var updatedAt: Timestamp

    public init(
        id: String, line: Int, recipient: String, gateway: String, state: MessageState, gatewayMessageID: String?,
        sendAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.line = line
        self.recipient = recipient
        self.gateway = gateway
        self.state = state
        self.gatewayMessageID = gatewayMessageID
        self.sendAt = sendAt
        self.updatedAt = updatedAt
    }
}

/// What a gateway's status query found about one message.
public struct StatusFinding: Sendable, Hashable {
    /// How the finding names its message.
    public enum Message: Sendable, Hashable {
        case id(String)
        /// By its campaign and number, which name one message: a status of a message whose answer was lost.
        case recipient(campaign: String, e164: String)
        /// By the gateway's id of it, as a receipt does; a status that matches no message is kept as an unmatched
        /// receipt.
        case gatewayMessageID(String)
    }

    public var message: Message
    public var gateway: String
    /// `ready` when the gateway never took the message; `accepted` while it waits for the carrier's report; else a
    /// receipt's final state.
    public var state: MessageState
    public var gatewayMessageID: String?
    public var error: String?
    public var at: Timestamp

    public init(
        message: Message, gateway: String, state: MessageState, gatewayMessageID: String? = nil, error: String? = nil,
        at: Timestamp
    ) {
        self.message = message
        self.gateway = gateway
        self.state = state
        self.gatewayMessageID = gatewayMessageID
        self.error = error
        self.at = at
    }
}

/// A campaign as the store knows it.
public struct CampaignRecord: Sendable, Hashable {
    public var id: String
    public var template: String
    /// When it began, on its clock.
    public var createdAt: Timestamp
    /// Input lines read to the end, or nil while the input was never read through (a resume needs it again).
    public var inputLines: Int?
    /// The share of recipients held out (0 for none), fixed when the campaign began.
    public var holdout: Double
    /// The approved template it sends, by its name in the configuration; nil for free text (`template`).
    public var approved: String?
    /// Its number in the store, which its tracked links' codes carry.
    public var number: Int
    /// Where a click on one of its tracked links goes; nil when it has none.
    public var linkTarget: String?
    /// How it ranks its recipients under a budget or a message limit; nil when it has neither.
    public var ranking: CampaignRanking?
    /// The most segments a message may take (`PlanSettings.maxSegments`); nil for no limit.
    public var maxSegments: Int?

    package init(
        id: String, template: String, createdAt: Timestamp, inputLines: Int?, holdout: Double, approved: String?,
        number: Int, linkTarget: String?, ranking: CampaignRanking?, maxSegments: Int?
    ) {
        self.id = id
        self.template = template
        self.createdAt = createdAt
        self.inputLines = inputLines
        self.holdout = holdout
        self.approved = approved
        self.number = number
        self.linkTarget = linkTarget
        self.ranking = ranking
        self.maxSegments = maxSegments
    }
}

/// The messages of a `markSubmitting` that are to go.
public enum MarkedMessages: Sendable, Hashable {
    case all
    /// Those with these ids: the others are another worker's, or answered.
    case only(Set<String>)

    /// Whether the message `id` is to go.
    public func contains(_ id: String) -> Bool {
        switch self {
        case .all: true
        case .only(let ids): ids.contains(id)
        }
    }
}

/// What Sparrow keeps about campaigns, messages, receipts, unsubscribes and sends. Narrow on purpose, and in
/// batches, so that a store for several workers (PostgreSQL) can implement it too. A database's refusals come out
/// as `StoreError`, never as the database library's own errors; a cancelled call throws `CancellationError`.
public protocol CampaignStore: Sendable {
    /// Records a campaign, with the share of its recipients held out; a campaign that exists already is left as it
    /// is (resume).
    /// `approved` names the approved template the campaign sends, whose text is `template`; nil for free text.
    /// `maxSegments` is the most segments a message may take, nil for no limit.
    func beginCampaign(
        id: String, template: String, holdout: Double, approved: String?, maxSegments: Int?, at: Timestamp
    ) async throws
    func campaign(id: String) async throws -> CampaignRecord?
    /// Every campaign of the store, the latest first.
    func campaigns() async throws -> [CampaignRecord]
    /// The campaign's recipients, sent to and held out, for measuring its effect (held-out rows journaled before
    /// their numbers were kept are left out).
    func effectRecipients(campaign: String) async throws -> [EffectRecipient]
    /// Keeps a measured effect and its responders, replacing the campaign's earlier measurement.
    func saveEffect(campaign: String, _ effect: CampaignEffect, responders: [UInt64]) async throws
    /// The campaign's last measured effect, or nil when it was never measured.
    func effect(campaign: String) async throws -> CampaignEffect?
    /// Sets where a click on one of the campaign's tracked links goes, unless that was set before (a resume keeps
    /// the first run's target).
    func setLinkTarget(campaign: String, _ target: String) async throws
    /// Sets how the campaign ranks its recipients and where its cut fell, unless that was set before.
    func setRanking(campaign: String, _ ranking: CampaignRanking) async throws
    /// The key that tags the store's link codes, made at random the first time it is asked for.
    func linkKey() async throws -> [UInt8]
    /// Records a click on the link of the message on `line` of the campaign numbered `number`.
    /// - Returns: the campaign and its link target, or nil when no such message exists (nothing is recorded).
    func recordClick(campaignNumber number: Int, line: Int, at: Timestamp) async throws -> (
        campaign: String, target: String?
    )?
    /// Every number's marketing history over the store's campaigns: messages a gateway took, the last one's time,
    /// and the measured campaigns that counted it a responder.
    func marketingHistory() async throws -> [UInt64: MarketingHistory]
    /// The numbers the campaign's last measurement found responding (`responded`), or those it delivered to that
    /// did not respond.
    func recipients(of campaign: String, responded: Bool) async throws -> [UInt64]
    /// Records that the campaign's input was read to its end, at line `lines`.
    /// - Throws: `InputMismatch` when rows beyond it were journaled (a shorter input than the first run's).
    func finishInput(campaign: String, lines: Int) async throws

    /// Journals a batch of decided rows in one transaction, before any of it is submitted. A row journaled before (a
    /// resumed campaign read again) keeps its first decision. A message to a number that has one in the campaign
    /// already (at an earlier line) is skipped as a duplicate: the store, not the reader's memory, knows every number.
    /// - Returns: the state each of `messages` has now, in order; nil where the row was first decided as skipped or
    ///   is a duplicate.
    /// - Throws: `InputMismatch` when a message was journaled at one of these lines for another number.
    func journal(campaign: String, messages: [JournalEntry], skipped: [SkippedRow]) async throws -> [MessageState?]
    /// Holds messages not yet sent until `sendAt` (quiet hours began before they could go).
    func postpone(_ messages: [(id: String, sendAt: Timestamp)]) async throws
    /// Marks messages as handed to a gateway (the planned one, or its backup), durably, just before their requests
    /// go: after a crash, a message marked so may have reached that gateway and no other.
    /// - Returns: which of them to send: all, or with a store that several workers share, those this worker holds
    ///   now (another live worker's, or one answered meanwhile, is left alone).
    @discardableResult
    func markSubmitting(_ messages: [(id: String, gateway: String)]) async throws -> MarkedMessages
    /// How many of the campaign's messages are not yet answered and due, whichever worker holds them: ready or in
    /// flight whatever their time (another process's clock may run ahead of this one's), deferred by `dueBy`.
    func unansweredDue(campaign: String, dueBy: Timestamp) async throws -> Int
    /// Moves messages forward (never backward) after the gateway answered, in one transaction.
    func record(_ submits: [SubmitRecord]) async throws
    /// Opens the campaign's `unknown` messages on `gateways` (gateways that honour idempotency keys) again, as
    /// `submitting`, so that the next pass sends them again under their keys: the gateway answers with what it made
    /// of the earlier attempt, or takes the message now, and either way it is settled. Their possible sends leave
    /// the frequency cap's ledger until that pass records them again.
    /// - Returns: the ids of the messages opened again.
    func reopenUnknown(campaign: String, gateways: Set<String>) async throws -> Set<String>
    /// Up to `limit` messages of `campaign` on `gateways` after `line`, in line order, that a gateway's status query
    /// may settle: those in doubt (`unknown` ones, and ones left `submitting` by a run that stopped), and with
    /// `awaitingReceipts` the `accepted` ones still waiting for their receipt.
    func unsettled(
        campaign: String, gateways: Set<String>, awaitingReceipts: Bool, afterLine line: Int, limit: Int
    ) async throws -> [UnsettledMessage]
    /// Records what gateways' status queries found, in one transaction; returns how many messages it moved to each
    /// state. A
    /// message moves forward only, except that one the gateway never took (`ready`) is sent again: from `unknown` or
    /// `submitting` only, leaving the frequency cap's ledger. A message found taken that was left `submitting` joins
    /// the ledger.
    func settle(_ findings: [StatusFinding]) async throws -> [MessageState: Int]
    /// Up to `limit` messages of `campaign` after `line`, in line order, not yet answered and due: ready, or
    /// submitting when the process stopped, whatever their time (the process that decided them may have a clock
    /// ahead of this one's), and deferred ones due by `dueBy`.
    func unfinished(campaign: String, dueBy: Timestamp, afterLine line: Int, limit: Int) async throws -> [JournalEntry]
    /// The earliest `send_at` of the campaign's deferred messages, or nil when none waits.
    func nextRelease(campaign: String) async throws -> Timestamp?
    /// Applies receipts; returns how many moved a message forward. A receipt for one part of a message sent in parts
    /// settles the message once every part has a final receipt: delivered when all were, otherwise the first of
    /// undelivered or expired among them.
    func apply(_ receipts: [ReceiptRecord]) async throws -> Int
    /// The campaign over time: how many of its messages a gateway took, and how many were delivered, in each minute
    /// (in time order, minutes with none left out), and how long its deliveries took.
    func timeline(campaign: String) async throws -> CampaignTimeline
    /// The campaign's funnel, in total, per carrier and per gateway.
    func figures(campaign: String) async throws -> CampaignFigures
    /// The campaign's messages that still await a final state, as `figures` counts them (pending but not unknown):
    /// accepted ones awaiting their receipt, and ready or submitting ones. One count, where `figures` also groups
    /// and sorts: cheap enough to ask again and again while receipts come in.
    func awaitingReceipts(campaign: String) async throws -> Int

    /// Adds numbers, as E.164 values (`PhoneNumber.e164Value`), to the suppression list; a batch of any size is
    /// one transaction, written in key order.
    func suppress(_ numbers: [UInt64]) async throws
    func unsuppress(_ numbers: [UInt64]) async throws
    /// Every suppressed number as its E.164 value, ascending: compact to hold in memory during a campaign.
    func suppressedNumbers() async throws -> [UInt64]
    /// Those of `numbers` (E.164 values) on the suppression list now.
    func suppressed(among numbers: [UInt64]) async throws -> Set<UInt64>

    /// The numbers, as E.164 values ascending, with at least `sends` sends at or after `since` (the frequency cap
    /// and its window), counting other campaigns' sends only when `excluding` names one (a resumed campaign does not
    /// cap itself).
    func cappedNumbers(since: Timestamp, excluding campaign: String?, sends: Int) async throws -> [UInt64]
}

extension CampaignStore {
    /// Records a campaign of free text without a holdout.
    public func beginCampaign(id: String, template: String, at: Timestamp) async throws {
        try await beginCampaign(id: id, template: template, holdout: 0, approved: nil, maxSegments: nil, at: at)
    }
}
