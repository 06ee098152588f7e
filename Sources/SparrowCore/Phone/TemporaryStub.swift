// TEMPORARY: replaced by the generated tables and parser.
public struct PhoneNumber: Hashable, Sendable {
    public let countryCode: Int
    public let nationalNumber: String
    public var e164: String { "+\(countryCode)\(nationalNumber)" }
}
public enum PhoneNumberType: String, Sendable, CaseIterable {
    case fixedLine = "fixed-line", mobile, fixedLineOrMobile = "fixed-line-or-mobile", tollFree = "toll-free",
        premiumRate = "premium-rate", sharedCost = "shared-cost", voip, personalNumber = "personal-number",
        pager, uan, voicemail, unknown
}
public struct PhoneNumberInfo: Hashable, Sendable { public let number: PhoneNumber; public let region: String; public let type: PhoneNumberType }
public enum PhoneNumberError: Error, Hashable, Sendable { case empty, invalidCharacters, tooShort, tooLong, unknownCountryCode, invalidForRegion(String), missingRegion }
public enum PhoneNumberParser {
    public static func parse(_ input: some StringProtocol, defaultRegion: String?) -> Result<PhoneNumberInfo, PhoneNumberError> {
        let digits = input.unicodeScalars.filter { ("0"..."9").contains($0) }.map { String($0) }.joined()
        if digits.count == 11 && digits.first == "1" { return .success(PhoneNumberInfo(number: PhoneNumber(countryCode: 86, nationalNumber: digits), region: "CN", type: .mobile)) }
        if digits.count == 13 && digits.hasPrefix("861") { return .success(PhoneNumberInfo(number: PhoneNumber(countryCode: 86, nationalNumber: String(digits.dropFirst(2))), region: "CN", type: .mobile)) }
        return .failure(.invalidForRegion(defaultRegion ?? "?"))
    }
}
public enum PhoneRegions {
    public static func isKnown(_ region: String) -> Bool { region.count == 2 }
    public static func countryCode(for region: String) -> Int? { region == "CN" ? 86 : nil }
    public static func singleTimeZone(forRegion region: String) -> String? { region == "CN" ? "Asia/Shanghai" : nil }
}
