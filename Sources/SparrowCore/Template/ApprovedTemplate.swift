/// A template a provider approved (Alibaba Cloud's `SMS_…`, Tencent Cloud's numeric ids): its text as approved, the
/// recipient columns that fill its placeholders, and its id at each gateway. Sparrow renders the text itself for the
/// plan's segments, cost and forecast, and sends only the id and the columns' values.
///
/// ```swift
/// let unpaid = try ApprovedTemplate(name: "unpaid", text: "您的订单${order}还未付款", ids: ["tencent": "1110422"])
/// unpaid.variables  // ["order"]
/// unpaid.message.render(["order": "8801"])  // "您的订单8801还未付款"
/// ```
public struct ApprovedTemplate: Sendable {
    public let name: String
    /// The text as the provider approved it, in Alibaba's syntax (`${order}`) or Tencent's (`{1}`).
    public let text: String
    /// The columns that fill the placeholders, in the order the provider takes their values: the names of `${…}` in
    /// order of first appearance, or the columns given for `{1}`, `{2}`, ….
    public let variables: [String]
    /// The template's id at each gateway that approved it, by gateway name.
    public let ids: [String: String]
    /// The text as a message template over the columns: what a customer reads.
    public let message: MessageTemplate

    /// - Parameter columns: for Tencent's positional `{1}`, `{2}`…: the column of each; none for `${name}`.
    /// - Throws: `TemplateError` at the placeholder that is malformed, mixes the two syntaxes, or has no column.
    public init(name: String, text: String, columns: [String] = [], ids: [String: String]) throws(TemplateError) {
        self.name = name
        self.text = text
        self.ids = ids
        var source = ""
        var named: [String] = []
        var positions: Set<Int> = []
        let characters = Array(text)
        var index = 0
        func fail(_ message: String) -> TemplateError {
            let lineStart = characters[..<index].lastIndex(where: \.isNewline).map { $0 + 1 } ?? 0
            return TemplateError(
                line: characters[..<index].count(where: \.isNewline) + 1, column: index - lineStart + 1,
                message: message)
        }
        while index < characters.count {
            let rest = characters[index...]
            let close = rest.firstIndex(of: "}")
            if rest.starts(with: ["{", "{"]) || rest.starts(with: ["}", "}"]) {
                throw fail("an approved text has no Mustache tags: write ${name} or {1}")
            } else if rest.starts(with: ["$", "{"]) {
                guard let close, case let variable = String(characters[(index + 2)..<close]),
                    Self.isIdentifier(variable)
                else { throw fail("a placeholder is written ${name}, with letters, digits and _") }
                guard positions.isEmpty else { throw fail("the template mixes ${name} and {1} placeholders") }
                if !named.contains(variable) { named.append(variable) }
                source += "{{\(variable)}}"
                index = close + 1
            } else if rest.first == "{", let close, let position = Int(String(characters[(index + 1)..<close])),
                position >= 1
            {
                guard named.isEmpty else { throw fail("the template mixes ${name} and {1} placeholders") }
                guard position <= columns.count else {
                    throw fail("placeholder {\(position)} has no column: list the template's columns, in order")
                }
                positions.insert(position)
                source += "{{\(columns[position - 1])}}"
                index = close + 1
            } else {
                source.append(characters[index])
                index += 1
            }
        }
        if let column = columns.first(where: { !Self.isIdentifier($0) }) {
            throw TemplateError(
                line: 1, column: 1, message: "column '\(column)' is not a name of letters, digits and _")
        }
        if !named.isEmpty, !columns.isEmpty {
            throw TemplateError(line: 1, column: 1, message: "a template with ${name} placeholders takes no columns")
        }
        if let unused = columns.indices.first(where: { !positions.contains($0 + 1) }) {
            throw TemplateError(
                line: 1, column: 1, message: "column '\(columns[unused])' fills no placeholder {\(unused + 1)}")
        }
        variables = named.isEmpty ? columns : named
        message = try MessageTemplate(source)
    }

    private static func isIdentifier(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
            }
    }

    /// The values a row gives the placeholders, in the provider's order.
    /// - Precondition: the row has every variable (its message rendered).
    public func parameters(of values: TemplateValues) -> [String] {
        variables.map { values[$0] ?? "" }
    }
}

extension ApprovedTemplate: Hashable {
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.name == rhs.name && lhs.text == rhs.text && lhs.variables == rhs.variables && lhs.ids == rhs.ids
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(text)
    }
}
