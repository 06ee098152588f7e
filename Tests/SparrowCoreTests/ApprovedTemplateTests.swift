import Testing

@testable import SparrowCore

@Suite struct ApprovedTemplateTests {
    @Test func namedPlaceholdersAreTheirColumnsInOrderOfFirstUse() throws {
        let template = try ApprovedTemplate(
            name: "unpaid", text: "您的订单${order}还未付款，请在${deadline}前支付（订单${order}）", ids: ["a": "SMS_1"])
        #expect(template.variables == ["order", "deadline"])
        #expect(
            try template.message.render(["order": "8801", "deadline": "20:00"]).get()
                == "您的订单8801还未付款，请在20:00前支付（订单8801）")
        #expect(template.parameters(of: ["deadline": "20:00", "order": "8801", "other": "x"]) == ["8801", "20:00"])
    }

    @Test func positionalPlaceholdersTakeTheColumnsGiven() throws {
        let template = try ApprovedTemplate(
            name: "shipped", text: "{2}，您的包裹{1}已发出", columns: ["tracking", "name"], ids: ["t": "1110422"])
        #expect(template.variables == ["tracking", "name"])  // the provider's order: {1}, {2}
        #expect(try template.message.render(["tracking": "SF1", "name": "林"]).get() == "林，您的包裹SF1已发出")
        #expect(template.parameters(of: ["tracking": "SF1", "name": "林"]) == ["SF1", "林"])
        // Braces that are no placeholder stay text.
        #expect(try ApprovedTemplate(name: "x", text: "满{减}券", ids: [:]).message.render([:]).get() == "满{减}券")
    }

    @Test(arguments: [
        ("订单${order}与{1}", ["a"], "1:12: the template mixes ${name} and {1} placeholders"),
        ("订单{1}与{2}", ["a"], "1:7: placeholder {2} has no column: list the template's columns, in order"),
        ("订单${}", [], "1:3: a placeholder is written ${name}, with letters, digits and _"),
        ("订单${订单}", [], "1:3: a placeholder is written ${name}, with letters, digits and _"),
        ("第二行\n订单{{order}}", [], "2:3: an approved text has no Mustache tags: write ${name} or {1}"),
        ("订单${order}", ["a"], "1:1: a template with ${name} placeholders takes no columns"),
        ("订单{1}", ["a", "b"], "1:1: column 'b' fills no placeholder {2}"),
        ("订单{1}", ["订单号"], "1:1: column '订单号' is not a name of letters, digits and _"),
    ])
    func malformedTextsAreRefusedWithWhere(text: String, columns: [String], expected: String) {
        #expect(throws: (any Error).self) { try ApprovedTemplate(name: "t", text: text, columns: columns, ids: [:]) }
        do {
            _ = try ApprovedTemplate(name: "t", text: text, columns: columns, ids: [:])
        } catch {
            #expect(error.description == expected)
        }
    }
}
