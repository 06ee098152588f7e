import Crypto

/// Sparrow's id for a message: the same for the same campaign, input row and number on every run, so that a
/// resumed campaign journals and submits it under the same id, which is also the gateway idempotency key.
///
/// ```swift
/// MessageID.make(campaign: "spring-sale", line: 42, e164: "+8613800138000")  // "spring-sale-42-9c1f03aa"
/// ```
public enum MessageID {
    /// `campaign-line-hash`, where the hash (8 hex digits of SHA-256 over all three) tells apart a row whose number
    /// changed between runs.
    public static func make(campaign: String, line: Int, e164: String) -> String {
        let digest = SHA256.hash(data: Array("\(campaign)\u{0}\(line)\u{0}\(e164)".utf8))
        return "\(campaign)-\(line)-\(digest.withUnsafeBytes { Hex.string($0.prefix(4)) })"
    }

    /// The campaign `id` belongs to: all before its last two `-`-separated parts; nil for an id Sparrow did not make.
    ///
    /// ```swift
    /// MessageID.campaign(of: "spring-sale-42-9c1f03aa")  // "spring-sale"
    /// ```
    public static func campaign<Text: StringProtocol>(of id: Text) -> Text.SubSequence? {
        guard let hashDash = id.lastIndex(of: "-"), let lineDash = id[..<hashDash].lastIndex(of: "-"),
            lineDash > id.startIndex, id.index(after: lineDash) < hashDash,
            id[id.index(after: lineDash)..<hashDash].allSatisfy({ ("0"..."9").contains($0) })
        else { return nil }
        return id[..<lineDash]
    }

    /// Whether `id` may name a campaign: 1 to 64 ASCII letters, digits, `.`, `_` or `-`, so that message ids are
    /// safe in headers, URLs and file names.
    public static func isValidCampaign(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    true
                default: false
                }
            }
    }
}
