import Testing

@testable import SparrowCore

@Suite struct CSVParserTests {
    struct Parsed: Equatable {
        var line: Int
        var fields: [String]
        var overlong: Bool
    }

    static func parse(_ bytes: [UInt8], chunk: Int = .max, limit: Int = 1024) -> [Parsed] {
        var parser = CSVParser(maxRecordBytes: limit)
        var records: [Parsed] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + chunk)
            parser.consume(bytes[start..<end], isFinal: false) { record in
                records.append(
                    Parsed(
                        line: record.line, fields: record.fields.map { String(decoding: $0, as: UTF8.self) },
                        overlong: record.isOverlong))
            }
            start = end
        }
        parser.consume([], isFinal: true) { record in
            records.append(
                Parsed(
                    line: record.line, fields: record.fields.map { String(decoding: $0, as: UTF8.self) },
                    overlong: record.isOverlong))
        }
        return records
    }

    static let tricky = Array(
        "\u{FEFF}phone,name,note\r\n138,\"Wang, Fang\",\"said \"\"hi\"\"\"\r\n\r\n139,Li,\"two\nlines\"\n150,Zhao,last"
            .utf8)

    @Test func quotesCRLFBOMAndEmbeddedNewlines() {
        #expect(
            Self.parse(Self.tricky) == [
                Parsed(line: 1, fields: ["phone", "name", "note"], overlong: false),
                Parsed(line: 2, fields: ["138", "Wang, Fang", "said \"hi\""], overlong: false),
                Parsed(line: 4, fields: ["139", "Li", "two\nlines"], overlong: false),
                Parsed(line: 6, fields: ["150", "Zhao", "last"], overlong: false),
            ])
    }

    @Test func chunkBoundariesDoNotMatter() {
        let whole = Self.parse(Self.tricky)
        for chunk in 1...9 {
            #expect(Self.parse(Self.tricky, chunk: chunk) == whole, "chunk \(chunk)")
        }
    }

    /// Lines without quotes are read where they lie, others byte by byte: fed whole or a byte at a time, any text
    /// gives the same records, lines and raw bytes (a byte at a time, no line is ever whole in a chunk).
    @Test func linesReadWhereTheyLieMatchTheByteByBytePath() {
        var generator = SplitMix64(seed: 3)
        let alphabet = Array("a,b,\"\n\r é".utf8)
        func records(_ bytes: [UInt8], chunk: Int) -> [String] {
            var parser = CSVParser(maxRecordBytes: 12)
            var seen: [String] = []
            var start = 0
            repeat {
                let end = min(bytes.count, start + chunk)
                parser.consume(bytes[start..<end], isFinal: end == bytes.count) { record in
                    let fields = record.fields.map { String(decoding: $0, as: UTF8.self) }
                    seen.append("\(record.line) \(fields) \(Array(record.raw)) \(record.isOverlong)")
                }
                start = end
            } while start < bytes.count
            return seen
        }
        for _ in 0..<2_000 {
            let text = (0..<Int(generator.next() % 40)).map { _ in
                alphabet[Int(generator.next() % UInt64(alphabet.count))]
            }
            #expect(records(text, chunk: .max) == records(text, chunk: 1), "\(String(decoding: text, as: UTF8.self))")
        }
    }

    @Test func loneCRAndEmptyFields() {
        #expect(
            Self.parse(Array("a,b\r1,\r,2\r".utf8)) == [
                Parsed(line: 1, fields: ["a", "b"], overlong: false),
                Parsed(line: 2, fields: ["1", ""], overlong: false),
                Parsed(line: 3, fields: ["", "2"], overlong: false),
            ])
    }

    @Test func overlongRecordsAreCutAndSkipped() {
        let long = String(repeating: "x", count: 5000)
        let records = Self.parse(Array("a,b\n\(long),\"\(long)\n\(long)\"\n1,2\n".utf8), chunk: 100, limit: 1000)
        #expect(records.map(\.line) == [1, 2, 4])
        #expect(records.map(\.overlong) == [false, true, false])
        #expect(records[2].fields == ["1", "2"])
    }

    @Test func unterminatedQuoteEndsAtEndOfFile() {
        #expect(
            Self.parse(Array("a\n\"open,field".utf8)).last == Parsed(line: 2, fields: ["open,field"], overlong: false))
    }
}

