/// A finding of `sparrow lint`: what a message or the configuration gets wrong, by the rules carriers and
/// providers in China apply to commercial SMS, and where.
public struct LintFinding: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Comparable {
        case warning, error

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs == .warning && rhs == .error }
    }

    public var severity: Severity
    /// The rule: `signature`, `opt-out`, `link-domain`, `link-variable`, `marketing-hours`.
    public var code: String
    public var message: String
    /// 1-based, within the text linted (or the file, once placed there).
    public var line: Int
    public var column: Int

    public init(_ severity: Severity, _ code: String, _ message: String, line: Int = 1, column: Int = 1) {
        self.severity = severity
        self.code = code
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column): \(severity): \(message) [\(code)]" }
}

/// Checks a message's text as a customer reads it (the configured signature, the template, the opt-out suffix):
///
/// - a signature in 【】 at the start, of 2 to 12 characters (carriers in China refuse messages without one; a
///   provider's approved template gets its signature from the provider and is not checked for one; a store outside
///   China is not held to it);
/// - marketing text ending with a way to refuse: the configured suffix (`回T退订`), or, for an Alibaba Cloud or Tencent
///   Cloud promotional template, the providers' `拒收请回复R`;
/// - links only as constants of the configured domains, never inside a variable (`{{link}}`, Sparrow's own tracked
///   link, is the way to give each customer theirs).
///
/// ```swift
/// let lint = MessageLint(signature: "【青禾】", optoutSuffix: "回T退订", linkDomains: ["qinghe.cn"])
/// lint.check("会员日全场8折 https://qinghe.cn/vip", marketing: true)  // []
/// lint.check("会员日 {{url}}", marketing: true)  // a variable that may carry a link: a warning
/// ```
public struct MessageLint: Sendable {
    public var signature: String
    public var optoutSuffix: String
    /// Hosts links may point to (a subdomain of one counts); empty: none configured, so every link is a warning.
    public var linkDomains: [String]
    /// Whether the message goes to China, whose carriers want the signature in 【】: off, a signature is not checked.
    public var chinaSignature: Bool

    /// What Alibaba Cloud and Tencent Cloud require at the end of a promotional template.
    public static let providerOptOut = "拒收请回复R"
    /// Words that say how to refuse, within the last 20 characters of a marketing text.
    static let refusals = ["退订", "拒收", "STOP", "TD"]

    public init(signature: String, optoutSuffix: String, linkDomains: [String], chinaSignature: Bool = true) {
        self.chinaSignature = chinaSignature
        self.signature = signature
        self.optoutSuffix = optoutSuffix
        self.linkDomains = linkDomains.map { $0.lowercased() }
    }

    /// Lints `source`, a template's text; findings are placed within it.
    /// - Parameter provider: an approved template of a provider that signs messages itself (Alibaba, Tencent).
    public func check(_ source: String, marketing: Bool, provider: Bool = false) -> [LintFinding] {
        var findings: [LintFinding] = []
        if !provider && chinaSignature { findings += signatureFindings(source) }
        if marketing { findings += optOutFindings(source, provider: provider) }
        findings += linkFindings(source)
        return findings
    }

    private func signatureFindings(_ source: String) -> [LintFinding] {
        let text = signature + source
        guard text.hasPrefix("【") else {
            if !signature.isEmpty {
                return [LintFinding(.error, "signature", "the signature '\(signature)' must be 【name】, at the start")]
            }
            return [
                LintFinding(
                    .warning, "signature",
                    "no signature: carriers in China refuse a message that does not begin with 【name】 (set signature)")
            ]
        }
        guard let close = text.firstIndex(of: "】") else {
            return [LintFinding(.error, "signature", "the signature's 【 is never closed with 】")]
        }
        let name = text[text.index(after: text.startIndex)..<close]
        guard (2...12).contains(name.count) else {
            let (line, column) = signature.isEmpty ? Self.position(of: close, in: source) : (1, 1)
            return [
                LintFinding(
                    .error, "signature",
                    "the signature 【\(name)】 has \(name.count) characters; carriers take 2 to 12", line: line,
                    column: column)
            ]
        }
        return []
    }

    private func optOutFindings(_ source: String, provider: Bool) -> [LintFinding] {
        let ending = (source + (provider ? "" : optoutSuffix)).trimmingTrailingSpace
        let (line, column) = Self.position(of: source.endIndex, in: source)
        if provider {
            guard ending.hasSuffix(Self.providerOptOut) else {
                return [
                    LintFinding(
                        .error, "opt-out",
                        "a promotional template of Alibaba Cloud or Tencent Cloud ends with \(Self.providerOptOut)",
                        line: line, column: column)
                ]
            }
            return []
        }
        guard Self.refusals.contains(where: { ending.suffix(20).uppercased().contains($0) }) else {
            return [
                LintFinding(
                    .warning, "opt-out",
                    "marketing needs a way to refuse at its end: set optout_suffix (回T退订) or end the text with one",
                    line: line, column: column)
            ]
        }
        return []
    }

