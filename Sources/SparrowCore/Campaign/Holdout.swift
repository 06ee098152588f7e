import Crypto

/// A campaign's holdout: a fixed share of its recipients who are never sent to, so that what the campaign earned can
/// be told from what they would have done anyway. Who is held out depends only on the campaign and the number: the
/// same customers however the input is ordered, and again when a resume reads it again.
public struct Holdout: Sendable, Hashable {
    /// The share held out, from 0 (nobody) to below 1.
    public let share: Double
    public let campaign: String

    /// - Precondition: `0 <= share < 1`.
    public init(share: Double, campaign: String) {
        precondition(share >= 0 && share < 1, "a holdout is a share below 1")
        self.share = share
        self.campaign = campaign
    }

    /// Whether the number `e164` is held out: the first 53 bits of SHA-256 of the campaign and the number, as a
    /// fraction of 1, fall below the share.
    public func holds(_ e164: String) -> Bool {
        guard share > 0 else { return false }
        let digest = SHA256.hash(data: Array("\(campaign)\u{0}holdout\u{0}\(e164)".utf8))
        let bits = digest.withUnsafeBytes { bytes in bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        return Double(bits >> 11) / Double(UInt64(1) << 53) < share
    }
}
