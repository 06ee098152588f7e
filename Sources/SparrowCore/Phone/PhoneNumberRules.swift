/// A run of digit values 0-9 in a caller-owned scratch buffer.
typealias DigitString = UnsafeBufferPointer<UInt8>

extension UnsafeBufferPointer<UInt8> {
    /// The digits after the first `count`.
    func dropping(_ count: Int) -> DigitString {
        DigitString(rebasing: self[(startIndex + count)...])
    }

    func hasPrefix(_ value: Int) -> Bool {
        var divisor = 1
        while divisor * 10 <= value { divisor *= 10 }
        var index = startIndex
        while divisor > 0 {
            guard index < endIndex, Int(self[index]) == value / divisor % 10 else { return false }
            index += 1
            divisor /= 10
        }
        return true
    }
}

/// libphonenumber's parsing and validation rules (`phonenumberutil.py`) evaluated on the decoded tables.
extension PhoneMetadataTables {
    /// Room for one national number produced by a transform rule: a literal, then at most all scanned digits.
    static let transformCapacity = PhoneInputScanner.maxDigits + 16

    // MARK: parse() and is_valid_number()

    /// `parse`: the country calling code and national significant number of the scanned digits. `scratch` holds
    /// two `transformCapacity` buffers for transformed national numbers.
    func nationalSignificantNumber(
        _ digits: DigitString, afterPlus: Bool, defaultEntity: Int?, scratch: UnsafeMutableBufferPointer<UInt8>
    ) throws(PhoneNumberError) -> (countryCode: Int, nationalNumber: DigitString) {
        let extractScratch = UnsafeMutableBufferPointer(rebasing: scratch[..<Self.transformCapacity])
        let stripScratch = UnsafeMutableBufferPointer(rebasing: scratch[Self.transformCapacity...])
        // A "+" followed by no known code is retried as if there were no "+".
        var extracted: (code: Int, nationalNumber: DigitString)?
        do throws(PhoneNumberError) {
            extracted = try extractCountryCode(
                digits, afterPlus: afterPlus, defaultEntity: defaultEntity, scratch: extractScratch)
        } catch .unknownCountryCode where afterPlus {
            extracted = try extractCountryCode(
                digits, afterPlus: false, defaultEntity: defaultEntity, scratch: extractScratch)
        }

        // The national prefix is stripped with the rules of the code's main region, else of the default region.
        let countryCode: Int
        let parsingEntity: Int
        var nationalNumber: DigitString
        if let extracted, let mainEntity = mainEntity(ofCountryCode: extracted.code) {
            (countryCode, nationalNumber, parsingEntity) = (extracted.code, extracted.nationalNumber, mainEntity)
        } else if let defaultEntity, !afterPlus {
            (countryCode, nationalNumber, parsingEntity) = (entities[defaultEntity].countryCode, digits, defaultEntity)
        } else {
            throw .unknownCountryCode
        }

        guard nationalNumber.count >= 2 else { throw .tooShort }
        let stripped = strippingNationalPrefix(nationalNumber, entity: parsingEntity, scratch: stripScratch)
        switch lengthCheck(stripped.count, entity: parsingEntity) {
        case .possible, .tooLong: nationalNumber = stripped
        case .possibleLocalOnly, .tooShort, .invalidLength: break
        }
        guard nationalNumber.count >= 2 else { throw .tooShort }
        guard nationalNumber.count <= Self.maxNationalNumberLength else { throw .tooLong }
        return (countryCode, nationalNumber)
    }

    /// `is_valid_number`: the number's region must give it a type. Otherwise `is_possible_number_with_reason` tells
    /// a wrong length from a wrong number.
    func validatedNumber(_ nationalNumber: DigitString, countryCode: Int) throws(PhoneNumberError) -> PhoneNumberInfo {
        if let region = regionEntity(nationalNumber, countryCode: countryCode) {
            let type = numberType(nationalNumber, entity: region)
            if type != .unknown {
                let number = PhoneNumber(countryCode: countryCode, digits: nationalNumber)
                return PhoneNumberInfo(number: number, region: regionCodes[region], type: type)
            }
        }
        guard let mainEntity = mainEntity(ofCountryCode: countryCode) else { throw .unknownCountryCode }
        switch lengthCheck(nationalNumber.count, entity: mainEntity) {
        case .tooShort: throw .tooShort
        case .tooLong: throw .tooLong
        case .possible, .possibleLocalOnly, .invalidLength: throw .invalidForRegion(regionCodes[mainEntity])
        }
    }

