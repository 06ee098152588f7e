/// Why a webhook request's body says nothing usable: the code (also the label of the webhook's rejection metric)
/// and a short message for the answer. Messages never quote a phone number or a reply's text.
public struct ReceiptError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String {
            case malformedBody = "malformed-body", missingField = "missing-field", unknownStatus = "unknown-status"
            case invalidSender = "invalid-sender"
        }
        private let wrapped: Wrapped
        public var description: String { wrapped.rawValue }

        /// Neither JSON of the expected shape nor a valid form (a bad `%` escape, invalid UTF-8).
        public static var malformedBody: Self { .init(wrapped: .malformedBody) }
        /// No message id or status in a receipt, no sender in a reply.
        public static var missingField: Self { .init(wrapped: .missingField) }
        /// A status word the gateway's mapping does not list.
        public static var unknownStatus: Self { .init(wrapped: .unknownStatus) }
        /// A reply's sender that is not a valid phone number.
        public static var invalidSender: Self { .init(wrapped: .invalidSender) }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