@Suite struct RecipientReaderTests {
    static func read(_ text: [UInt8], format: RecipientFormat? = nil) throws -> [String] {
        var reader = RecipientReader(format: format, maxRowBytes: 256)
        var out: [String] = []
        try reader.consume(text[...], isFinal: true) { input in
            switch input {
            case .row(let row, _):
                out.append(
                    "\(row.line) "
                        + row.values.dictionary.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                            separator: " "))
            case .rejected(let rejection, let raw):
                out.append(
                    "\(rejection.line) \(rejection.reason.code) [\(String(decoding: raw, as: UTF8.self).prefix(20))]")
            }
        }
        return out
    }

    @Test func csvRowsRejectsAndReservedColumns() throws {
        var bytes = Array("Phone,Nick,TZ\n138,王,Asia/Tokyo\n139,,\n".utf8)
        bytes += [0x31, 0x35, 0x30, 0x2C, 0xFF, 0xFE, 0x0A]  // 150,<invalid UTF-8>
        bytes += Array("151,a,b,c\n152,\(String(repeating: "y", count: 300))\n153\n".utf8)
        #expect(
            try Self.read(bytes) == [
                "2 Nick=王 phone=138 tz=Asia/Tokyo",
                "3 phone=139",
                "4 invalid-utf8 [150,\u{FFFD}\u{FFFD}]",
                "5 malformed-row [151,a,b,c]",
                "6 row-too-long [152,yyyyyyyyyyyyyyyy]",
                "7 phone=153",
            ])
    }

    /// A column named twice fills the template with its last non-empty value.
    @Test func aRepeatedColumnKeepsItsLastValue() throws {
        #expect(
            try Self.read(Array("phone,n,N,n\n138,a,b,c\n139,a,b,\n".utf8)) == [
                "2 N=b n=c phone=138", "3 N=b n=a phone=139",
            ])
    }

    /// Every kind of ill-formed UTF-8 is refused, in any position of the field; well-formed text of every width,
    /// U+FFFD itself included, is kept as it was.
    @Test func invalidUTF8IsRejectedWherePresent() throws {
        let invalid: [[UInt8]] = [
            [0x80], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE7, 0x8E],
            [0xF0, 0x9F, 0x98], [0xFE],
        ]
        for bytes in invalid {
            for field in [bytes, Array("王".utf8) + bytes, bytes + Array("x".utf8)] {
                let row = Array("phone,n\n138,".utf8) + field + [0x0A]
                #expect(try Self.read(row).first?.hasPrefix("2 invalid-utf8") == true, "\(field)")
            }
        }
        let valid = "é王😀\u{FFFD}ok"
        #expect(try Self.read(Array("phone,n\n138,\(valid)\n".utf8)) == ["2 n=\(valid) phone=138"])
    }

    @Test func jsonLinesDetectedFromTheFirstByte() throws {
        let text =
            "\n{\"phone\":\"138\",\"n\":1,\"vip\":true,\"x\":null}\r\n\n{\"to\":\"\\u00e9\\ud83d\\ude00\"}\n{\"phone\":[1]}\nnot json\n"
        #expect(
            try Self.read(Array(text.utf8)) == [
                "2 n=1 phone=138 vip=true",
                "4 to=é😀",
                "5 malformed-row [{\"phone\":[1]}]",
                "6 malformed-row [not json]",
            ])
    }

    @Test func aHeaderWithoutPhoneIsAFileError() {
        #expect(throws: InputFileError.self) { try Self.read(Array("name,item\nWang,x\n".utf8)) }
        #expect(throws: InputFileError.self) { try Self.read([]) }
    }
}

@Suite struct JSONWriterTests {
    @Test func escapesAndKeyOrder() {
        var json = JSONWriter()
        json.object {
            $0.field("line", -12)
            $0.field("text", "a\"b\\c\nd\u{01}é")
            $0.nullField("reason")
            $0.field("parts") {
                $0.array {
                    $0.element("x"); $0.element("y")
                }
            }
            $0.field("ok", true)
        }
        #expect(
            String(decoding: json.bytes, as: UTF8.self)
                == #"{"line":-12,"text":"a\"b\\c\nd\u0001é","reason":null,"parts":["x","y"],"ok":true}"#)
    }
}
