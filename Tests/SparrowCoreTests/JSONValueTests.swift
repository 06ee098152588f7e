import Testing

@testable import SparrowCore

struct JSONValueTests {
    static let answer =
        #"{"data": {"id": "m-1", "parts": [{"id": "p-1"}, {"id": "p-2", "cost": 0.045}]}, "ok": true, "note": null}"#

    @Test func pathsReachObjectKeysAndArrayIndexes() throws {
        let answer = try JSONValue.parse(Self.answer.utf8)
        #expect(answer[path: "data.id"]?.text == "m-1")
        #expect(answer[path: "data.parts.1.id"]?.text == "p-2")
        #expect(answer[path: "data.parts.1.cost"]?.text == "0.045")  // numbers as written
        #expect(answer[path: "ok"]?.text == "true")
        #expect(answer[path: "note"] == .null)
        #expect(answer[path: "data.parts"]?.text == nil)  // not a scalar
    }

    @Test(arguments: [
        ("{}", true), (" \n\t[1]", true), ("{not json", true), ("", false), ("   ", false), ("a=1", false),
        ("\"x\"", false), ("OK", false),
    ])
    func aContainerIsToldByItsFirstByte(_ text: String, opens: Bool) {
        #expect(JSONValue.opensContainer(text.utf8) == opens)
    }

    @Test func missingStepsGiveNil() throws {
        let answer = try JSONValue.parse(Self.answer.utf8)
        #expect(answer[path: "data.missing"] == nil)
        #expect(answer[path: "data.parts.2.id"] == nil)
        #expect(answer[path: "data.parts.x"] == nil)
        #expect(answer[path: "data.id.more"] == nil)  // below a scalar
    }

    @Test func emptyComponentsAreSkipped() throws {
        let answer = try JSONValue.parse(Self.answer.utf8)
        #expect(answer[path: "data..id"]?.text == "m-1")
        #expect(answer[path: ".data.id."]?.text == "m-1")
        #expect(answer[path: ""] == answer)
    }

    @Test func stringsWithAndWithoutEscapes() throws {
        #expect(try JSONValue.parse(#""plain 文字""#.utf8) == .string("plain 文字"))
        #expect(try JSONValue.parse(#""ab\"c\\d\u00e9\n""#.utf8) == .string("ab\"c\\d\u{e9}\n"))
        #expect(try JSONValue.parse(#"{"k\u0065y": "v"}"#.utf8)[path: "key"] == .string("v"))
    }

    @Test func badStringsSayWhereAndWhy() {
        #expect(throws: JSONValue.ParseError(offset: 3, message: "control character in a string")) {
            try JSONValue.parse(Array(#""a\#u{09}b""#.utf8))
        }
        #expect(throws: JSONValue.ParseError(offset: 4, message: "invalid UTF-8")) {
            try JSONValue.parse([0x22, 0x61, 0xFF, 0x22])
        }
        #expect(throws: JSONValue.ParseError(offset: 4, message: "unterminated string")) {
            try JSONValue.parse(Array(#""abc"#.utf8))
        }
        #expect(throws: JSONValue.ParseError(offset: 6, message: "unterminated string")) {
            try JSONValue.parse(Array(#""ab\"c"#.utf8))
        }
    }
}

@Suite struct JSONValueBuildingTests {
    static func written(_ value: JSONValue) -> String {
        var json = JSONWriter()
        json.element(value)
        return String(decoding: json.bytes, as: UTF8.self)
    }

    @Test func pathsBuildObjectsAndArraysInOrder() {
        var document = JSONValue.object([])
        document.set(.string("a"), at: "messages.0.from")
        document.set(.string("b"), at: "messages.0.text")
        document.set(.array([.string("x")]), at: "messages.0.to")
        document.set(.number("2"), at: "messages.1.n")
        document.set(.bool(true), at: "flag")
        document.set(.null, at: "none")
        #expect(
            Self.written(document)
                == #"{"messages":[{"from":"a","text":"b","to":["x"]},{"n":2}],"flag":true,"none":null}"#)
    }

    @Test func aLaterValueReplacesAnEarlierOne() throws {
        var document = JSONValue.object([])
        document.set(.string("a"), at: "x")
        document.set(.string("b"), at: "x.y")  // a scalar on the way becomes an object
        #expect(Self.written(document) == #"{"x":{"y":"b"}}"#)
        #expect(try JSONValue.parse(Array(Self.written(document).utf8)) == document)
    }
}
