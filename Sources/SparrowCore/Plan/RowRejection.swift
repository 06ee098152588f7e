/// Why a row was not planned: a bounded code that doubles as the rejects-file and metrics label.
public struct RejectReason: Hashable, Sendable, CustomStringConvertible {
    public let code: String

    private init(_ code: String) {
        self.code = code
    }

    public var description: String { code }

    public static let missingPhone = Self("missing-phone")
    public static let invalidPhone = Self("invalid-phone")
    public static let invalidRegion = Self("invalid-region")
    public static let unknownCarrier = Self("unknown-carrier")
    public static let noRoute = Self("no-route")
    public static let invalidTimeZone = Self("invalid-timezone")
    public static let missingVariable = Self("missing-variable")
    public static let invalidUTF8 = Self("invalid-utf8")
    public static let rowTooLong = Self("row-too-long")
    public static let malformedRow = Self("malformed-row")
    /// An order without its id.
    public static let missingOrderID = Self("missing-order-id")
    /// An order with neither a customer id nor a phone number: nobody to count it for.
    public static let missingCustomer = Self("missing-customer")
    public static let invalidAmount = Self("invalid-amount")
    public static let invalidTime = Self("invalid-time")
    public static let unknownStatus = Self("unknown-status")
    /// The column a campaign ranks its recipients by holds something other than a number.
    public static let invalidValue = Self("invalid-value")
    /// The message takes more segments than allowed, even with its `|fit` variables shortened.
    public static let tooLong = Self("too-long")

    /// Every code, for reports and docs.
    public static let all: [Self] = [
        .missingPhone, .invalidPhone, .invalidRegion, .unknownCarrier, .noRoute, .invalidTimeZone, .missingVariable,
        .invalidUTF8, .rowTooLong, .malformedRow, .missingOrderID, .missingCustomer, .invalidAmount, .invalidTime,
        .unknownStatus, .invalidValue, .tooLong,
    ]
}

/// A rejected row: its line, the reason code, and a message for the rejects file.
///
/// The message may quote the row's data (the phone number as written), so it belongs in the rejects file only,
/// never in logs; `description` leaves it out.
public struct RowRejection: Error, Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var reason: RejectReason
    public var message: String

    public init(line: Int, reason: RejectReason, message: String) {
        self.line = line
        self.reason = reason
        self.message = message
    }

    public var description: String { "line \(line): \(reason.code)" }
}

/// What the plan decided for a row (the `status` of the spec).
public enum PlanStatus: String, Sendable, Hashable, CaseIterable {
    case ready, deferred, suppressed, duplicate, capped, rejected
    /// In the campaign's holdout: never sent, so that the campaign's effect can be measured against it.
    case heldOut = "held-out"
    /// Below the campaign's value cut: its budget or message limit went to more valuable recipients.
    case overBudget = "over-budget"
}
