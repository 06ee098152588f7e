/// Reads one JSON object whose values are scalars, as a recipient row of a JSON Lines file is written:
/// strings stay strings, numbers and booleans keep their literal text, `null` is left out.
///
/// Nested objects and arrays are refused: a recipient's fields are flat, and a template variable is a name.
public enum FlatJSONObject {
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public var offset: Int
        public var message: String
        public var description: String { "column \(offset + 1): \(message)" }
    }

    /// Parses `bytes` as one JSON object.
    /// - Throws: `ParseError` with the byte offset and what was wrong.
    public static func parse(_ bytes: some Collection<UInt8>) throws(ParseError) -> [(key: String, value: String)] {
        var reader = Reader(Array(bytes))
        return try reader.object()
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
        }

        func fail(_ message: String) -> ParseError { ParseError(offset: position, message: message) }

        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(ParseError) {
            skipSpace()
            guard position < bytes.count, bytes[position] == byte else { throw fail("expected \(what)") }
            position += 1
        }

        mutating func object() throws(ParseError) -> [(key: String, value: String)] {
            try expect(UInt8(ascii: "{"), "'{'")
            var members: [(key: String, value: String)] = []
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return try end(members)
            }
            while true {
                skipSpace()
                let key = try string()
                try expect(UInt8(ascii: ":"), "':'")
                if let value = try scalar() {
                    members.append((key, value))
                }
                skipSpace()
                guard position < bytes.count else { throw fail("unterminated object") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                try expect(UInt8(ascii: "}"), "',' or '}'")
                return try end(members)
            }
        }

        mutating func end(_ members: [(key: String, value: String)]) throws(ParseError) -> [(key: String, value: String)] {
            skipSpace()
            guard position == bytes.count else { throw fail("unexpected text after the object") }
            return members
        }

        mutating func scalar() throws(ParseError) -> String? {
            skipSpace()
            guard position < bytes.count else { throw fail("expected a value") }
            switch bytes[position] {
            case UInt8(ascii: "\""):
                return try string()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                throw fail("nested objects and arrays are not supported; use flat fields")
            case UInt8(ascii: "t"): return try literal("true")
            case UInt8(ascii: "f"): return try literal("false")
            case UInt8(ascii: "n"):
                _ = try literal("null")
                return nil
            default:
                return try number()
            }
        }

        mutating func literal(_ word: String) throws(ParseError) -> String {
            let expected = Array(word.utf8)
            guard bytes[position...].starts(with: expected) else { throw fail("invalid value") }
            position += expected.count
            return word
        }

        mutating func number() throws(ParseError) -> String {
            let start = position
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            var digits = 0
            while position < bytes.count {
                let byte = bytes[position]
                if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                    digits += 1
                } else if ![UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"),
                    UInt8(ascii: "-")].contains(byte)
                {
                    break
                }
                position += 1
            }
            guard digits > 0 else {
                position = start
                throw fail("invalid value")
            }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        mutating func string() throws(ParseError) -> String {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw fail("expected a string") }
            position += 1
            var utf8: [UInt8] = []
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: utf8, as: UTF8.self) else { throw fail("invalid UTF-8") }
                    return text
                case UInt8(ascii: "\\"):
                    try escape(into: &utf8)
                case 0..<0x20:
                    throw fail("control character in a string")
                default:
                    utf8.append(byte)
                }
            }
            throw fail("unterminated string")
        }

        mutating func escape(into utf8: inout [UInt8]) throws(ParseError) {
            guard position < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard bytes[position...].starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "u")]) else {
                        throw fail("unpaired surrogate")
                    }
                    position += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw fail("unpaired surrogate") }
                utf8.append(contentsOf: String(scalar).utf8)
            default:
                throw fail("invalid escape")
            }
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard position + 4 <= bytes.count else { throw fail("invalid \\u escape") }
            var code: UInt32 = 0
            for byte in bytes[position..<position + 4] {
                guard let digit = hexValue(byte) else { throw fail("invalid \\u escape") }
                code = code << 4 | digit
            }
            position += 4
            return code
        }

        func hexValue(_ byte: UInt8) -> UInt32? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
            default: nil
            }
        }
    }
}
