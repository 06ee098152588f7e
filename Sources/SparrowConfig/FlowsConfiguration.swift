import Foundation
public import SparrowCore

/// The `flows:` section: where the rules are, how `sparrow flows` listens, and how callers prove who they are.
public struct FlowsConfiguration: Sendable {
    public var rules: [FlowRule] = []
    /// Where each rule was written, for messages about it.
    public var locations: [String: SourceLocation] = [:]
    /// Where each rule's step texts begin, in order.
    public var textLocations: [String: [SourceLocation]] = [:]
    /// The files the rules were read from.
    public var files: [String] = []
    public var host = "127.0.0.1"
    public var port = 8090
    /// Shopify's app secret: webhooks are admitted by their `X-Shopify-Hmac-Sha256`.
    public var shopifySecret: Secret?
    /// For other callers (Taobao-shaped messages): a bearer token, or an HMAC secret as the receipts webhook takes.
    public var token: Secret?
    public var hmacSecret: Secret?
    /// Marketing messages go only inside these hours, recipient time (08:00–22:00 unless configured).
    public var marketingHours = (start: WallTime(hour: 8, minute: 0)!, end: WallTime(hour: 22, minute: 0)!)

    /// The hours outside the marketing window, as a quiet window.
    public var outsideMarketingHours: QuietHours { QuietHours(start: marketingHours.end, end: marketingHours.start) }
}

