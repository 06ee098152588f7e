/// A JSON document: what a gateway answers, a receipt's body. Numbers keep their literal text. Not `indirect`: the
/// arrays hold the nesting, and a scalar's payload stays inline instead of in a box of its own.
public enum JSONValue: Sendable, Hashable {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([Member])

    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue
    }

    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public var offset: Int
        public var message: String
        public var description: String { "column \(offset + 1): \(message)" }
    }

    /// Whether `bytes`, after white space, open an object or an array: how a webhook body is told from a form, and a
    /// gateway's answer from plain text, without parsing them.
    public static func opensContainer(_ bytes: some Sequence<UInt8>) -> Bool {
        let first = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }

    /// Parses one JSON value, nested at most `maxDepth` levels.
    /// - Throws: `ParseError` with the byte offset and what was wrong.
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = 32) throws(ParseError) -> JSONValue {
        var reader = Reader(Array(bytes), maxDepth: maxDepth)
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.position == reader.bytes.count else { throw reader.fail("unexpected text after the value") }
        return value
    }

    /// The value at a dotted path of object keys and array indexes (`data.id`, `messages.0.status`).
    public subscript(path path: String) -> JSONValue? {
        var current = self
        var rest = path[...]
        while true {  // component by component, without an array of them: this runs for every gateway answer
            let end = rest.firstIndex(of: ".") ?? rest.endIndex
            let component = rest[..<end]
            switch current {
            case _ where component.isEmpty:  // `a..b`, a leading or a trailing dot
                break
            case .object(let members):
                guard let member = members.first(where: { $0.key == component }) else { return nil }
                current = member.value
            case .array(let elements):
                guard let index = Int(component), elements.indices.contains(index) else { return nil }
                current = elements[index]
            default:
                return nil
            }
            guard end < rest.endIndex else { return current }
            rest = rest[rest.index(after: end)...]
        }
    }

    /// A scalar as text: strings as they are, numbers and booleans as written; nil for null, arrays and objects.
    public var text: String? {
        switch self {
        case .string(let text), .number(let text): text
        case .bool(let flag): flag ? "true" : "false"
        case .null, .array, .object: nil
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        let maxDepth: Int

        init(_ bytes: [UInt8], maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
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

        mutating func value(depth: Int) throws(ParseError) -> JSONValue {
            skipSpace()
            guard position < bytes.count else { throw fail("expected a value") }
            switch bytes[position] {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            default: return .number(try number())
            }
        }

        mutating func object(depth: Int) throws(ParseError) -> JSONValue {
            guard depth <= maxDepth else { throw fail("nested too deeply") }
            position += 1
            var members: [Member] = []
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            }
            while true {
                skipSpace()
                let key = try string()
                try expect(UInt8(ascii: ":"), "':'")
                members.append(Member(key: key, value: try value(depth: depth)))
                skipSpace()
                guard position < bytes.count else { throw fail("unterminated object") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                try expect(UInt8(ascii: "}"), "',' or '}'")
                return .object(members)
            }
        }

        mutating func array(depth: Int) throws(ParseError) -> JSONValue {
            guard depth <= maxDepth else { throw fail("nested too deeply") }
            position += 1
            var elements: [JSONValue] = []
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            }
            while true {
                elements.append(try value(depth: depth))
                skipSpace()
                guard position < bytes.count else { throw fail("unterminated array") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                try expect(UInt8(ascii: "]"), "',' or ']'")
                return .array(elements)
            }
        }

        mutating func literal(_ word: StaticString) throws(ParseError) {
            let matches = word.withUTF8Buffer { bytes[position...].starts(with: $0) }
            guard matches else { throw fail("invalid value") }
            position += word.utf8CodeUnitCount
        }

        mutating func number() throws(ParseError) -> String {
            let start = position
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            var digits = 0
            while position < bytes.count {
                let byte = bytes[position]
                if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                    digits += 1
                } else if ![
                    UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"),
                    UInt8(ascii: "-"),
                ].contains(byte) {
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
            // Most strings have no escape: their text is their bytes, made into a string without a buffer.
            let start = position
            while position < bytes.count, bytes[position] >= 0x20, bytes[position] != UInt8(ascii: "\""),
                bytes[position] != UInt8(ascii: "\\")
            {
                position += 1
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "\"") {
                position += 1
                guard let text = String(validating: bytes[start..<position - 1], as: UTF8.self) else {
                    throw fail("invalid UTF-8")
                }
                return text
            }
            var utf8 = Array(bytes[start..<position])
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

/// Reads one JSON object whose values are scalars, as a recipient row of a JSON Lines file is written:
/// strings stay strings, numbers and booleans keep their literal text, `null` is left out.
///
/// Nested objects and arrays are refused: a recipient's fields are flat, and a template variable is a name.
public enum FlatJSONObject {
    /// Parses `bytes` as one flat JSON object.
    /// - Throws: `JSONValue.ParseError` with the byte offset and what was wrong.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONValue.ParseError) -> [(
        key: String, value: String
    )] {
        guard case .object(let members) = try JSONValue.parse(bytes, maxDepth: 2) else {
            throw JSONValue.ParseError(offset: 0, message: "expected '{'")
        }
        var flat: [(key: String, value: String)] = []
        flat.reserveCapacity(members.count)
        for member in members {
            switch member.value {
            case .null: continue
            case .array, .object:
                throw JSONValue.ParseError(
                    offset: 0, message: "'\(member.key)': nested objects and arrays are not supported; use flat fields")
            default: flat.append((member.key, member.value.text!))
            }
        }
        return flat
    }
}
