/// A valid phone number in normalised form: country calling code plus national significant number.
public struct PhoneNumber: Hashable, Sendable {
    /// Country calling code, e.g. 86 for China or 1 for the NANP.
    public let countryCode: Int
    /// National significant number as ASCII digits, e.g. "13800138000"; leading zeros (Italy) are kept.
    public let nationalNumber: String

    /// E.164 form, e.g. "+8613800138000"; built once, since every stage of a campaign reads it.
    public let e164: String
    /// The E.164 digits as one integer (`8613800138000`): a compact key for sets, sorted lists and the store.
    public let e164Value: UInt64

    init(countryCode: Int, nationalNumber: String) {
        self.countryCode = countryCode
        self.nationalNumber = nationalNumber
        e164 = "+\(countryCode)\(nationalNumber)"
        e164Value = Self.value(ofE164: e164)
    }

    /// The digits of an E.164 string (`+8613800138000`) as one integer; E.164 has at most 15 digits.
    public static func value(ofE164 e164: String) -> UInt64 {
        e164.utf8.dropFirst().reduce(0) { $0 &* 10 &+ UInt64($1 &- UInt8(ascii: "0")) }
    }

    /// Builds both forms straight from the digits, without string interpolation (this runs once per row).
    init(countryCode: Int, digits: DigitString) {
        precondition((1...999).contains(countryCode), "country calling codes have one to three digits")
        let codeLength = countryCode >= 100 ? 3 : countryCode >= 10 ? 2 : 1
        e164 = String(unsafeUninitializedCapacity: 1 + codeLength + digits.count) { buffer in
            buffer[0] = UInt8(ascii: "+")
            var code = countryCode
            for position in stride(from: codeLength, through: 1, by: -1) {
                buffer[position] = UInt8(ascii: "0") &+ UInt8(code % 10)
                code /= 10
            }
            for (index, digit) in digits.enumerated() {
                buffer[1 + codeLength + index] = digit &+ UInt8(ascii: "0")
            }
            return 1 + codeLength + digits.count
        }
        self.countryCode = countryCode
        nationalNumber = String(e164.utf8.dropFirst(1 + codeLength))!
        e164Value = Self.value(ofE164: e164)
    }
}

/// A parsed, valid number with the region it belongs to and its type.
public struct PhoneNumberInfo: Hashable, Sendable {
    /// The normalised number.
    public let number: PhoneNumber
    /// ISO 3166 region code such as "CN", or "001" for non-geographic numbers (+800, +870, ...).
    public let region: String
    /// The number's type; never `.unknown` for a valid number.
    public let type: PhoneNumberType
}
