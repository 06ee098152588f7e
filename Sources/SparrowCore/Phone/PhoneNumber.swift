/// A valid phone number in normalised form: country calling code plus national significant number.
public struct PhoneNumber: Hashable, Sendable {
    /// Country calling code, e.g. 86 for China or 1 for the NANP.
    public let countryCode: Int
    /// National significant number as ASCII digits, e.g. "13800138000"; leading zeros (Italy) are kept.
    public let nationalNumber: String

    /// E.164 form, e.g. "+8613800138000".
    public var e164: String { "+\(countryCode)\(nationalNumber)" }

    init(countryCode: Int, nationalNumber: String) {
        self.countryCode = countryCode
        self.nationalNumber = nationalNumber
    }

    init(countryCode: Int, digits: DigitString) {
        let nationalNumber = String(unsafeUninitializedCapacity: digits.count) { buffer in
            for (index, digit) in digits.enumerated() {
                buffer[index] = digit &+ UInt8(ascii: "0")
            }
            return digits.count
        }
        self.init(countryCode: countryCode, nationalNumber: nationalNumber)
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