    private func linkFindings(_ source: String) -> [LintFinding] {
        var findings: [LintFinding] = []
        for link in Self.links(in: source) {
            let (line, column) = Self.position(of: link.range.lowerBound, in: source)
            let text = source[link.range]
            if text.contains("{{") {
                findings.append(
                    LintFinding(
                        .error, "link-variable",
                        "the link '\(text)' holds a variable: links are constants of the store's domains; {{link}} gives each customer a tracked one",
                        line: line, column: column))
            } else if !linkDomains.contains(where: { link.host == $0 || link.host.hasSuffix("." + $0) }) {
                findings.append(
                    LintFinding(
                        linkDomains.isEmpty ? .warning : .error, "link-domain",
                        linkDomains.isEmpty
                            ? "the link to \(link.host) cannot be checked: name the store's domains in lint.link_domains"
                            : "the link to \(link.host) is not to one of the store's domains (\(linkDomains.joined(separator: ", ")))",
                        line: line, column: column))
            }
        }
        for (name, index) in Self.variables(in: source) where Self.mayCarryLink(name) {
            let (line, column) = Self.position(of: index, in: source)
            findings.append(
                LintFinding(
                    .warning, "link-variable",
                    "{{\(name)}} may carry a link, which carriers check against the signature's registration: put links in the text, or use {{link}}",
                    line: line, column: column))
        }
        return findings
    }

    /// A link written in a text: with its scheme, or a bare host with a letters-only top-level label (`qinghe.cn/x`).
    struct Link {
        var range: Range<String.Index>
        var host: String
    }

    static func links(in source: String) -> [Link] {
        var links: [Link] = []
        let pattern = /(?i)(https?:\/\/)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?![a-z0-9-])(\/[!-~]*)?/
        for match in source.matches(of: pattern) {
            let hasScheme = match.output.1 != nil
            // A bare word.word is a link only with a path or a well-known ending: `79.9元` is none, `v2.0` neither.
            let host = String(match.output.2).lowercased()
            let ending = host.split(separator: ".").last.map(String.init) ?? ""
            guard
                hasScheme || match.output.3 != nil
                    || ["cn", "com", "net", "top", "cc", "me", "io", "vip"].contains(ending)
            else { continue }
            var end = match.range.upperBound
            // A template tag right after the link is inside it (`https://a.cn/{{code}}`).
            if source[end...].hasPrefix("{{"), let close = source[end...].firstRange(of: "}}") {
                end = close.upperBound
            }
            links.append(Link(range: match.range.lowerBound..<end, host: host))
        }
        return links
    }

    /// The variables of `source` that `known` does not name, each with where its first tag begins: a flow's template
    /// over the fields its events give. For a provider's template (`${name}`), an error: the provider takes every
    /// value; for text, a warning: the message is skipped when the order lacks one a section does not guard.
    public static func unknownVariables(in source: String, known: Set<String>, provider: Bool) -> [LintFinding] {
        var reported: Set<String> = []
        return variables(in: source).compactMap { name, index in
            guard !known.contains(name), reported.insert(name).inserted else { return nil }
            let (line, column) = position(of: index, in: source)
            return LintFinding(
                provider ? .error : .warning, "variable",
                "no order event gives '\(name)' (\(known.sorted().joined(separator: ", ")))", line: line,
                column: column)
        }
    }

    /// The variable tags of `source` with where each begins.
    static func variables(in source: String) -> [(String, String.Index)] {
        source.matches(of: /\{\{\{?&?\s*([A-Za-z0-9_.\-]+)/).map { (String($0.output.1), $0.range.lowerBound) }
    }

    static func mayCarryLink(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower != "link" && ["url", "link", "website", "href"].contains { lower.contains($0) }
    }

    /// The 1-based line and column (in characters) of `index` in `text`.
    static func position(of index: String.Index, in text: String) -> (Int, Int) {
        var (line, column) = (1, 1)
        for character in text[..<index] {
            if character == "\n" { (line, column) = (line + 1, 1) } else { column += 1 }
        }
        return (line, column)
    }
}

extension String {
    fileprivate var trimmingTrailingSpace: Substring {
        self[..<(lastIndex { !$0.isWhitespace }.map(index(after:)) ?? startIndex)]
    }
}
