import Mustache

/// A message template: Mustache without HTML escaping, parsed once and rendered for every row.
///
/// A variable tag that rendering reaches for a value the row lacks (or holds empty) makes the row a reject,
/// never an empty string. A section gives a default, as in
/// `{{#nickname}}{{nickname}}{{/nickname}}{{^nickname}}亲{{/nickname}}`.
public struct MessageTemplate: Sendable {
    private let template: MustacheTemplate
    /// The same template compiled for speed, when it keeps to the flat subset (see `FlatTemplate`).
    private let flat: FlatTemplate?
    /// The template's text as written.
    public let source: String

    /// The pragma that turns HTML escaping off; SMS text is not HTML.
    private static let textPragma = "{{% CONTENT_TYPE: TEXT}}"

    /// Parses `source` once.
    /// - Throws: `TemplateError` with the line and column of the fault.
    public init(_ source: String) throws(TemplateError) {
        self.source = source
        do {
            template = try MustacheTemplate(string: Self.textPragma + source)
            flat = FlatTemplate.compile(source)
        } catch let error as MustacheTemplate.ParserError {
            let onFirstLine = error.context.lineNumber == 1
            let column = error.context.columnNumber - (onFirstLine ? Self.textPragma.count : 0)
            throw TemplateError(
                line: error.context.lineNumber, column: max(column, 1), message: Self.describe(error.error))
        } catch {
            throw TemplateError(line: 1, column: 1, message: "\(error)")
        }
    }

    /// Whether a tag of the template names `name`: `{{name}}`, `{{{name}}}`, `{{&name}}`, or a section over it.
    public func uses(_ name: String) -> Bool {
        var rest = Substring(source)
        while let open = rest.firstRange(of: "{{") {
            rest = rest[open.upperBound...]
            guard let close = rest.firstRange(of: "}}") else { return false }
            var tag = rest[..<close.lowerBound].drop { "{&#^/ ".contains($0) }
            while let last = tag.last, last == " " || last == "}" { tag = tag.dropLast() }
            if tag == name { return true }
            rest = rest[close.upperBound...]
        }
        return false
    }

    /// Whether rendering takes the compiled fast path.
    var isFlat: Bool { flat != nil }

    /// Renders the template for one row.
    ///
    /// - Parameters:
    ///   - values: the row's variables; empty values count as missing.
    ///   - prefix: text before the rendered template (the signature).
    ///   - suffix: text after it (the opt-out line).
    /// - Returns: the text, or the name of the first variable the template needed and the row lacked.
    public func render(
        _ values: TemplateValues, prefix: String = "", suffix: String = ""
    ) -> Result<String, MissingVariable> {
        guard let flat else {
            return renderWithMustache(values).map { prefix + $0 + suffix }
        }
        var text = prefix
        text.reserveCapacity(prefix.utf8.count + suffix.utf8.count + 192)
        if let missing = flat.render(values, into: &text) {
            return .failure(MissingVariable(name: missing))
        }
        text += suffix
        return .success(text)
    }

    /// Renders with swift-mustache itself: the reference, and the path for templates beyond the flat subset.
    func renderWithMustache(_ values: TemplateValues) -> Result<String, MissingVariable> {
        let scope = RenderScope(values)
        let text = template.render(scope)
        if let missing = scope.missing {
            return .failure(MissingVariable(name: missing))
        }
        return .success(text)
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? MustacheTemplate.Error {
        case .sectionCloseNameIncorrect: "section closed with a name that does not match its opening tag"
        case .unfinishedName: "tag is not closed"
        case .expectedSectionEnd: "section is not closed"
        case .invalidSetDelimiter: "invalid set-delimiter tag"
        case .unrecognisedConfigVariable, .invalidConfigVariableSyntax: "unknown pragma"
        // The scanner reports running off the end of the text inside a tag as "overflow".
        default: "\(error)" == "overflow" ? "tag is not closed" : "invalid template (\(error))"
        }
    }
}

/// A variable the template needed that the row did not give.
public struct MissingVariable: Error, Hashable, Sendable {
    public var name: String
}

/// A template that does not parse, with where.
public struct TemplateError: Error, Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { "\(line):\(column): \(message)" }
}

/// The root object one render sees. Rendering is synchronous and confined to the caller, so the recorded
/// miss needs no lock; the class exists only so that `MissingValue` can report back into it.
private final class RenderScope: MustacheParent {
    let values: TemplateValues
    var missing: String?

    init(_ values: TemplateValues) {
        self.values = values
    }

    func child(named name: String) -> Any? {
        if let value = values[name] {
            return PresentValue(text: value)
        }
        return MissingValue(name: name, scope: self)
    }
}

/// A row's value. Being a `MustacheParent` with no children keeps the renderer from reflecting over a `String`
/// (with `Mirror`, which is slow) when a section pushes it onto the context stack.
private struct PresentValue: MustacheCustomRenderable, MustacheParent {
    let text: String
    var isNull: Bool { false }
    var renderText: String { text }
    func child(named: String) -> Any? { nil }
}

/// Stands in for an absent value: false to sections, and a recorded miss when a variable tag renders it.
private struct MissingValue: MustacheCustomRenderable {
    let name: String
    unowned let scope: RenderScope

    var isNull: Bool { true }
    var renderText: String {
        if scope.missing == nil {
            scope.missing = name
        }
        return ""
    }
}
