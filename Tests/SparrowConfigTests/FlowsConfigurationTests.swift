import Foundation
import SparrowCore
import Testing

@testable import SparrowConfig

@Suite struct FlowsConfigurationTests {
    /// Loads a configuration whose `flows.rules` is the folder `flows/` holding `rules` as `rules.yaml`.
    static func load(rules: String, flows: String = "", templates: String = "", files: [String: String] = [:])
        throws(ConfigError) -> SparrowConfiguration
    {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-flows-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(
            at: folder.appendingPathComponent("flows"), withIntermediateDirectories: true)
        try! rules.write(to: folder.appendingPathComponent("flows/rules.yaml"), atomically: true, encoding: .utf8)
        for (name, text) in files {
            try! text.write(to: folder.appendingPathComponent("flows/" + name), atomically: true, encoding: .utf8)
        }
        let path = folder.appendingPathComponent("sparrow.yaml").path
        try! (minimal + templates + "\nflows:\n  rules: flows\n" + flows).write(
            toFile: path, atomically: true, encoding: .utf8)
        return try SparrowConfiguration.load(path: path)
    }

    @Test func theShippedFlowsLoad() throws {
        let configuration = try SparrowConfiguration.load(
            path: repositoryRoot + "/config/sparrow.yaml")
        let flows = try #require(configuration.flows)
        #expect(
            Set(flows.rules.map(\.name)) == [
                "unpaid-first", "unpaid-second", "order-closed", "shipped", "in-city", "signed", "refunded",
                "bad-review-alert", "below-threshold", "repurchase", "birthday", "abandoned-checkout",
            ])
        let birthday = try #require(flows.rules.first { $0.name == "birthday" })
        #expect(birthday.birthdays?.path.hasSuffix("config/flows/../examples/customers.csv") == true)
        #expect(birthday.birthdays?.at == WallTime("10:00"))
        let unpaid = try #require(flows.rules.first { $0.name == "unpaid-first" })
        #expect(unpaid.trigger == .created && unpaid.cancelledBy == [.paid, .closed])
        #expect(unpaid.steps.map(\.delay) == [1800])
        #expect(unpaid.deadline == .init(closeAfter: 86_400, action: .sendBefore, earliest: 900))
        #expect(unpaid.maxSegments == 1)
        let upsell = try #require(flows.rules.first { $0.name == "below-threshold" })
        #expect(upsell.purpose == .marketing && upsell.once == .customerDay)
        #expect(upsell.conditions == [.dayTotal(1...79)])
        let alert = try #require(flows.rules.first { $0.name == "bad-review-alert" })
        #expect(alert.recipient == .number("+8613900000000"))
        #expect(flows.rules.first { $0.name == "repurchase" }?.cancelledByLaterOrder == true)
        #expect(flows.rules.first { $0.name == "abandoned-checkout" }?.cancelledByAnyEvent == true)
        #expect(flows.port == 8091)
        #expect(flows.marketingHours.start == WallTime("08:00") && flows.marketingHours.end == WallTime("22:00"))
    }

    @Test func aRuleMayHaveSteps() throws {
        let flows = try #require(
            try Self.load(
                rules: """
                    rules:
                      - name: unpaid
                        on: created
                        cancel: [paid]
                        steps:
                          - { after: 30m, text: "first {{order}}" }
                          - { after: 1h30m, text: "second" }
                    """, flows: "  marketing_hours: { start: \"09:00\", end: \"20:00\" }\n"
            ).flows)
        #expect(flows.rules[0].steps.map(\.delay) == [1800, 5400])
        #expect(flows.rules[0].steps.map(\.template.source) == ["first {{order}}", "second"])
        #expect(flows.outsideMarketingHours == QuietHours(start: WallTime("20:00")!, end: WallTime("09:00")!))
    }

    @Test func lintNamesVariablesNoEventGives() throws {
        let configuration = try Self.load(
            rules: """
                rules:
                  - { name: paid, on: paid, text: "{{nick}}，订单{{order}}已付款{{#city}}，发往{{city}}{{/city}}" }
                  - { name: birthday, on: birthday, customers: customers.csv, text: "{{name}}{{nickname}}生日快乐" }
                """, files: ["customers.csv": "Phone,name,birthday\n"])
        let findings = configuration.lintFlows().filter { $0.finding.code == "variable" }
        #expect(
            findings.map { "\($0.location.line):\($0.location.column ?? 0) \($0.finding.severity)" } == [
                "2:36 warning", "3:78 warning",
            ])
        #expect(findings[0].finding.message.hasPrefix("no order event gives 'nick' ("))
        #expect(findings[1].finding.message == "no order event gives 'nickname' (birthday, name, phone)")
    }

    @Test func aRuleMaySendAnApprovedTemplate() throws {
        let templates = """

            templates:
              thanks: { text: "{1}，订单{2}已付款", columns: [name, order], ids: { primary: "1110423" } }
            """
        let flows = try #require(
            try Self.load(
                rules: "rules:\n  - { name: thanks, on: paid, after: 1m, approved: thanks }\n", templates: templates
            ).flows)
        #expect(flows.rules[0].approved?.name == "thanks")
        #expect(flows.rules[0].steps.map(\.delay) == [60])
        #expect(flows.rules[0].steps[0].template.source == "{{name}}，订单{{order}}已付款")
        do {
            _ = try Self.load(
                rules: "rules:\n  - { name: thanks, on: paid, approved: thank }\n", templates: templates)
            Issue.record("loaded")
        } catch {
            #expect(
                error.description.hasSuffix(
                    "flows/rules.yaml:2:41: no template 'thank' under templates (did you mean 'thanks'?)"))
        }
    }

    @Test(arguments: [
        ("rules:\n  - { name: x, on: paied, text: a }\n", 2, 20, "'paied' is not one of"),
        (
            "rules:\n  - { name: x, on: paid, text: a, cancell: [closed] }\n", 2, 35,
            "unknown key 'cancell' (did you mean 'cancel'?)"
        ),
        ("rules:\n  - { name: x, on: paid, text: \"{{#a}}\" }\n", 2, 32, "the template does not compile"),
        ("rules:\n  - { name: x y, on: paid, text: a }\n", 2, 13, "a rule's name is 1 to 48 letters"),
        ("rules:\n  - { name: x, on: paid, text: a, after: soon }\n", 2, 42, "invalid duration 'soon'"),
        ("rules:\n  - { name: x, on: paid, text: a, to: owner }\n", 2, 39, "'to' is buyer or a number"),
        (
            "rules:\n  - { name: x, on: paid, text: a, when: { amount: { min: 9, max: 1 } } }\n", 2, 51,
            "min is above max"
        ),
        (
            "rules:\n  - { name: x, on: paid, text: a }\n  - { name: x, on: paid, text: b }\n", 3, 5,
            "rule 'x' is defined already"
        ),
        ("rules:\n  - { name: x, on: paid, steps: [], text: a }\n", 2, 33, "give either steps, or after and text"),
        ("rules: []\n", 5, 10, "no rules in"),
        (
            "rules:\n  - { name: x, on: birthday, customers: nobody.csv, text: a }\n", 2, 41,
            "cannot read the customers file"
        ),
        (
            "rules:\n  - { name: x, on: paid, at: \"10:00\", text: a }\n", 2, 30,
            "customers and at belong to a rule on: birthday"
        ),
    ])
    func aBadRuleIsNamedByFileLineAndColumn(rules: String, line: Int, column: Int, message: String) {
        do {
            _ = try Self.load(rules: rules)
            Issue.record("loaded")
        } catch {
            #expect(error.location.line == line, "\(error)")
            #expect(error.location.column == column, "\(error)")
            #expect(error.message.contains(message), "\(error)")
            let expectedFile = line == 5 ? "sparrow.yaml" : "flows/rules.yaml"
            #expect(error.location.file.hasSuffix(expectedFile), "\(error)")
        }
    }
}
