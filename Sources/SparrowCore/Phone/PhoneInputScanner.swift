/// Reads typed phone numbers the way libphonenumber's `_extract_possible_number` and `_is_viable_phone_number` do,
/// collecting the digit values into a buffer.
///
/// - Anything before the first digit or plus sign is ignored (e.g. "Tel: "); so are non-alphanumeric characters
///   at the end.
/// - After that, only decimal digits of any script (Python's `\d`), libphonenumber's punctuation (spaces, dashes,
///   dots, slashes, brackets, NBSP, ideographic space, ...) and a leading run of `+`/`＋` are accepted.
///   Letters (vanity numbers, extensions such as "ext. 12"), `#`, `*`, `,` and `;` make the input
///   `invalidCharacters`. So does a tilde extension ("~12" at the end, which libphonenumber strips as an
///   extension); other tildes are punctuation, as in Russia's "8~10" international prefix.
enum PhoneInputScanner {
    /// libphonenumber's `_MAX_INPUT_STRING_LENGTH`, in Unicode scalars.
    static let maxInputScalars = 250
    /// Inputs with more digits are `tooLong`; no parse can bring them down to 17 national digits.
    static let maxDigits = 64

    struct Scan {
        var digitCount: Int
        var hasPlus: Bool
        /// The number ends in a tilde extension, which libphonenumber would strip and Sparrow rejects.
        var hasExtension: Bool
    }

    private enum CharacterClass {
        case digit(UInt8)
        case plus
        /// libphonenumber's punctuation, ignored between digits. Spaces may precede an extension label,
        /// spaces and dashes may follow it, and a full stop may directly follow it.
        case separator(isSpace: Bool, isDash: Bool, isFullStop: Bool)
        /// `~` or `～`: punctuation, or the label of an extension.
        case tilde
        /// Letters, other numerals and `#`: never part of an accepted number, not even at its end.
        case rejected
        /// Other symbols and controls (tab, newline, `*`, `,`, `;`, `_`, ...): ignored before and after the number,
        /// rejected inside it.
        case junk
    }