    // MARK: Automata

    /// Bit mask of `NumberDescription`s whose pattern fully matches `digits` (no length check).
    func descriptionMatches(_ digits: DigitString, entity: Int) -> UInt16 {
        var state = Int(entities[entity].numberTypeStart)
        for digit in digits {
            state = Int(transitions[state &* 10 &+ Int(digit)])
            if state == 0 { return 0 }
        }
        return labels[state]
    }

    /// `_match_national_number(digits, general_desc)`: the general pattern alone, without possible lengths.
    func matchesGeneralPattern(_ digits: DigitString, entity: Int) -> Bool {
        descriptionMatches(digits, entity: entity) & NumberDescription.general != 0
    }

    /// `re.match` of a prefix pattern: the action of the path Python's backtracking would pick, if any.
    func prefixAction(start: UInt32, _ digits: DigitString) -> PrefixAction? {
        guard start != 0 else { return nil }
        var state = Int(start)
        var label = labels[state]
        var index = digits.startIndex
        while label & Self.prefixTerminalBit == 0, index < digits.endIndex {
            state = Int(transitions[state &* 10 &+ Int(digits[index])])
            if state == 0 { return nil }
            label = labels[state]
            index += 1
        }
        let action = Int(label & ~Self.prefixTerminalBit)
        return action == 0 ? nil : actions[action - 1]
    }

    // MARK: Lengths and types

    /// `_test_number_length(number, metadata)` for the general description.
    func lengthCheck(_ length: Int, entity: Int) -> LengthCheck {
        lengthChecks[entity * Self.lengthCheckSlots + min(length, Self.lengthCheckSlots - 1)]
    }

    /// `_number_type_helper`: the type of a national significant number in one region.
    func numberType(_ digits: DigitString, entity: Int) -> PhoneNumberType {
        guard digits.count <= Self.maxNationalNumberLength else { return .unknown }
        let matched =
            descriptionMatches(digits, entity: entity)
            & possibleLengthMasks[entity * (Self.maxNationalNumberLength + 1) + digits.count]
        guard matched & NumberDescription.general != 0 else { return .unknown }
        if matched & NumberDescription.premiumRate != 0 { return .premiumRate }
        if matched & NumberDescription.tollFree != 0 { return .tollFree }
        if matched & NumberDescription.sharedCost != 0 { return .sharedCost }
        if matched & NumberDescription.voip != 0 { return .voip }
        if matched & NumberDescription.personalNumber != 0 { return .personalNumber }
        if matched & NumberDescription.pager != 0 { return .pager }
        if matched & NumberDescription.uan != 0 { return .uan }
        if matched & NumberDescription.voicemail != 0 { return .voicemail }
        let sameMobileAndFixedLine = entities[entity].sameMobileAndFixedLinePattern
        if matched & NumberDescription.fixedLine != 0 {
            return sameMobileAndFixedLine || matched & NumberDescription.mobile != 0 ? .fixedLineOrMobile : .fixedLine
        }
        return !sameMobileAndFixedLine && matched & NumberDescription.mobile != 0 ? .mobile : .unknown
    }

    // MARK: Country calling codes

    /// Positions in `countryCodeMembers` of the entities sharing `countryCode`, main region first.
    func members(ofCountryCode countryCode: Int) -> Range<Int> {
        guard countryCode > 0, countryCode < countryCodeSlots.count else { return 0..<0 }
        let slot = Int(countryCodeSlots[countryCode])
        return (slot >> 8)..<((slot >> 8) + (slot & 0xFF))
    }

    /// `region_code_for_country_code`'s entity: the main region (or the non-geographic entity).
    func mainEntity(ofCountryCode countryCode: Int) -> Int? {
        let members = members(ofCountryCode: countryCode)
        return members.isEmpty ? nil : Int(countryCodeMembers[members.lowerBound])
    }

