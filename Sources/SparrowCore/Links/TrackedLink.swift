import Crypto

/// The codes of tracked links: ten characters from `[0-9A-Za-z]` that name a message (its campaign's number in the
/// store and its input line) and carry a tag, keyed with the store's secret, so that a code cannot be made up or
/// altered: a guess passes one time in 3,844.
///
/// Every code has the same width, so a message's length, and so its segments, are known before its campaign has a
/// number (`plan`).
public struct LinkCoder: Sendable {
    private let key: [UInt8]

    /// Characters in a code.
    public static let width = 10
    /// The largest campaign number and line a code holds: 2¹⁹ − 1 campaigns, 2²⁸ − 1 lines.
    public static let maxCampaign = (1 << 19) - 1
    public static let maxLine = (1 << 28) - 1

    private static let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    private static let bodyWidth = 8
    private static let tagWidth = 2

    public init(key: [UInt8]) {
        self.key = key
    }

    /// The code of line `line` of campaign number `campaign`.
    /// - Precondition: `0...maxCampaign` holds `campaign` and `0...maxLine` holds `line`.
    public func code(campaign: Int, line: Int) -> String {
        precondition((0...Self.maxCampaign).contains(campaign), "campaign number \(campaign) out of a code's range")
        precondition((0...Self.maxLine).contains(line), "line \(line) out of a code's range")
        var body = Self.encode(UInt64(campaign) << 28 | UInt64(line), width: Self.bodyWidth)
        body += tag(of: body)
        return String(decoding: body, as: UTF8.self)
    }

    /// The campaign number and line `code` names, or nil when it is no code of this key's.
    public func decode(_ code: some StringProtocol) -> (campaign: Int, line: Int)? {
        let bytes = Array(code.utf8)
        guard bytes.count == Self.width else { return nil }
        let body = Array(bytes.prefix(Self.bodyWidth))
        guard let value = Self.decode(body), tag(of: body) == Array(bytes.suffix(Self.tagWidth)) else { return nil }
        let campaign = Int(value >> 28)
        guard campaign <= Self.maxCampaign else { return nil }
        return (campaign, Int(value & UInt64(Self.maxLine)))
    }

    private func tag(of body: [UInt8]) -> [UInt8] {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: key))
        let value = mac.withUnsafeBytes { $0.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        return Self.encode(value % (62 * 62), width: Self.tagWidth)
    }

    private static func encode(_ value: UInt64, width: Int) -> [UInt8] {
        var value = value
        var characters = [UInt8](repeating: digits[0], count: width)
        for position in stride(from: width - 1, through: 0, by: -1) {
            characters[position] = digits[Int(value % 62)]
            value /= 62
        }
        return characters
    }

    private static func decode(_ characters: [UInt8]) -> UInt64? {
        var value: UInt64 = 0
        for character in characters {
            guard let digit = digits.firstIndex(of: character) else { return nil }
            value = value * 62 + UInt64(digit)
        }
        return value
    }
}

/// A campaign's tracked links: each recipient's `base` + code, which the receipts server answers with a redirect to
/// the campaign's target, recording the click.
public struct TrackedLinks: Sendable {
    /// What every link starts with, ending in `/`: `https://s.example.cn/s/`.
    public let base: String
    /// The campaign's number in the store; 0 for a dry run, whose links only need the right length.
    public let campaign: Int
    public let coder: LinkCoder

    public init(base: String, campaign: Int, coder: LinkCoder) {
        self.base = base
        self.campaign = campaign
        self.coder = coder
    }

    /// The link of the recipient on `line`.
    public func link(line: Int) -> String {
        base + coder.code(campaign: campaign, line: line)
    }

    /// The URL a click on one of `campaign`'s links is sent to: `target` with `utm` added to its query (each pair
    /// percent-encoded), and `utm_campaign` set to the campaign unless `utm` names it.
    public static func destination(target: String, campaign: String, utm: [(String, String)]) -> String {
        var pairs = utm
        if !pairs.contains(where: { $0.0 == "utm_campaign" }) { pairs.append(("utm_campaign", campaign)) }
        let (path, fragment) =
            target.firstIndex(of: "#").map { (String(target[..<$0]), String(target[$0...])) } ?? (target, "")
        let query = FormEncoding.encode(pairs)
        return path + (path.contains("?") ? "&" : "?") + query + fragment
    }
}
