/// libphonenumber's number types.
public enum PhoneNumberType: String, Sendable, CaseIterable {
    case fixedLine = "fixed-line"
    case mobile
    /// Fixed-line and mobile numbers cannot be told apart (e.g. the US).
    case fixedLineOrMobile = "fixed-line-or-mobile"
    case tollFree = "toll-free"
    case premiumRate = "premium-rate"
    case sharedCost = "shared-cost"
    case voip
    case personalNumber = "personal-number"
    case pager
    /// Universal access number.
    case uan
    case voicemail
    case unknown
}
