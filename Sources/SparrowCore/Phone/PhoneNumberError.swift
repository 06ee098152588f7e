/// Why an input is not a valid phone number. Descriptions never contain the input.
public enum PhoneNumberError: Error, Hashable, Sendable {
    /// No digits at all (e.g. empty, blank or "n/a").
    case empty
    /// Letters (vanity numbers, extensions) or other characters that are not part of a phone number.
    case invalidCharacters
    /// Too few digits for a number (libphonenumber: not a number, too short after the IDD or for the region).
    case tooShort
    /// Too many digits for a number.
    case tooLong
    /// A `+` or international prefix followed by no known country calling code.
    case unknownCountryCode
    /// A plausible length, but not a valid number of the country calling code's main region (the associated value).
    case invalidForRegion(String)
    /// No country calling code in the input and no usable default region.
    case missingRegion
}

extension PhoneNumberError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .empty: "no phone number given"
        case .invalidCharacters: "contains characters that are not part of a phone number"
        case .tooShort: "too short to be a phone number"
        case .tooLong: "too long to be a phone number"
        case .unknownCountryCode: "unknown country calling code"
        case .invalidForRegion(let region): "not a valid phone number for region \(region)"
        case .missingRegion: "no country calling code and no default region"
        }
    }
}
