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
    /// - Complexity: O(n) in the text's Unicode scalars, one pass, no allocation.
    public static func count(_ text: some StringProtocol) -> SegmentCount {
        var cutter = PartCutter()
        for scalar in text.unicodeScalars {
            cutter.add(scalar)
        }
        return cutter.count
    }

    /// The parts `text` is sent as; a single part when it fits one message, `[""]` for empty text.
    ///
    /// - Complexity: O(n) in the text's Unicode scalars.
    public static func split(_ text: String) -> [Substring] {
        let count = count(text)
        let scalars = text.unicodeScalars
        guard count.segments > 1 else { return [text[...]] }
        var parts: [Substring] = []
        parts.reserveCapacity(count.segments)
        var partStart = scalars.startIndex
        var used = 0
        var index = scalars.startIndex
        while index != scalars.endIndex {
            let scalar = scalars[index]
            let cost = count.encoding == .gsm7 ? GSMAlphabet.septets(for: scalar) : scalar.utf16.count
            if used + cost > count.encoding.partCapacity {
                parts.append(text[partStart..<index])
                partStart = index
                used = 0
            }
            used += cost
            index = scalars.index(after: index)
        }
        parts.append(text[partStart..<scalars.endIndex])
        return parts
    }
}

/// Counts units and greedy parts for both encodings in one pass, since the encoding is known only at the end.
struct PartCutter {
    private var isGSM = true
    private var septets = 0
    private var utf16Units = 0
    private var gsmParts = 1, gsmUsed = 0
    private var ucsParts = 1, ucsUsed = 0

    @inline(__always)
    mutating func add(_ scalar: Unicode.Scalar) {
        let width = scalar.value > 0xFFFF ? 2 : 1
        utf16Units += width
        if ucsUsed + width > SMSEncoding.ucs2.partCapacity {
            ucsParts += 1
            ucsUsed = 0
        }
        ucsUsed += width
        guard isGSM else { return }
        let cost = GSMAlphabet.septets(for: scalar)
        if cost == 0 {
            isGSM = false
            return
        }
        septets += cost
        if gsmUsed + cost > SMSEncoding.gsm7.partCapacity {
            gsmParts += 1
            gsmUsed = 0
        }
        gsmUsed += cost
    }

    var count: SegmentCount {
        if isGSM {
            return SegmentCount(encoding: .gsm7, units: septets, segments: septets <= 160 ? 1 : gsmParts)
        }
        return SegmentCount(encoding: .ucs2, units: utf16Units, segments: utf16Units <= 70 ? 1 : ucsParts)
    }
}
