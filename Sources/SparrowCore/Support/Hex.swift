/// Bytes as hexadecimal text: signatures, concatenation headers.
enum Hex {
    static func string(_ bytes: some Sequence<UInt8>, uppercase: Bool = false) -> String {
        let digits: StaticString = uppercase ? "0123456789ABCDEF" : "0123456789abcdef"
        var text = ""
        text.reserveCapacity(bytes.underestimatedCount * 2)  // up to 7 bytes, a small string: no allocation
        digits.withUTF8Buffer { digits in
            for byte in bytes {
                text.unicodeScalars.append(Unicode.Scalar(digits[Int(byte >> 4)]))
                text.unicodeScalars.append(Unicode.Scalar(digits[Int(byte & 0xF)]))
            }
        }
        return text
    }
}
