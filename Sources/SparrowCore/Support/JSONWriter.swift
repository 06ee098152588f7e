/// Writes JSON straight into a byte buffer: the one-line-per-row output of `plan`, the `segment` and `phone`
/// answers. Faster than `JSONEncoder` and with the key order the spec shows.
///
/// ```swift
/// var json = JSONWriter()
/// json.object { $0.field("line", 2); $0.field("to", "+8613800138000"); $0.nullField("reason") }
/// json.bytes  // {"line":2,"to":"+8613800138000","reason":null}
/// ```
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// Empties the buffer, keeping its storage.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    /// Ends a line of JSON Lines output.
    public mutating func newline() {
        bytes.append(UInt8(ascii: "\n"))
        needsComma = false
    }

    /// Writes `{`, the members `body` writes, and `}`.
    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        container(UInt8(ascii: "{"), UInt8(ascii: "}"), body)
    }

    /// Writes `[`, the elements `body` writes, and `]`.
    public mutating func array(_ body: (inout JSONWriter) -> Void) {
        container(UInt8(ascii: "["), UInt8(ascii: "]"), body)
    }

    private mutating func container(_ open: UInt8, _ close: UInt8, _ body: (inout JSONWriter) -> Void) {
        separate()
        bytes.append(open)
        needsComma = false
        body(&self)
        bytes.append(close)
        needsComma = true
    }

    public mutating func field(_ key: StaticString, _ value: String) {
        self.key(key)
        string(value)
    }

    public mutating func field(_ key: StaticString, _ value: Int) {
        self.key(key)
        int(value)
    }

    public mutating func field(_ key: StaticString, _ value: Bool) {
        self.key(key)
        bytes.append(contentsOf: value ? Array("true".utf8) : Array("false".utf8))
    }

    /// A string member, or `null` when `value` is nil.
    public mutating func field(_ key: StaticString, _ value: String?) {
        self.key(key)
        if let value { string(value) } else { null() }
    }

    /// A string member whose key is only known at run time.
    public mutating func field(named key: String, _ value: String) {
        separate()
        string(key)
        bytes.append(UInt8(ascii: ":"))
        string(value)
        needsComma = true
    }

    /// A number member, or `null` when `value` is nil; written in Swift's shortest round-tripping form.
    public mutating func field(_ key: StaticString, _ value: Double?) {
        self.key(key)
        if let value, value.isFinite { bytes.append(contentsOf: Array("\(value)".utf8)) } else { null() }
    }

    /// A member whose key is only known at run time, and whose value is written by `value`.
    public mutating func field(named key: String, _ value: (inout JSONWriter) -> Void) {
        separate()
        string(key)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
        value(&self)
        needsComma = true
    }

    public mutating func nullField(_ key: StaticString) {
        self.key(key)
        null()
    }

    /// A member whose value is written by `value`.
    public mutating func field(_ key: StaticString, _ value: (inout JSONWriter) -> Void) {
        self.key(key)
        needsComma = false
        value(&self)
        needsComma = true
    }

    public mutating func element(_ value: String) {
        separate()
        string(value)
        needsComma = true
    }

    /// Writes `value` whole: an element of an array, or the value of a member whose key was just written.
    package mutating func element(_ value: JSONValue) {
        switch value {
        case .array(let elements):
            array { array in for element in elements { array.element(element) } }
        case .object(let members):
            object { object in
                for member in members { object.field(named: member.key) { $0.element(member.value) } }
            }
        case .string(let text):
            element(text)
        case .number(let text):
            separate()
            bytes.append(contentsOf: text.utf8)
            needsComma = true
        case .bool(let flag):
            separate()
            bytes.append(contentsOf: (flag ? "true" : "false").utf8)
            needsComma = true
        case .null:
            separate()
            null()
            needsComma = true
        }
    }

    private mutating func key(_ key: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = true
    }

    // MARK: Fragments, for hot paths that write a fixed shape (keys and punctuation given whole, as `StaticString`)

    /// Appends `fragment` as it is: it must be valid JSON text in context (punctuation, keys, literals).
    public mutating func fragment(_ fragment: StaticString) {
        fragment.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends `value` as a JSON string.
    public mutating func fragment(string value: String) {
        string(value)
    }

    /// Appends `value` as a JSON string, or `null`.
    public mutating func fragment(string value: String?) {
        if let value { string(value) } else { null() }
    }

    /// Appends `value` as a JSON number.
    public mutating func fragment(int value: Int) {
        int(value)
    }

    /// Appends bytes as they are (already-formatted JSON).
    public mutating func fragment(bytes fragment: [UInt8]) {
        bytes.append(contentsOf: fragment)
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func null() {
        bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])  // null
    }

    private mutating func int(_ value: Int) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
        }
        var magnitude = value.magnitude
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") &+ UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) {
                bytes.append(buffer[index])
            }
        }
    }

    private mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var runStart = 0
            for (index, byte) in utf8.enumerated()
            where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                runStart = index + 1
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), byte])
                case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                default:
                    let hex: StaticString = "0123456789abcdef"
                    bytes.append(contentsOf: [
                        UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                    ])
                    hex.withUTF8Buffer { bytes.append(contentsOf: [$0[Int(byte >> 4)], $0[Int(byte & 0xF)]]) }
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