    static func scan(
        _ bytes: UnsafeBufferPointer<UInt8>, into digits: UnsafeMutableBufferPointer<UInt8>,
        tables: PhoneMetadataTables
    ) throws(PhoneNumberError) -> Scan {
        if bytes.count > maxInputScalars, bytes.lazy.filter({ $0 & 0xC0 != 0x80 }).count > maxInputScalars {
            throw .tooLong
        }
        var inNumber = false
        var inPlusRun = false
        var hasPlus = false
        var hasInnerSeparator = false
        var pendingSeparator = false
        var pendingSpacesOnly = true
        var pendingJunk = false
        var hasInvalidCharacter = false
        var digitCount = 0
        var tildeExtension = TildeExtension()
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let character: CharacterClass
            let byte = bytes[index]
            if byte < 0x80 {
                character = classify(ascii: byte)
                index += 1
            } else {
                let (scalar, length) = decodeScalar(bytes, at: index)
                character = classify(scalar: scalar, tables: tables)
                index += length
            }
            switch character {
            case .digit(let value):
                if pendingJunk { hasInvalidCharacter = true }
                hasInnerSeparator = hasInnerSeparator || pendingSeparator
                (pendingSeparator, pendingSpacesOnly, pendingJunk) = (false, true, false)
                if digitCount < digits.count { digits[digitCount] = value }
                digitCount += 1
                inNumber = true
                inPlusRun = false
                tildeExtension.readDigit()
            case .plus where !inNumber:
                inNumber = true
                inPlusRun = true
                hasPlus = true
            case .plus where inPlusRun && !pendingSeparator:
                break
            case .separator(let isSpace, let isDash, let isFullStop):
                guard inNumber else { break }
                tildeExtension.readSeparator(isSpace: isSpace, isDash: isDash, isFullStop: isFullStop)
                pendingSeparator = true
                pendingSpacesOnly = pendingSpacesOnly && isSpace
            case .tilde:
                guard inNumber else { break }
                // _maybe_strip_extension only strips when the part before the label is a viable number; spaces
                // before the label belong to it.
                let pureDigits = !hasPlus && !hasInnerSeparator && pendingSpacesOnly
                tildeExtension.readLabel(prefixIsViable: digitCount >= 3 || (digitCount == 2 && pureDigits))
                pendingSeparator = true
                pendingSpacesOnly = false
            case .rejected:
                hasInvalidCharacter = hasInvalidCharacter || inNumber
            case .junk, .plus:
                pendingJunk = inNumber
            }
        }
        if digitCount == 0 { throw .empty }
        if hasInvalidCharacter { throw .invalidCharacters }
        if digitCount > maxDigits { throw .tooLong }
        guard digitCount >= 3 || (digitCount == 2 && !hasPlus && !hasInnerSeparator) else { throw .tooShort }
        return Scan(digitCount: digitCount, hasPlus: hasPlus, hasExtension: tildeExtension.isPresent)
    }

    /// Tracks whether the number ends in libphonenumber's ambiguous extension: "~" (or "～"), optionally "." (or
    /// "．"), spaces/NBSP/dashes, then 1-9 digits, with a viable number before the label. Separators and a label
    /// after the last digit are trailing characters that libphonenumber drops first.
    private struct TildeExtension {
        private enum Label {
            case justRead, beforeDigits, broken
        }

        /// A label with no digit after it yet.
        private var label: Label?
        private var labelPrefixIsViable = false
        /// Length of the digit run after the last label followed by digits; 0 when there is none.
        private var digitCount = 0
        private var digitRunEnded = false
        private var prefixIsViable = false

        var isPresent: Bool { prefixIsViable && (1...9).contains(digitCount) }

        mutating func readLabel(prefixIsViable: Bool) {
            label = .justRead
            labelPrefixIsViable = prefixIsViable
        }

        mutating func readSeparator(isSpace: Bool, isDash: Bool, isFullStop: Bool) {
            switch label {
            case .justRead?: label = isSpace || isDash || isFullStop ? .beforeDigits : .broken
            case .beforeDigits?: label = isSpace || isDash ? .beforeDigits : .broken
            case .broken?, nil: break
            }
            digitRunEnded = digitCount > 0
        }

        mutating func readDigit() {
            if let state = label {
                label = nil
                digitCount = state == .broken ? 0 : 1
                digitRunEnded = false
                prefixIsViable = labelPrefixIsViable
            } else if digitCount > 0 {
                digitCount = digitRunEnded ? 0 : digitCount + 1
            }
        }
    }

    private static func classify(ascii byte: UInt8) -> CharacterClass {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .digit(byte &- UInt8(ascii: "0"))
        case UInt8(ascii: "+"):
            return .plus
        case UInt8(ascii: " "):
            return .separator(isSpace: true, isDash: false, isFullStop: false)
        case UInt8(ascii: "-"):
            return .separator(isSpace: false, isDash: true, isFullStop: false)
        case UInt8(ascii: "."):
            return .separator(isSpace: false, isDash: false, isFullStop: true)
        case UInt8(ascii: "/"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "]"):
            return .separator(isSpace: false, isDash: false, isFullStop: false)
        case UInt8(ascii: "~"):
            return .tilde
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "#"):
            return .rejected
        default:
            return .junk
        }
    }

    private static func classify(scalar: UInt32, tables: PhoneMetadataTables) -> CharacterClass {
        switch scalar {
        case 0xFF0B:
            return .plus
        case 0xFF5E:
            return .tilde
        case 0x00A0:
            return .separator(isSpace: true, isDash: false, isFullStop: false)
        case 0xFF0E:
            return .separator(isSpace: false, isDash: false, isFullStop: true)
        case 0x00AD, 0x200B, 0x2010...0x2015, 0x2053, 0x2060, 0x2212, 0x223C, 0x3000, 0x30FC, 0xFF08, 0xFF09, 0xFF0D,
            0xFF0F, 0xFF3B, 0xFF3D:
            return .separator(isSpace: false, isDash: false, isFullStop: false)
        default:
            break
        }
        if let value = decimalDigitValue(scalar, zeros: tables.decimalDigitZeros) {
            return .digit(value)
        }
        guard let properties = Unicode.Scalar(scalar)?.properties else { return .junk }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber,
            .letterNumber, .otherNumber:
            return .rejected
        default:
            return .junk
        }
    }

    /// The value of a decimal digit of any script (Unicode category Nd, as of the generator's Unicode version).
    private static func decimalDigitValue(_ scalar: UInt32, zeros: [UInt32]) -> UInt8? {
        var low = 0
        var high = zeros.count
        while low < high {
            let middle = (low + high) / 2
            if zeros[middle] <= scalar { low = middle + 1 } else { high = middle }
        }
        guard low > 0, scalar - zeros[low - 1] < 10 else { return nil }
        return UInt8(scalar - zeros[low - 1])
    }

    /// Decodes the UTF-8 sequence at `index`; malformed bytes read as U+FFFD, one byte at a time.
    private static func decodeScalar(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (UInt32, Int) {
        let lead = UInt32(bytes[index])
        let length: Int
        let minimum: UInt32
        var value: UInt32
        switch lead {
        case 0xC2...0xDF: (length, minimum, value) = (2, 0x80, lead & 0x1F)
        case 0xE0...0xEF: (length, minimum, value) = (3, 0x800, lead & 0x0F)
        case 0xF0...0xF4: (length, minimum, value) = (4, 0x10000, lead & 0x07)
        default: return (0xFFFD, 1)
        }
        guard index + length <= bytes.endIndex else { return (0xFFFD, 1) }
        for offset in 1..<length {
            let continuation = UInt32(bytes[index + offset])
            guard continuation & 0xC0 == 0x80 else { return (0xFFFD, 1) }
            value = value << 6 | continuation & 0x3F
        }
        guard value >= minimum, value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else { return (0xFFFD, 1) }
        return (value, length)
    }
}
