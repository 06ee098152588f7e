/// The common shape of an SMS template — text, `{{name}}` / `{{{name}}}` / `{{&name}}` variables, `{{#name}}` and
/// `{{^name}}` sections over flat names, comments — compiled to a list of steps that renders without dynamic casts.
///
/// swift-mustache stays the reference: `MessageTemplate` parses every template with it (syntax errors and their
/// positions come from there), renders with a `FlatTemplate` only when `compile` accepts the text, and falls back
/// to swift-mustache for everything else (partials, dotted names, set delimiters, multi-line templates with
/// standalone tags). Tests check the two render alike on generated templates and rows.
struct FlatTemplate: Sendable, Hashable {
    indirect enum Step: Sendable, Hashable {
        case text(String)
        case variable(String)
        case section(String, inverted: Bool, body: [Step])
    }

    let steps: [Step]

    /// The compiled form of `source`, or nil when it uses anything beyond the flat subset.
    static func compile(_ source: String) -> FlatTemplate? {
        var parser = Parser(source: Substring(source))
        guard let steps = parser.steps(closing: nil), parser.rest.isEmpty else { return nil }
        if source.contains("\n"), steps.containsNonVariableTag(in: source) { return nil }
        return FlatTemplate(steps: steps)
    }

    /// Renders for `values` (empty values count as missing), appending to `output`.
    /// - Returns: the first variable rendering reached that `values` lacks, or nil.
    func render(_ values: TemplateValues, into output: inout String) -> String? {
        Self.render(steps, values, into: &output)
    }

    private static func render(_ steps: [Step], _ values: TemplateValues, into output: inout String) -> String? {
        for step in steps {
            switch step {
            case .text(let text):
                output += text
            case .variable(let name):
                guard let value = values[name] else { return name }
                output += value
            case .section(let name, let inverted, let body):
                if (values[name] != nil) != inverted, let missing = render(body, values, into: &output) {
                    return missing
                }
            }
        }
        return nil
    }

    private struct Parser {
        var rest: Substring

        init(source: Substring) {
            rest = source
        }

        /// Steps up to the closing tag of `section` (or the end, at top level); nil outside the subset.
        mutating func steps(closing section: String?) -> [Step]? {
            var parsed: [Step] = []
            while !rest.isEmpty {
                guard let open = rest.firstRange(of: "{{") else {
                    parsed.append(.text(String(rest)))
                    rest = rest[rest.endIndex...]
                    break
                }
                if open.lowerBound > rest.startIndex { parsed.append(.text(String(rest[..<open.lowerBound]))) }
                rest = rest[open.upperBound...]
                let triple = rest.first == "{"
                if triple { rest = rest.dropFirst() }
                guard let close = rest.firstRange(of: triple ? "}}}" : "}}") else { return nil }
                let tag = rest[..<close.lowerBound]
                rest = rest[close.upperBound...]
                let sigil = triple ? "&" : tag.first ?? " "
                let name = Self.name(
                    triple ? tag : (["#", "^", "/", "&", "!"].contains(sigil) ? tag.dropFirst() : tag))
                switch sigil {
                case "!":
                    continue
                case "#", "^":
                    guard let name, let body = steps(closing: name) else { return nil }
                    parsed.append(.section(name, inverted: sigil == "^", body: body))
                case "/":
                    return name != nil && name == section ? parsed : nil
                default:
                    guard let name else { return nil }
                    parsed.append(.variable(name))
                }
            }
            return section == nil ? parsed : nil
        }

        /// A flat variable name: trimmed, non-empty, no dots, sigils or braces.
        static func name(_ text: Substring) -> String? {
            let trimmed = text.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()
            let name = String(trimmed)
            guard !name.isEmpty, !name.contains(where: { ".{}=#^/&!<>$% \t\n".contains($0) }) else { return nil }
            return name
        }
    }
}

extension [FlatTemplate.Step] {
    /// Whether the steps hold sections, or the source comments: tags whose standalone lines Mustache trims.
    fileprivate func containsNonVariableTag(in source: String) -> Bool {
        source.contains("{{!")
            || contains { step in
                if case .section = step { return true }
                return false
            }
    }
}
