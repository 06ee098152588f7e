import Testing

@testable import SparrowCore

@Suite struct SegmenterTests {
    static let basic: [Unicode.Scalar] = Array(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
            .unicodeScalars)
    static let extensionTable: [Unicode.Scalar] = Array("\u{0C}^{}\\[~]|€".unicodeScalars)

    @Test(arguments: [
        ("", SMSEncoding.gsm7, 0, 1),
        ("hello", .gsm7, 5, 1),
        (String(repeating: "a", count: 160), .gsm7, 160, 1),
        (String(repeating: "a", count: 161), .gsm7, 161, 2),
        (String(repeating: "a", count: 306), .gsm7, 306, 2),
        (String(repeating: "a", count: 307), .gsm7, 307, 3),
        ("{[€]}", .gsm7, 10, 1),
        (String(repeating: "€", count: 80), .gsm7, 160, 1),
        (String(repeating: "€", count: 81), .gsm7, 162, 2),  // 76 pairs fill 152 of a part's 153 septets
        ("a" + String(repeating: "€", count: 153), .gsm7, 307, 3),  // 1 + 76 pairs, 76 pairs, 1 pair
        ("您拍下的宝贝还未付款", .ucs2, 10, 1),
        (String(repeating: "您", count: 70), .ucs2, 70, 1),
        (String(repeating: "您", count: 71), .ucs2, 71, 2),
        (String(repeating: "您", count: 134), .ucs2, 134, 2),
        (String(repeating: "您", count: 135), .ucs2, 135, 3),
        ("😀", .ucs2, 2, 1),
        ("a`b", .ucs2, 3, 1),  // backtick is not in GSM 03.38
        ("tab\there", .ucs2, 8, 1),
        ("esc\u{1B}", .ucs2, 4, 1),  // ESC is the escape code, not a character
        ("€ and 您", .ucs2, 7, 1),  // an extension character costs 1 unit in UCS-2
    ])
    func counts(_ text: String, encoding: SMSEncoding, units: Int, segments: Int) {
        let count = Segmenter.count(text)
        #expect(count == SegmentCount(encoding: encoding, units: units, segments: segments))
        #expect(Segmenter.split(text).count == segments)
    }

    @Test func everyBasicCharacterCostsOneSeptet() {
        #expect(Self.basic.count == 127)  // the basic table without ESC
        for scalar in Self.basic {
            #expect(GSMAlphabet.septets(for: scalar) == 1, "\(scalar.escaped(asASCII: true))")
        }
        for scalar in Self.extensionTable {
            #expect(GSMAlphabet.septets(for: scalar) == 2, "\(scalar.escaped(asASCII: true))")
        }
    }

    @Test func everyOtherScalarBelowU3000IsNotGSM() {
        let gsm = Set(Self.basic + Self.extensionTable)
        for value in 0..<0x3000 {
            guard let scalar = Unicode.Scalar(value), !gsm.contains(scalar) else { continue }
            #expect(GSMAlphabet.septets(for: scalar) == 0, "U+\(String(value, radix: 16))")
        }
    }

    @Test func escapePairIsNeverSplit() {
        let text = String(repeating: "a", count: 152) + "€" + String(repeating: "b", count: 10)
        let parts = Segmenter.split(text)
        #expect(parts.map(\.count) == [152, 11])
        #expect(parts[1].first == "€")
    }

    @Test func surrogatePairIsNeverSplit() {
        let text = String(repeating: "您", count: 66) + "😀" + String(repeating: "好", count: 10)
        let parts = Segmenter.split(text)
        #expect(parts.map { $0.utf16.count } == [66, 12])
        #expect(parts[1].unicodeScalars.first == "😀")
    }

    /// Joined parts give back the text; every part fits its capacity; greedy cutting (no part could have taken the
    /// next scalar); the count agrees with a slow reference.
    @Test func randomTextsKeepTheInvariants() {
        var generator = SplitMix64(seed: 42)
        let alphabet: [Unicode.Scalar] = Self.basic + Self.extensionTable + ["您", "好", "😀", "é", "\u{1B}", "`"]
        for _ in 0..<3000 {
            let length = Int(generator.next() % 400)
            let gsmOnly = generator.next() % 2 == 0
            let pool = gsmOnly ? Self.basic + Self.extensionTable : alphabet
            var scalars = String.UnicodeScalarView()
            for _ in 0..<length { scalars.append(pool[Int(generator.next() % UInt64(pool.count))]) }
            let text = String(scalars)
            let parts = Segmenter.split(text)
            let count = Segmenter.count(text)
            #expect(parts.joined() == text)
            #expect(parts.count == count.segments)
            let cost: (Unicode.Scalar) -> Int = {
                count.encoding == .gsm7 ? GSMAlphabet.septets(for: $0) : $0.utf16.count
            }
            let unitsOf: (Substring) -> Int = { $0.unicodeScalars.reduce(0) { $0 + cost($1) } }
            #expect(parts.map(unitsOf).reduce(0, +) == count.units)
            let capacity = parts.count == 1 ? count.encoding.singleCapacity : count.encoding.partCapacity
            for (index, part) in parts.enumerated() {
                #expect(unitsOf(part) <= capacity)
                if index + 1 < parts.count, let next = parts[index + 1].unicodeScalars.first {
                    #expect(unitsOf(part) + cost(next) > capacity, "a part was cut early")
                }
            }
            let reference = text.unicodeScalars.allSatisfy { GSMAlphabet.septets(for: $0) > 0 }
            #expect((count.encoding == .gsm7) == reference)
        }
    }
}
