import Testing

@testable import SparrowCore

@Suite struct MessageTemplateTests {
    static let reminder = "{{#nickname}}{{nickname}}{{/nickname}}{{^nickname}}亲{{/nickname}}，您拍下的{{item}}还未付款"

    @Test func rendersVariablesAndSectionDefaults() throws {
        let template = try MessageTemplate(Self.reminder)
        #expect(try template.render(["nickname": "王芳", "item": "围巾"]).get() == "王芳，您拍下的围巾还未付款")
        #expect(try template.render(["item": "围巾"]).get() == "亲，您拍下的围巾还未付款")
        #expect(try template.render(["nickname": "", "item": "围巾"]).get() == "亲，您拍下的围巾还未付款")
    }

    @Test func aVariableTheRowLacksIsAMiss() throws {
        let template = try MessageTemplate(Self.reminder)
        #expect(template.render(["nickname": "王芳"]) == .failure(MissingVariable(name: "item")))
        #expect(template.render(["nickname": "王芳", "item": ""]) == .failure(MissingVariable(name: "item")))
    }

    @Test func variablesInsideSkippedSectionsAreNotNeeded() throws {
        let template = try MessageTemplate("{{#vip}}尊敬的{{level}}会员，{{/vip}}您好")
        #expect(try template.render([:]).get() == "您好")
        #expect(template.render(["vip": "yes"]) == .failure(MissingVariable(name: "level")))
        #expect(try template.render(["vip": "yes", "level": "金卡"]).get() == "尊敬的金卡会员，您好")
    }

    /// A name given twice yields its last non-empty value; setting replaces every value of the name.
    @Test func templateValuesLookUpByName() {
        var values = TemplateValues(names: ["a", "b", "a", "a"], values: ["1", "2", "3", ""])
        #expect(values["a"] == "3")
        #expect(values["b"] == "2")
        #expect(values["c"] == nil)
        values["a"] = "4"
        #expect(values.dictionary == ["a": "4", "b": "2"])
        values["b"] = nil
        values["c"] = ""
        #expect(values["b"] == nil)
        #expect(values["c"] == nil)
        #expect(values.dictionary == ["a": "4"])
    }

    @Test func nothingIsHTMLEscaped() throws {
        let template = try MessageTemplate("{{a}} & {{{b}}}")
        #expect(try template.render(["a": "<Tom & \"Jerry\">", "b": "'x'"]).get() == "<Tom & \"Jerry\"> & 'x'")
    }

    @Test(arguments: [
        ("hello {{name", 1, "tag is not closed"),
        ("line one\n{{#a}}open", 2, "section is not closed"),
        ("{{#a}}x{{/b}}", 1, "section closed with a name that does not match its opening tag"),
    ])
    func parseErrorsSayWhere(_ source: String, line: Int, message: String) {
        #expect {
            try MessageTemplate(source)
        } throws: { error in
            guard let error = error as? TemplateError else { return false }
            return error.line == line && error.message == message && error.column >= 1
        }
    }
}

/// The compiled fast path must render exactly as swift-mustache does, for every template it accepts.
@Suite struct FlatTemplateTests {
    @Test(arguments: [
        ("plain text", true),
        ("{{a}} {{{b}}} {{&c}} {{! note }}", true),
        ("{{#a}}x{{^b}}y{{/b}}{{/a}}", true),
        ("line\n{{a}}", true),
        ("line\n{{#a}}x{{/a}}", false),  // standalone-line rules: left to swift-mustache
        ("{{a.b}}", false),
        ("{{> partial}}", false),
        ("{{=<% %>=}}<%a%>", false),
        ("{{.}}", false),
    ])
    func acceptsOnlyTheFlatSubset(_ source: String, flat: Bool) throws {
        #expect(try MessageTemplate(source).isFlat == flat)
    }

    @Test func rendersLikeSwiftMustacheOnGeneratedTemplates() throws {
        var generator = SplitMix64(seed: 7)
        let names = ["a", "b", "c", "nick"]
        func pick<T>(_ options: [T]) -> T { options[Int(generator.next() % UInt64(options.count))] }
        func fragment(depth: Int) -> String {
            var text = ""
            for _ in 0..<Int(generator.next() % 4) + 1 {
                switch generator.next() % 7 {
                case 0, 1: text += pick(["亲，", "hello ", " & ", "<b>", "\"q\"", "。"])
                case 2: text += "{{\(pick(names))}}"
                case 3: text += pick(["{{{\(pick(names))}}}", "{{& \(pick(names)) }}", "{{!c}}"])
                default:
                    guard depth < 3 else { continue }
                    let name = pick(names)
                    text += "{{\(pick(["#", "^"]))\(name)}}" + fragment(depth: depth + 1) + "{{/\(name)}}"
                }
            }
            return text
        }
        var compared = 0
        for _ in 0..<2000 {
            let template = try MessageTemplate(fragment(depth: 0))
            guard template.isFlat else { continue }
            var row: [String: String] = [:]
            for name in names where generator.next() % 3 != 0 {
                row[name] = pick(["", "王芳", "<x&y>", "a"])
            }
            #expect(
                template.render(TemplateValues(row)) == template.renderWithMustache(TemplateValues(row)),
                "\(template.source) \(row)")
            compared += 1
        }
        #expect(compared > 1500)
    }
}
