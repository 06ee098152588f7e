/// How an SMS carries its text.
public enum SMSEncoding: String, Sendable, Hashable, CaseIterable {
    /// GSM 03.38 default alphabet, 7 bits a character.
    case gsm7 = "GSM-7"
    /// UCS-2 (UTF-16 code units), for everything GSM-7 cannot carry.
    case ucs2 = "UCS-2"

    /// Units a single-part message holds: 160 septets or 70 UTF-16 units.
    public var singleCapacity: Int { self == .gsm7 ? 160 : 70 }
    /// Units each part of a concatenated message holds, after the 6-byte concatenation header: 153 or 67.
    public var partCapacity: Int { self == .gsm7 ? 153 : 67 }
}

/// What a text costs as SMS: its encoding, its length in that encoding's units and its segment count.
public struct SegmentCount: Sendable, Hashable {
    public var encoding: SMSEncoding
    /// Septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2.
    public var units: Int
    public var segments: Int

    public init(encoding: SMSEncoding, units: Int, segments: Int) {
        self.encoding = encoding
        self.units = units
        self.segments = segments
    }
}

/// The segmenting rule of the industry (3GPP TS 23.040 concatenation, GSM 03.38 alphabet).
///
/// GSM-7 when every character is in the basic or extension table: 160 septets single, 153 per part, an escape
/// pair never split. Otherwise UCS-2: 70 UTF-16 units single, 67 per part, a surrogate pair never split. Parts
/// are cut greedily, and joined they give back the text.
///
/// ```swift
/// Segmenter.count("您拍下的宝贝还未付款")  // UCS-2, 10 units, 1 segment
/// Segmenter.split(String(repeating: "a", count: 161)).map(\.count)  // [153, 8]
/// ```
public enum Segmenter {
    /// The encoding, units and segments of `text`, without building the parts.
    ///
    /// - Complexity: O(n) in the text's UTF-8 bytes, no allocation. Texts longer than one message take a second
    ///   pass to cut parts.
    public static func count(_ text: some StringProtocol) -> SegmentCount {
        let length = text.utf8.withContiguousStorageIfAvailable(UnitCount.init) ?? UnitCount(Array(text.utf8))
        let encoding: SMSEncoding = length.isGSM ? .gsm7 : .ucs2
        let units = length.isGSM ? length.septets : length.utf16Units
        guard units > encoding.singleCapacity else {
            return SegmentCount(encoding: encoding, units: units, segments: 1)
        }
        var cutter = PartCutter(encoding: encoding)
        for scalar in text.unicodeScalars {
            cutter.add(scalar)
        }
        return SegmentCount(encoding: encoding, units: units, segments: cutter.parts)
    }

    /// The parts `text` is sent as; a single part when it fits one message, `[""]` for empty text.
    ///
    /// - Complexity: O(n) in the text's Unicode scalars.
    public static func split(_ text: String) -> [Substring] {
        let count = count(text)
        guard count.segments > 1 else { return [text[...]] }
        let scalars = text.unicodeScalars
        var parts: [Substring] = []
        parts.reserveCapacity(count.segments)
        var cutter = PartCutter(encoding: count.encoding)
        var partStart = scalars.startIndex
        for index in scalars.indices where cutter.add(scalars[index]) {
            parts.append(text[partStart..<index])
            partStart = index
        }
        parts.append(text[partStart...])
        return parts
    }

}

/// A text's length in both encodings, from its UTF-8 bytes: scalars are decoded only while the text may still be
/// GSM-7; after that, UTF-16 units are counted from lead bytes alone.
struct UnitCount {
    private(set) var isGSM = true
    private(set) var septets = 0
    private(set) var utf16Units = 0

    init(_ utf8: UnsafeBufferPointer<UInt8>) {
        var index = 0
        while isGSM, index < utf8.count {
            let lead = utf8[index]
            if lead < 0x80 {
                utf16Units += 1
                add(septets: Int(GSMAlphabet.asciiCost[Int(lead)]))
                index += 1
                continue
            }
            let width = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
            utf16Units += width == 4 ? 2 : 1
            var value = UInt32(lead) & (0xFF >> (width + 1))
            for offset in 1..<width where index + offset < utf8.count {
                value = value << 6 | UInt32(utf8[index + offset] & 0x3F)
            }
            add(septets: Unicode.Scalar(value).map(GSMAlphabet.septets(for:)) ?? 0)
            index += width
        }
        // The rest in one branch-free pass: a unit per lead byte, and one more for a scalar beyond the BMP.
        for byte in utf8[index...] {
            utf16Units &+= (byte & 0xC0 != 0x80 ? 1 : 0) &+ (byte >= 0xF0 ? 1 : 0)
        }
    }

    init(_ bytes: [UInt8]) {
        self = bytes.withUnsafeBufferPointer(UnitCount.init)
    }

    private mutating func add(septets cost: Int) {
        if cost == 0 { isGSM = false } else { septets += cost }
    }
}

/// Counts the parts a text is cut into greedily, without splitting an escape or surrogate pair.
struct PartCutter {
    let encoding: SMSEncoding
    private(set) var parts = 1
    private var used = 0

    init(encoding: SMSEncoding) {
        self.encoding = encoding
    }

    /// Adds the next scalar; true when it starts a new part.
    @inline(__always)
    @discardableResult
    mutating func add(_ scalar: Unicode.Scalar) -> Bool {
        let cost = encoding == .gsm7 ? GSMAlphabet.septets(for: scalar) : (scalar.value > 0xFFFF ? 2 : 1)
        let startsPart = used + cost > encoding.partCapacity
        if startsPart {
            parts += 1
            used = 0
        }
        used += cost
        return startsPart
    }
}