    /// `_extract_country_code`: a known code of 1-3 digits at the start (never starting with 0).
    func leadingCountryCode(_ digits: DigitString) -> (code: Int, length: Int)? {
        guard let first = digits.first, first != 0 else { return nil }
        var code = 0
        for length in 1...min(3, digits.count) {
            code = code * 10 + Int(digits[digits.startIndex + length - 1])
            if countryCodeSlots[code] != 0 { return (code, length) }
        }
        return nil
    }

    // MARK: Prefix stripping

    /// `_maybe_strip_national_prefix_carrier_code`: strips (or transforms) the national prefix and carrier code
    /// unless that turns a number matching the general pattern into one that does not. A transformed number is
    /// written to `scratch`.
    func strippingNationalPrefix(
        _ digits: DigitString, entity: Int, scratch: UnsafeMutableBufferPointer<UInt8>
    ) -> DigitString {
        guard !digits.isEmpty,
            let action = prefixAction(start: entities[entity].nationalPrefixStart, digits)
        else { return digits }
        let stripped: DigitString
        if action.transforms {
            var count = 0
            for digit in actionLiterals[action.literal] {
                scratch[count] = digit
                count += 1
            }
            let base = digits.startIndex
            for digit in digits[(base + action.groupStart)..<(base + action.groupEnd)] {
                scratch[count] = digit
                count += 1
            }
            for digit in digits.dropFirst(action.matchLength) {
                scratch[count] = digit
                count += 1
            }
            stripped = DigitString(rebasing: scratch[..<count])
        } else {
            stripped = digits.dropping(action.matchLength)
        }
        if matchesGeneralPattern(digits, entity: entity) && !matchesGeneralPattern(stripped, entity: entity) {
            return digits
        }
        return stripped
    }

    /// `_maybe_extract_country_code`: the country calling code written in `digits` (after `+`, after the default
    /// region's international prefix, or the default region's own code written without `+`), and the rest.
    func extractCountryCode(
        _ digits: DigitString, afterPlus: Bool, defaultEntity: Int?, scratch: UnsafeMutableBufferPointer<UInt8>
    ) throws(PhoneNumberError) -> (code: Int, nationalNumber: DigitString)? {
        var number = digits
        var international = afterPlus
        if !afterPlus, let defaultEntity,
            let idd = prefixAction(start: entities[defaultEntity].internationalPrefixStart, digits)
        {
            // Country calling codes never start with 0, so "IDD + 0..." is not an international number.
            if idd.matchLength == digits.count || digits[digits.startIndex + idd.matchLength] != 0 {
                number = digits.dropping(idd.matchLength)
                international = true
            }
        }
        if international {
            guard number.count > 2 else { throw .tooShort }
            guard let (code, length) = leadingCountryCode(number) else { throw .unknownCountryCode }
            return (code, number.dropping(length))
        }
        guard let defaultEntity else { return nil }
        let code = entities[defaultEntity].countryCode
        guard number.hasPrefix(code) else { return nil }
        let codeLength = code >= 100 ? 3 : code >= 10 ? 2 : 1
        let potential = strippingNationalPrefix(number.dropping(codeLength), entity: defaultEntity, scratch: scratch)
        let betterWithoutCode =
            !matchesGeneralPattern(number, entity: defaultEntity)
            && matchesGeneralPattern(potential, entity: defaultEntity)
        guard betterWithoutCode || lengthCheck(number.count, entity: defaultEntity) == .tooLong else { return nil }
        return (code, potential)
    }

    // MARK: Regions

    /// `region_code_for_number`: the only member, else the first whose leading digits match or that accepts the
    /// number as a valid number.
    func regionEntity(_ nationalNumber: DigitString, countryCode: Int) -> Int? {
        let members = members(ofCountryCode: countryCode)
        if members.count == 1 { return Int(countryCodeMembers[members.lowerBound]) }
        for member in members.lazy.map({ Int(self.countryCodeMembers[$0]) }) {
            let leadingDigits = entities[member].leadingDigitsStart
            if leadingDigits != 0 {
                if prefixAction(start: leadingDigits, nationalNumber) != nil { return member }
            } else if numberType(nationalNumber, entity: member) != .unknown {
                return member
            }
        }
        return nil
    }
}
