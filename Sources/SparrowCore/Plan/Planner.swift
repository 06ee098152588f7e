/// Gives the core a zone's offsets without the core reading tzdata.
public protocol ZoneRulesProvider: Sendable {
    /// The rules of the IANA zone `identifier`, or nil when there is no such zone.
    func rules(for identifier: String) -> ZoneRules?
}

/// Everything the planner needs to decide a row, from the configuration.
public struct PlanSettings: Sendable {
    public var template: MessageTemplate
    /// Prepended to every message before segmenting (`【某某旗舰店】`).
    public var signature: String
    /// Appended to every message before segmenting (`回T退订`).
    public var optoutSuffix: String
    /// Region for numbers written without a country code; nil demands the code (or a `region` column).
    public var defaultRegion: String?
    /// Zone of a recipient with no `tz` whose country has several zones (or none).
    public var defaultTimeZone: String
    public var quietHours: QuietHours?
    public var carriers: CarrierDirectory
    /// Gateways in order of preference: a message goes to the first that serves its carrier.
    public var gateways: [GatewayRoute]
    /// The columns whose values an approved template takes, in its order; empty for free text.
    public var parameters: [String] = []
    /// The campaign's tracked links: each row's is its `link` variable. Nil when the template has none.
    public var links: TrackedLinks?
    /// The column whose numbers rank the recipients of a campaign with a budget or a message limit: a row whose value
    /// is not a number is rejected.
    public var valueColumn: String?
    /// The most segments a message may take: its `|fit` variables are shortened to fit, and a row whose message
    /// cannot is rejected. Nil for no limit.
    public var maxSegments: Int?

    public init(
        template: MessageTemplate, signature: String = "", optoutSuffix: String = "", defaultRegion: String?,
        defaultTimeZone: String, quietHours: QuietHours?, carriers: CarrierDirectory, gateways: [GatewayRoute]
    ) {
        self.template = template
        self.signature = signature
        self.optoutSuffix = optoutSuffix
        self.defaultRegion = defaultRegion
        self.defaultTimeZone = defaultTimeZone
        self.quietHours = quietHours
        self.carriers = carriers
        self.gateways = gateways
    }
}

/// One recipient as read from the input: its 1-based line and its columns.
public struct RecipientRow: Sendable {
    public var line: Int
    /// The row's columns by name. Every column is a template variable, the steering ones included.
    public var values: TemplateValues
    /// The steering columns, picked out once: `phone` (or `to`, `mobile`), `tz`, `region`, `carrier`.
    public var phone: String?
    public var timeZone: String?
    public var region: String?
    public var carrier: String?

    /// A row whose steering columns are read from `values`.
    public init(line: Int, values: TemplateValues) {
        self.line = line
        self.values = values
        phone = values["phone"] ?? values["to"] ?? values["mobile"]
        timeZone = values["tz"]
        region = values["region"]
        carrier = values["carrier"]
    }

    /// A row whose steering columns the reader has already picked out.
    init(line: Int, values: TemplateValues, phone: String?, timeZone: String?, region: String?, carrier: String?) {
        self.line = line
        self.values = values
        self.phone = phone
        self.timeZone = timeZone
        self.region = region
        self.carrier = carrier
    }
}

/// A message the planner decided to send, now or at the end of quiet hours.
public struct PlannedMessage: Sendable, Hashable {
    public var line: Int
    public var number: PhoneNumber
    public var carrier: String?
    public var gateway: String
    /// The full text: signature, rendered template, opt-out suffix.
    public var text: String
    public var segments: SegmentCount
    /// What the message costs its carrier's token bucket: 1, or its segments for a carrier rated in segments.
    public var throttleUnits: Int
    public var cost: Double
    /// The first instant the message may go: `now`, or the end of the recipient's quiet hours.
    public var sendAt: Timestamp
    public var isDeferred: Bool
    /// The recipient's IANA zone, whose quiet hours hold the message back.
    public var timeZone: String
    /// The values of an approved template's placeholders, in its order; empty for free text.
    public var parameters: [String] = []
    /// The row's value in the column the campaign ranks by (`PlanSettings.valueColumn`); nil when it is empty or the
    /// campaign ranks by none.
    public var value: Double?
}

/// Decides each row on its own: number, message, segments, route, quiet hours. Decisions that depend on other
/// rows (duplicates) or on the store (suppression, frequency cap) come after, in input order.
///
/// A `Planner` caches zone rules, so keep one per thread and reuse it for every row.
public struct Planner {
    public let settings: PlanSettings
    private let zones: any ZoneRulesProvider
    private var zoneCache: [String: ZoneRules?] = [:]

