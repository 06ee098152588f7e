/// An inbound SMS (MO) as a gateway forwards it: who sent it and what it says.
public struct InboundReply: Sendable, Hashable {
    public var sender: PhoneNumber
    public var text: String

    /// Fields that may hold the sender, tried in order (generic, Twilio, Kannel/Jasmin, Tencent Cloud, Alibaba Cloud).
    public static let senderFields = ["from", "From", "msisdn", "sender", "mobile", "phone_number"]
    /// Fields that may hold the text, tried in order.
    public static let textFields = ["text", "Body", "message", "content"]

    public init(sender: PhoneNumber, text: String) {
        self.sender = sender
        self.text = text
    }

    /// Reads a reply out of a request's fields; a reply without text has the empty text.
    ///
    /// ```swift
    /// let fields = try WebhookFields(body: Array("From=%2B8613800138000&Body=TD".utf8))
    /// try InboundReply(fields, defaultRegion: "CN")  // +8613800138000, "TD"
    /// ```
    /// - Parameter defaultRegion: the region of a sender written without a country code, unless a `nationcode`
    ///   field gives it (Tencent Cloud).
    /// - Throws: `ReceiptError`: `missing-field` without a sender, `invalid-sender` when it is not a valid number.
    public init(_ fields: WebhookFields, defaultRegion: String?) throws(ReceiptError) {
        guard var from = fields.first(of: Self.senderFields) else {
            throw ReceiptError(.missingField, "no sender (looked for \(Self.senderFields.joined(separator: ", ")))")
        }
        if let code = fields.first(of: ["nationcode"]), !from.hasPrefix("+") { from = "+" + code + from }
        switch PhoneNumberParser.parse(from, defaultRegion: defaultRegion) {
        case .success(let info): sender = info.number
        case .failure(let error): throw ReceiptError(.invalidSender, "sender: \(error)")
        }
        text = fields.first(of: Self.textFields) ?? ""
    }
}

/// The replies that unsubscribe their sender. A reply matches when its whole text, trimmed, is one of the keywords,
/// compared case-insensitively and with full-width forms read as ASCII: `td`, ` TD `, `ＴＤ` and `Stop` match;
/// `STOP please` and `T恤` do not.
public struct UnsubscribeKeywords: Sendable, Hashable {
    /// The usual keywords of Chinese and English-speaking carriers, and `R`: the opt-out that marketing templates in
    /// China must end with (`拒收请回复R`).
    public static let defaults = ["T", "TD", "R", "退订", "STOP", "UNSUBSCRIBE"]

    private let folded: Set<String>

    /// - Precondition: no keyword is empty or white space only.
    public init(_ keywords: [String] = Self.defaults) {
        folded = Set(keywords.map { KeywordFolding.fold($0) })
        precondition(!folded.contains(""), "an unsubscribe keyword is empty")
    }

    /// Whether `text` is an unsubscribe keyword.
    public func matches(_ text: some StringProtocol) -> Bool {
        folded.contains(KeywordFolding.fold(text))
    }
}

/// Text as keywords and status words are compared.
enum KeywordFolding {
    /// `text` with full-width ASCII forms (U+FF01–U+FF5E) read as ASCII, white space (the ideographic space
    /// included) trimmed from both ends, and upper-cased.
    static func fold(_ text: some StringProtocol) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if (0xFF01...0xFF5E).contains(scalar.value), let ascii = Unicode.Scalar(scalar.value - 0xFEE0) {
                scalars.append(ascii)
            } else {
                scalars.append(scalar)
            }
        }
        let start = scalars.firstIndex { !$0.properties.isWhitespace } ?? scalars.endIndex
        let end = scalars.lastIndex { !$0.properties.isWhitespace }.map { scalars.index(after: $0) } ?? start
        var trimmed = String.UnicodeScalarView()
        trimmed.append(contentsOf: scalars[start..<end])
        return String(trimmed).uppercased()
    }
}
