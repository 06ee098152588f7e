/// libphonenumber's metadata, decoded once from `PhoneTables+Generated.swift`.
///
/// All automata share one transition table: 10 entries (digits 0-9) per state, state 0 is the dead state.
/// Number-type automata label a state with the bit mask of descriptions (`NumberDescription`) whose pattern
/// fully matches the digits read so far. Prefix automata (international prefix, national prefix for parsing,
/// leading digits) follow Python's leftmost-first `re.match`: their labels hold `prefixTerminalBit` when
/// no further digit can change the outcome, and in the low bits the matched `PrefixAction` index + 1.
final class PhoneMetadataTables: Sendable {
    /// The decoded tables, built on first use.
    static let shared = PhoneMetadataTables(decoding: encoded)

    static let prefixTerminalBit: UInt16 = 0x8000
    /// Possible-length masks are stored for national numbers of 0...maxNationalNumberLength digits.
    static let maxNationalNumberLength = 17
    /// Length checks are stored for 0...(lengthCheckSlots - 1) digits; longer numbers use the last slot.
    static let lengthCheckSlots = 21

    let transitions: [UInt32]
    let labels: [UInt16]
    let actions: [PrefixAction]
    let actionLiterals: [UInt8]
    let entities: [PhoneEntity]
    let regionCodes: [String]
    let timeZones: [String?]
    /// `possibleLengthMasks[entity * (maxNationalNumberLength + 1) + length]`: descriptions allowing `length`.
    let possibleLengthMasks: [UInt16]
    /// `lengthChecks[entity * lengthCheckSlots + length]`: libphonenumber's `_test_number_length` result.
    let lengthChecks: [LengthCheck]
    /// Entity indices per country calling code, main region first.
    let countryCodeMembers: [UInt16]
    /// For country calling code `c`: `countryCodeSlots[c]` = start in `countryCodeMembers` << 8 | member count.
    let countryCodeSlots: [UInt32]
    /// Entity index + 1 of geographic region "AB" at `(A - 65) * 26 + (B - 65)`, 0 if none.
    let regionSlots: [UInt16]
    /// Code points of the zero of every block of Unicode decimal digits, ascending.
    let decimalDigitZeros: [UInt32]

    /// Decodes the generator's stream; the layout is written by `build_tables` in `scripts/gen-phone-tables.py`.
    init(decoding encoded: StaticString) {
        var reader = TableReader(bytes: encoded.withUTF8Buffer { Base64.decode($0) })

        var transitions: [UInt32] = Array(repeating: 0, count: 10)
        var labels: [UInt16] = [0]
        let dfaCount = reader.next()
        var dfaStarts: [UInt32] = [0]
        dfaStarts.reserveCapacity(dfaCount + 1)
        for _ in 0..<dfaCount {
            let base = labels.count
            dfaStarts.append(UInt32(base))
            for _ in 0..<reader.next() {
                labels.append(UInt16(reader.next()))
                for _ in 0..<reader.next() {
                    let runLength = reader.next()
                    let target = reader.next()
                    let global = target == 0 ? 0 : UInt32(base + target - 1)
                    transitions.append(contentsOf: repeatElement(global, count: runLength))
                }
            }
        }

        var actions: [PrefixAction] = []
        var actionLiterals: [UInt8] = []
        for _ in 0..<reader.next() {
            if reader.next() == 0 {
                actions.append(
                    PrefixAction(
                        matchLength: reader.next(), transforms: false, groupStart: 0, groupEnd: 0, literal: 0..<0))
            } else {
                let matchLength = reader.next()
                let groupStart = reader.next()
                let groupEnd = reader.next()
                let literalStart = actionLiterals.count
                actionLiterals.append(contentsOf: reader.text().utf8.map { $0 &- UInt8(ascii: "0") })
                actions.append(
                    PrefixAction(
                        matchLength: matchLength, transforms: true, groupStart: groupStart, groupEnd: groupEnd,
                        literal: literalStart..<actionLiterals.count))
            }
        }

        let zoneNames = (0..<reader.next()).map { _ in reader.text() }

        var entities: [PhoneEntity] = []
        var regionCodes: [String] = []
        var timeZones: [String?] = []
        var possibleLengthMasks: [UInt16] = []
        var lengthChecks: [LengthCheck] = []
        var regionSlots = [UInt16](repeating: 0, count: 26 * 26)
        for index in 0..<reader.next() {
            let region = reader.text()
            let countryCode = reader.next()
            let numberType = dfaStarts[reader.next()]
            let internationalPrefix = dfaStarts[reader.next()]
            let nationalPrefix = dfaStarts[reader.next()]
            let leadingDigits = dfaStarts[reader.next()]
            let sameMobileAndFixedLine = reader.next() != 0
            let zone = reader.next()
            entities.append(
                PhoneEntity(
                    countryCode: countryCode, numberTypeStart: numberType,
                    internationalPrefixStart: internationalPrefix,
                    nationalPrefixStart: nationalPrefix, leadingDigitsStart: leadingDigits,
                    sameMobileAndFixedLinePattern: sameMobileAndFixedLine))
            regionCodes.append(region)
            timeZones.append(zone == 0 ? nil : zoneNames[zone - 1])
            for _ in 0...Self.maxNationalNumberLength {
                possibleLengthMasks.append(UInt16(reader.next()))
            }
            for _ in 0..<Self.lengthCheckSlots {
                lengthChecks.append(LengthCheck(rawValue: UInt8(reader.next()))!)
            }
            if let slot = Self.regionSlot(region.utf8) {
                regionSlots[slot] = UInt16(index + 1)
            }
        }

        var countryCodeMembers: [UInt16] = []
        var countryCodeSlots = [UInt32](repeating: 0, count: 1000)
        for _ in 0..<reader.next() {
            let code = reader.next()
            let count = reader.next()
            countryCodeSlots[code] = UInt32(countryCodeMembers.count) << 8 | UInt32(count)
            for _ in 0..<count {
                countryCodeMembers.append(UInt16(reader.next()))
            }
        }

        let decimalDigitZeros = (0..<reader.next()).map { _ in UInt32(reader.next()) }
        precondition(reader.isAtEnd, "phone tables: trailing data")

        (self.transitions, self.labels, self.actions, self.actionLiterals) =
            (transitions, labels, actions, actionLiterals)
        (self.entities, self.regionCodes, self.timeZones) = (entities, regionCodes, timeZones)
        (self.possibleLengthMasks, self.lengthChecks) = (possibleLengthMasks, lengthChecks)
        (self.countryCodeMembers, self.countryCodeSlots, self.regionSlots) =
            (countryCodeMembers, countryCodeSlots, regionSlots)
        self.decimalDigitZeros = decimalDigitZeros
    }
}

