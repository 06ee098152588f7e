/// Parses and validates phone numbers with libphonenumber's rules (`parse` followed by `is_valid_number`),
/// using tables generated from its metadata; see `PhoneInputScanner` for the accepted characters.
public enum PhoneNumberParser {
    /// Parses what people type in spreadsheets and validates with libphonenumber's rules.
    ///
    /// - Parameters:
    ///   - input: e.g. "138 0013 8000", "+1 (650) 253-0000", "0086 138-0013-8000", full-width digits.
    ///   - defaultRegion: ISO 3166 code (either case) used when the number has no `+`/international prefix.
    /// - Returns: the normalised number with its region and type, or why it is not a valid number.
    public static func parse(
        _ input: some StringProtocol, defaultRegion: String?
    ) -> Result<PhoneNumberInfo, PhoneNumberError> {
        parse(utf8: input.utf8, defaultRegion: defaultRegion)
    }

    /// `parse(_:defaultRegion:)` over UTF-8 bytes, e.g. a field of a CSV buffer.
    public static func parse(
        utf8 input: some Collection<UInt8>, defaultRegion: String?
    ) -> Result<PhoneNumberInfo, PhoneNumberError> {
        let tables = PhoneMetadataTables.shared
        let defaultEntity = defaultRegion.flatMap { tables.entity(forRegion: $0) }
        if let result = input.withContiguousStorageIfAvailable({
            parse(bytes: $0, defaultEntity: defaultEntity, tables: tables)
        }) {
            return result
        }
        return Array(input).withUnsafeBufferPointer { parse(bytes: $0, defaultEntity: defaultEntity, tables: tables) }
    }

    private static func parse(
        bytes: UnsafeBufferPointer<UInt8>, defaultEntity: Int?, tables: PhoneMetadataTables
    ) -> Result<PhoneNumberInfo, PhoneNumberError> {
        Result { () throws(PhoneNumberError) in
            try validatedNumber(bytes, defaultEntity: defaultEntity, tables: tables)
        }
    }

    /// Scratch space: the scanned digits, then one buffer for each national-prefix transformation that can be alive.
    private static let scratchCapacity = PhoneInputScanner.maxDigits + 2 * PhoneMetadataTables.transformCapacity

    private static func validatedNumber(
        _ bytes: UnsafeBufferPointer<UInt8>, defaultEntity: Int?, tables: PhoneMetadataTables
    ) throws(PhoneNumberError) -> PhoneNumberInfo {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: scratchCapacity) {
            (scratch) throws(PhoneNumberError) -> PhoneNumberInfo in
            let digitBuffer = UnsafeMutableBufferPointer(rebasing: scratch[..<PhoneInputScanner.maxDigits])
            let scan = try PhoneInputScanner.scan(bytes, into: digitBuffer, tables: tables)
            guard defaultEntity != nil || scan.hasPlus else { throw .missingRegion }
            guard !scan.hasExtension else { throw .invalidCharacters }
            let (countryCode, nationalNumber) = try tables.nationalSignificantNumber(
                DigitString(rebasing: digitBuffer[..<scan.digitCount]), afterPlus: scan.hasPlus,
                defaultEntity: defaultEntity,
                scratch: UnsafeMutableBufferPointer(rebasing: scratch[PhoneInputScanner.maxDigits...]))
            return try tables.validatedNumber(nationalNumber, countryCode: countryCode)
        }
    }
}
