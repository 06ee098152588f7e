import Mustache

/// A message template: Mustache without HTML escaping, parsed once and rendered for every row.
///
/// A variable tag that rendering reaches for a value the row lacks (or holds empty) makes the row a reject,
/// never an empty string. A section gives a default, as in
/// `{{#nickname}}{{nickname}}{{/nickname}}{{^nickname}}亲{{/nickname}}`.
///
/// A variable marked `{{nickname|fit}}` may be shortened to fit a message into a number of segments (see
/// `render(_:prefix:suffix:maxSegments:)`); without a limit it renders whole.
public struct MessageTemplate: Sendable {
    private let template: MustacheTemplate
    /// The same template compiled for speed, when it keeps to the flat subset (see `FlatTemplate`).
    private let flat: FlatTemplate?
    /// The template's text as written.
    public let source: String
    /// The variables marked `|fit`, by name, in order of first use.
    public let fitted: [String]

    /// The mark of a variable that may be shortened, as written, and as the renderers see it: `|` is no name
    /// character to swift-mustache, `?` is, and the mark keeps its length, so that errors keep their columns.
    static let fitMark = "|fit"
    private static let fitKey = "?fit"

    /// The pragma that turns HTML escaping off; SMS text is not HTML.
    private static let textPragma = "{{% CONTENT_TYPE: TEXT}}"

    /// Parses `source` once.
    /// - Throws: `TemplateError` with the line and column of the fault.
    public init(_ source: String) throws(TemplateError) {
        self.source = source
        do {
            let marked = source.replacing(/\|fit(?=\s*\}\})/, with: Self.fitKey)
            template = try MustacheTemplate(string: Self.textPragma + marked)
            flat = FlatTemplate.compile(marked)
            var fitted: [String] = []
            for tag in Self.tags(source) where tag.hasSuffix(Self.fitMark) {
                let name = String(tag.dropLast(Self.fitMark.count))
                if !fitted.contains(name) { fitted.append(name) }
            }
            self.fitted = fitted
        } catch let error as MustacheTemplate.ParserError {
            let onFirstLine = error.context.lineNumber == 1
            let column = error.context.columnNumber - (onFirstLine ? Self.textPragma.count : 0)
            throw TemplateError(
                line: error.context.lineNumber, column: max(column, 1), message: Self.describe(error.error))
        } catch {
            throw TemplateError(line: 1, column: 1, message: "\(error)")
        }
    }

    /// Whether a tag of the template names `name`: `{{name}}`, `{{{name}}}`, `{{&name}}`, `{{name|fit}}`, or a
    /// section over it.
    public func uses(_ name: String) -> Bool {
        Self.tags(source).contains { $0 == name || $0 == name + Self.fitMark }
    }

    /// The names the tags of `source` hold, without their sigils.
    private static func tags(_ source: String) -> [Substring] {
        var tags: [Substring] = []
        var rest = Substring(source)
        while let open = rest.firstRange(of: "{{") {
            rest = rest[open.upperBound...]
            guard let close = rest.firstRange(of: "}}") else { break }
            var tag = rest[..<close.lowerBound].drop { "{&#^/ ".contains($0) }
            while let last = tag.last, last == " " || last == "}" { tag = tag.dropLast() }
            tags.append(tag)
            rest = rest[close.upperBound...]
        }
        return tags
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
        guard fitted.isEmpty else { return render(values, prefix: prefix, suffix: suffix, fittedTo: .max) }
        return renderAsGiven(values, prefix: prefix, suffix: suffix)
    }

    /// Renders the template for one row in at most `maxSegments` segments (see `Segmenter`): when the whole text is
    /// longer, the `|fit` variables are cut, on character boundaries, to the longest length that fits, each to the
    /// same number of characters at most and none below one. The text around them (the signature, the opt-out
    /// line, links) is never cut.
    /// - Returns: the text, or why the row has none: a variable it lacks, or the segments it needs at its shortest.
    public func render(
        _ values: TemplateValues, prefix: String = "", suffix: String = "", maxSegments: Int
    ) -> Result<String, RenderFailure> {
        let whole = render(values, prefix: prefix, suffix: suffix).mapError(RenderFailure.missing)
        guard case .success(let text) = whole, Segmenter.count(text).segments > maxSegments else { return whole }
        let fits = { (text: String) in Segmenter.count(text).segments <= maxSegments }
        let longest = fitted.compactMap { values[$0]?.count }.max() ?? 0
        // Cut to one character, the text must fit; then the longest cut that still does is found by bisection.
        guard longest > 1, case .success(var best) = render(values, prefix: prefix, suffix: suffix, fittedTo: 1) else {
            return .failure(.tooLong(Segmenter.count(text)))
        }
        guard fits(best) else { return .failure(.tooLong(Segmenter.count(best))) }
        var (low, high) = (2, longest - 1)
        while low <= high {
            let cut = (low + high) / 2
            guard case .success(let candidate) = render(values, prefix: prefix, suffix: suffix, fittedTo: cut) else {
                break
            }
            if fits(candidate) {
                best = candidate
                low = cut + 1
            } else {
                high = cut - 1
            }
        }
        return .success(best)
    }

    /// Renders with each `|fit` variable cut to at most `characters` characters.
    private func render(
        _ values: TemplateValues, prefix: String, suffix: String, fittedTo characters: Int
    ) -> Result<String, MissingVariable> {
        var values = values
        for name in fitted {
            values[name + Self.fitKey] = values[name].map {
                characters < $0.count ? String($0.prefix(characters)) : $0
            }
        }
        return renderAsGiven(values, prefix: prefix, suffix: suffix).mapError { missing in
            guard missing.name.hasSuffix(Self.fitKey) else { return missing }
            return MissingVariable(name: String(missing.name.dropLast(Self.fitKey.count)))
        }
    }

    private func renderAsGiven(
        _ values: TemplateValues, prefix: String, suffix: String
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

/// Why a row renders no message within a number of segments.
public enum RenderFailure: Error, Hashable, Sendable {
    /// A variable the template needed and the row did not give.
    case missing(MissingVariable)
    /// The segments the text needs at its shortest, its `|fit` variables cut to one character.
    case tooLong(SegmentCount)
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