/// One region, or one non-geographic entity (region "001") of a country calling code.
struct PhoneEntity: Sendable {
    let countryCode: Int
    let numberTypeStart: UInt32
    let internationalPrefixStart: UInt32
    let nationalPrefixStart: UInt32
    let leadingDigitsStart: UInt32
    let sameMobileAndFixedLinePattern: Bool
}

/// What a matched prefix pattern does to the national number.
struct PrefixAction: Sendable {
    /// Number of digits matched.
    let matchLength: Int
    /// Whether the match is replaced by `literal + digits[groupStart..<groupEnd]` (a transform rule).
    let transforms: Bool
    let groupStart: Int
    let groupEnd: Int
    /// Range of the transform rule's literal digits in `PhoneMetadataTables.actionLiterals`.
    let literal: Range<Int>
}

/// Bits of a number-type automaton label; the order matches the generator's `DESCS`.
enum NumberDescription {
    static let general: UInt16 = 1 << 0
    static let fixedLine: UInt16 = 1 << 1
    static let mobile: UInt16 = 1 << 2
    static let tollFree: UInt16 = 1 << 3
    static let premiumRate: UInt16 = 1 << 4
    static let sharedCost: UInt16 = 1 << 5
    static let voip: UInt16 = 1 << 6
    static let personalNumber: UInt16 = 1 << 7
    static let pager: UInt16 = 1 << 8
    static let uan: UInt16 = 1 << 9
    static let voicemail: UInt16 = 1 << 10
}

/// Result of libphonenumber's `_test_number_length` for the general description.
enum LengthCheck: UInt8, Sendable {
    case possible, possibleLocalOnly, tooShort, tooLong, invalidLength
}

extension PhoneMetadataTables {
    /// Index into `regionSlots` for a two-letter region code (either case), or nil.
    static func regionSlot(_ code: some Collection<UInt8>) -> Int? {
        guard code.count == 2 else { return nil }
        var slot = 0
        for byte in code {
            let letter = byte & 0xDF  // ASCII upper case
            guard letter >= UInt8(ascii: "A"), letter <= UInt8(ascii: "Z"), byte & 0x80 == 0 else { return nil }
            slot = slot * 26 + Int(letter - UInt8(ascii: "A"))
        }
        return slot
    }

    /// The geographic entity for a region code such as "CN" or "cn".
    func entity(forRegion region: String) -> Int? {
        guard let slot = Self.regionSlot(region.utf8), regionSlots[slot] != 0 else { return nil }
        return Int(regionSlots[slot]) - 1
    }
}

/// Reads unsigned LEB128 integers and length-prefixed ASCII strings.
private struct TableReader {
    let bytes: [UInt8]
    var offset = 0

    var isAtEnd: Bool { offset == bytes.count }

    mutating func next() -> Int {
        var value = 0
        var shift = 0
        while true {
            let byte = bytes[offset]
            offset += 1
            value |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    mutating func text() -> String {
        let count = next()
        defer { offset += count }
        return String(decoding: bytes[offset..<offset + count], as: UTF8.self)
    }
}
