/// The GSM 03.38 default alphabet: what a character costs in septets.
///
/// Characters of the basic table cost one septet; characters of the extension table cost two (the escape
/// code `0x1B` and the character's code). U+001B itself is the escape code, not a character, so it is not in
/// the alphabet: text that holds it must go as UCS-2.
public enum GSMAlphabet {
    /// Septets `scalar` costs in GSM-7: 1 (basic table), 2 (extension table), or 0 when GSM-7 cannot carry it.
    ///
    /// - Complexity: O(1).
    @inlinable
    public static func septets(for scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x80 {
            return Int(asciiCost[Int(value)])
        }
        switch value {
        case 0xA3, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0xD8, 0xF8, 0xC5, 0xE5,  // £ ¥ è é ù ì ò Ç Ø ø Å å
            0x394, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E,  // Δ Φ Γ Λ Ω Π Ψ Σ Θ Ξ
            0xC6, 0xE6, 0xDF, 0xC9, 0xA4, 0xA1, 0xC4, 0xD6, 0xD1, 0xDC, 0xA7,  // Æ æ ß É ¤ ¡ Ä Ö Ñ Ü §
            0xBF, 0xE4, 0xF6, 0xF1, 0xFC, 0xE0:  // ¿ ä ö ñ ü à
            return 1
        case 0x20AC:  // €
            return 2
        default:
            return 0
        }
    }

    /// Cost of each ASCII code point: 1 basic, 2 extension, 0 not in GSM 03.38.
    @usableFromInline
    static let asciiCost: [UInt8] = {
        var table = [UInt8](repeating: 1, count: 128)
        for control in 0..<0x20 where control != 0x0A && control != 0x0D {
            table[control] = 0  // only LF and CR are in the basic table; U+001B is the escape code itself
        }
        table[0x0C] = 2  // form feed is in the extension table
        table[0x60] = 0  // ` has no GSM code
        table[0x7F] = 0
        for scalar in "^{}\\[~]|".unicodeScalars {
            table[Int(scalar.value)] = 2
        }
        return table
    }()
}