    public init(settings: PlanSettings, zones: any ZoneRulesProvider) {
        self.settings = settings
        self.zones = zones
    }

    /// Plans one row as of `now`.
    public mutating func plan(_ row: RecipientRow, now: Timestamp) -> Result<PlannedMessage, RowRejection> {
        func reject(_ reason: RejectReason, _ message: String) -> Result<PlannedMessage, RowRejection> {
            .failure(RowRejection(line: row.line, reason: reason, message: message))
        }
        guard let phone = row.phone else {
            return reject(.missingPhone, "no phone number (column phone, to or mobile)")
        }
        var region = settings.defaultRegion
        if let rowRegion = row.region {
            guard PhoneRegions.isKnown(rowRegion.uppercased()) else {
                return reject(.invalidRegion, "region '\(rowRegion)' is not an ISO 3166 country code")
            }
            region = rowRegion.uppercased()
        }
        let info: PhoneNumberInfo
        switch PhoneNumberParser.parse(phone, defaultRegion: region) {
        case .success(let parsed): info = parsed
        case .failure(.invalidForRegion(let numberRegion)):
            return reject(.invalidPhone, "phone '\(phone)' is not a valid number for region \(numberRegion)")
        case .failure(let error):
            return reject(.invalidPhone, "phone '\(phone)' is not a valid number: \(error)")
        }

        let carrier: Carrier?
        if let carrierID = row.carrier {
            guard let named = settings.carriers.carrier(id: carrierID) else {
                return reject(.unknownCarrier, "carrier '\(carrierID)' is not in the carrier tables")
            }
            carrier = named
        } else {
            carrier = settings.carriers.carrier(forE164Digits: info.number.e164.utf8.dropFirst())
        }
        guard let gateway = settings.gateways.first(where: { $0.serves(carrierID: carrier?.id) }) else {
            return reject(.noRoute, "no gateway serves carrier '\(carrier?.id ?? "unknown")'")
        }

        let zoneID = row.timeZone ?? PhoneRegions.singleTimeZone(forRegion: info.region) ?? settings.defaultTimeZone
        guard let zone = rules(for: zoneID) else {
            return reject(.invalidTimeZone, "time zone '\(zoneID)' is not an IANA zone")
        }

        var values = row.values
        if let links = settings.links { values["link"] = links.link(line: row.line) }
        let text: String
        let (template, prefix, suffix) = (settings.template, settings.signature, settings.optoutSuffix)
        let rendered =
            if let maxSegments = settings.maxSegments {
                template.render(values, prefix: prefix, suffix: suffix, maxSegments: maxSegments)
            } else {
                template.render(values, prefix: prefix, suffix: suffix).mapError(RenderFailure.missing)
            }
        switch rendered {
        case .success(let rendered): text = rendered
        case .failure(.missing(let missing)):
            return reject(.missingVariable, "the template needs '\(missing.name)' and the row has none")
        case .failure(.tooLong(let count)):
            let fitted = settings.template.fitted.map { "{{\($0)}}" }.joined(separator: ", ")
            return reject(
                .tooLong,
                "the message takes \(count.segments) segments, more than the \(settings.maxSegments ?? 0) allowed"
                    + (fitted.isEmpty ? "" : ", even with \(fitted) cut to one character"))
        }
        var value: Double?
        if let column = settings.valueColumn, let text = row.values[column], !text.isEmpty {
            guard let number = Double(text), number.isFinite else {
                return reject(.invalidValue, "column '\(column)' holds '\(text)', not a number to rank by")
            }
            value = number
        }
        let segments = Segmenter.count(text)
        let release = settings.quietHours?.release(of: now, in: zone)
        return .success(
            PlannedMessage(
                line: row.line, number: info.number, carrier: carrier?.id, gateway: gateway.name, text: text,
                segments: segments, throttleUnits: carrier?.unit == .segments ? segments.segments : 1,
                cost: Double(segments.segments) * gateway.pricePerSegment,
                sendAt: release ?? now, isDeferred: release != nil, timeZone: zoneID,
                parameters: settings.parameters.map { values[$0] ?? "" }, value: value))
    }

    private mutating func rules(for identifier: String) -> ZoneRules? {
        if let cached = zoneCache[identifier] { return cached }
        let rules = zones.rules(for: identifier)
        zoneCache[identifier] = rules
        return rules
    }
}