extension SparrowConfiguration {
    static func readFlows(_ node: YAMLNode, folder: String, templates: [String: ApprovedTemplate]) throws
        -> FlowsConfiguration
    {
        let map = try node.mapping(keys: [
            "rules", "listen", "shopify_secret", "token", "hmac_secret", "marketing_hours",
        ])
        var flows = FlowsConfiguration()
        if let listen = map["listen"] { (flows.host, flows.port) = try listenAddress(listen) }
        flows.shopifySecret = try map["shopify_secret"].map(secret)
        flows.token = try map["token"].map(secret)
        flows.hmacSecret = try map["hmac_secret"].map(secret)
        if let hours = map["marketing_hours"] {
            let window = try readWindow(hours)
            flows.marketingHours = (window.start, window.end)
        }
        let rulesNode = try map.required("rules")
        let path = resolve(try rulesNode.string(), against: folder)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw rulesNode.error(.invalidValue, "no file or folder '\(path)'")
        }
        flows.files =
            isFolder.boolValue
            ? try FileManager.default.contentsOfDirectory(atPath: path)
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                .map { (path as NSString).appendingPathComponent($0) }
            : [path]
        for file in flows.files {
            let root = try YAMLFile.read(file, environment: node.environment)
            for ruleNode in try root.mapping(keys: ["rules"]).required("rules").list() {
                let (rule, texts) = try readRule(
                    ruleNode, folder: (file as NSString).deletingLastPathComponent, templates: templates)
                if let earlier = flows.locations[rule.name] {
                    throw ruleNode.error(.invalidValue, "rule '\(rule.name)' is defined already, at \(earlier)")
                }
                flows.locations[rule.name] = ruleNode.location
                flows.textLocations[rule.name] = texts
                flows.rules.append(rule)
            }
        }
        guard !flows.rules.isEmpty else { throw rulesNode.error(.invalidValue, "no rules in '\(path)'") }
        return flows
    }

    static let ruleKeys = [
        "name", "on", "when", "cancel", "after", "text", "steps", "purpose", "to", "once", "deadline",
        "max_segments", "customers", "at", "approved",
    ]

    /// A rule, and where each of its steps' texts begins.
    static func readRule(_ node: YAMLNode, folder: String, templates: [String: ApprovedTemplate]) throws -> (
        FlowRule, [SourceLocation]
    ) {
        let map = try node.mapping(keys: ruleKeys)
        let nameNode = try map.required("name")
        let name = try nameNode.string()
        guard FlowRule.isValidName(name) else {
            throw nameNode.error(.invalidValue, "a rule's name is 1 to 48 letters, digits or '-'")
        }
        let steps: [FlowRule.Step]
        var texts: [SourceLocation] = []
        if let name = map["approved"] {
            guard map["steps"] == nil, map["text"] == nil else {
                throw name.error(.invalidValue, "a rule sends an approved template or text, in one step")
            }
            let wanted = try name.string()
            guard let approved = templates[wanted] else {
                let hint = Suggestion.closest(to: wanted, in: templates.keys.sorted()).map {
                    " (did you mean '\($0)'?)"
                }
                throw name.error(.invalidValue, "no template '\(wanted)' under templates\(hint ?? "")")
            }
            steps = [FlowRule.Step(delay: try map["after"].map(seconds) ?? 0, approved: approved)]
            texts = [name.textLocation]
        } else if let list = map["steps"] {
            guard map["after"] == nil, map["text"] == nil else {
                throw list.error(.invalidValue, "give either steps, or after and text, not both")
            }
            steps = try list.list().map { step in
                let stepMap = try step.mapping(keys: ["after", "text"])
                texts.append(try stepMap.required("text").textLocation)
                return try readStep(after: stepMap["after"], text: stepMap.required("text"))
            }
            guard !steps.isEmpty else { throw list.error(.invalidValue, "a rule needs at least one step") }
        } else {
            steps = [try readStep(after: map["after"], text: map.required("text"))]
            texts = [try map.required("text").textLocation]
        }
        var cancelledBy: Set<OrderEvent.Kind> = []
        var laterOrder = false
        var anyEvent = false
        for kindNode in try map["cancel"]?.list() ?? [] {
            if try kindNode.string() == "later-order" {
                laterOrder = true
            } else if try kindNode.string() == "any" {
                anyEvent = true
            } else {
                cancelledBy.insert(try kind(kindNode))
            }
        }
        var recipient = FlowRule.Recipient.buyer
        if let to = map["to"], try to.string() != "buyer" {
            let number = try to.string()
            guard case .success = PhoneNumberParser.parse(number, defaultRegion: nil) else {
                throw to.error(.invalidValue, "'to' is buyer or a number in international form (+86…)")
            }
            recipient = .number(number)
        }
        let trigger = try kind(map.required("on"))
        var birthdays: FlowRule.Birthdays?
        if trigger == .birthday {
            let at = map["at"]
            let time = try at.map { node in
                let text = try node.string()
                guard let time = WallTime(text) else {
                    throw node.error(.invalidValue, "'\(text)' is not a time (HH:MM)")
                }
                return time
            }
            let customers = try map.required("customers")
            let path = resolve(try customers.string(), against: folder)
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw customers.error(.invalidValue, "cannot read the customers file '\(path)'")
            }
            birthdays = FlowRule.Birthdays(path: path, at: time ?? WallTime(hour: 10, minute: 0)!)
        } else if let stray = map["customers"] ?? map["at"] {
            throw stray.error(.invalidValue, "customers and at belong to a rule on: birthday")
        }
        var rule = FlowRule(
            name: name, trigger: trigger, conditions: try map["when"].map(readConditions) ?? [],
            cancelledBy: cancelledBy, cancelledByLaterOrder: laterOrder, steps: steps,
            purpose: try map["purpose"]?.oneOf(FlowRule.Purpose.self) ?? .transactional, recipient: recipient,
            once: try map["once"]?.oneOf(FlowRule.Once.self) ?? .order,
            deadline: try map["deadline"].map { try readDeadline($0, firstDelay: steps[0].delay) },
            maxSegments: try map["max_segments"]?.int(in: 1...10))
        rule.birthdays = birthdays
        rule.cancelledByAnyEvent = anyEvent
        return (rule, texts)
    }

    private static func readStep(after: YAMLNode?, text: YAMLNode) throws -> FlowRule.Step {
        let delay = try after.map(seconds) ?? 0
        do {
            return FlowRule.Step(delay: delay, template: try MessageTemplate(try text.verbatim()))
        } catch let error as TemplateError {
            throw text.error(.invalidValue, "the template does not compile: \(error.message)")
        }
    }

    private static func seconds(_ node: YAMLNode) throws -> Int64 {
        let duration = try node.duration()
        guard duration >= .zero, duration <= .seconds(366 * 86_400) else {
            throw node.error(.invalidValue, "a delay is from 0 to 366d")
        }
        return duration.components.seconds
    }

    private static func kind(_ node: YAMLNode) throws -> OrderEvent.Kind {
        try node.oneOf(OrderEvent.Kind.self)
    }

    private static func readConditions(_ node: YAMLNode) throws -> [FlowCondition] {
        let map = try node.mapping(keys: ["amount", "day_total", "contains", "equals"])
        var conditions: [FlowCondition] = []
        if let amount = map["amount"] { conditions.append(.amount(try range(amount))) }
        if let total = map["day_total"] { conditions.append(.dayTotal(try range(total))) }
        for (field, text) in try map["contains"]?.openMapping() ?? [] {
            conditions.append(.contains(field: field, text: try text.string()))
        }
        for (field, value) in try map["equals"]?.openMapping() ?? [] {
            conditions.append(.equals(field: field, value: try value.string()))
        }
        return conditions
    }

    /// `{ min: 1, max: 79 }`, either bound optional.
    private static func range(_ node: YAMLNode) throws -> ClosedRange<Double> {
        let map = try node.mapping(keys: ["min", "max"])
        let low = try map["min"]?.positiveDouble() ?? 0
        let high = try map["max"]?.positiveDouble() ?? .greatestFiniteMagnitude
        guard low <= high else { throw node.error(.invalidValue, "min is above max") }
        return low...high
    }

    private static func readDeadline(_ node: YAMLNode, firstDelay: Int64) throws -> FlowRule.Deadline {
        let map = try node.mapping(keys: ["close_after", "if_quiet", "earliest"])
        return FlowRule.Deadline(
            closeAfter: try map["close_after"].map(seconds),
            action: try map["if_quiet"]?.oneOf(FlowRule.DeadlineAction.self) ?? .sendBefore,
            earliest: try map["earliest"].map(seconds) ?? firstDelay / 2)
    }
}
