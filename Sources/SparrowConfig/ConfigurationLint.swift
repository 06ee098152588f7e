import Foundation
public import SparrowCore

/// The `lint:` section: how strict `sparrow lint` (and `plan`, `send`, `flows`, which run it) is.
public struct LintSettings: Sendable, Hashable {
    /// Warnings stop commands as errors do.
    public var strict = false
    /// The store's own domains: links in messages may point there (a subdomain of one counts), and nowhere else.
    public var linkDomains: [String] = []
}

/// A lint finding placed in a file.
public struct PlacedFinding: Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation
    public var finding: LintFinding

    public var description: String { "\(location): \(finding.severity): \(finding.message) [\(finding.code)]" }
}

extension SparrowConfiguration {
    /// The message rules as this configuration sets them: its signature, opt-out suffix and link domains (those of
    /// `lint.link_domains`, and the host of `links.base`); China's signature rule unless `default_region` is
    /// another country's.
    public var messageLint: MessageLint {
        let base = links.flatMap { URL(string: $0.base)?.host }
        return MessageLint(
            signature: signature, optoutSuffix: optoutSuffix, linkDomains: lint.linkDomains + (base.map { [$0] } ?? []),
            chinaSignature: (defaultRegion ?? "CN") == "CN")
    }

    /// The findings about a campaign's message, placed at `origin` (a template file, or `--text`); campaigns are
    /// marketing unless `transactional`.
    public func lint(_ message: CampaignMessage, origin: String, transactional: Bool = false) -> [PlacedFinding] {
        let provider = message.approved != nil && gateways.contains { $0.dialect.provider != nil }
        let text: String
        let location: SourceLocation
        switch message {
        case .text(let template):
            (text, location) = (template.source, SourceLocation(file: origin, line: 1, column: 1))
        case .approved(let approved):
            (text, location) = (
                approved.text, templateLocation(of: approved)
            )
        }
        return messageLint.check(text, marketing: !transactional, provider: provider).map { place($0, in: location) }
            + marketingHoursFindings(transactional: transactional)
    }

    /// The findings about the flows' rules: each step's text by the rule's purpose.
    public func lintFlows() -> [PlacedFinding] {
        guard let flows else { return [] }
        let lint = messageLint
        let providers = gateways.contains { $0.dialect.provider != nil }
        return flows.rules.flatMap { rule in
            rule.steps.enumerated().flatMap { index, step in
                let location = flows.textLocations[rule.name]?[index] ?? flows.locations[rule.name]!
                let provider = step.approved != nil && providers
                let known = rule.birthdays.map { Self.columns(of: $0.path) } ?? OrderEvent.fieldNames
                let findings =
                    lint.check(
                        step.approved?.text ?? step.template.source, marketing: rule.purpose == .marketing,
                        provider: provider)
                    + MessageLint.unknownVariables(
                        in: step.template.source, known: known, provider: step.approved != nil)
                return findings.map {
                    place($0, in: step.approved == nil ? location : templateLocation(of: step.approved!))
                }
            }
        }
    }

    /// Campaigns are marketing: the quiet hours must keep them inside the marketing hours (08:00–22:00 unless
    /// `flows.marketing_hours` says otherwise).
    private func marketingHoursFindings(transactional: Bool) -> [PlacedFinding] {
        guard !transactional else { return [] }
        let outside = (flows ?? FlowsConfiguration()).outsideMarketingHours
        let covered = quietHours.map { quiet in
            (0..<1440).allSatisfy { minute in
                !outside.contains(secondOfDay: Int64(minute * 60)) || quiet.contains(secondOfDay: Int64(minute * 60))
            }
        }
        guard covered != true else { return [] }
        let hours = (flows ?? FlowsConfiguration()).marketingHours
        return [
            PlacedFinding(
                location: quietHoursLocation ?? SourceLocation(file: file, line: 1, column: 1),
                finding: LintFinding(
                    .warning, "marketing-hours",
                    "marketing goes only from \(hours.start) to \(hours.end), recipient time: quiet_hours "
                        + (quietHours == nil ? "is off" : "does not cover the rest of the day")))
        ]
    }

    /// The columns of a customers file (its CSV header, or its first JSON Lines record's keys) and `phone`: what a
    /// birthday rule's template may use. Empty when the file cannot be read (its pass says so).
    static func columns(of path: String) -> Set<String> {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 64 * 1024)) ?? Data()
        guard let line = head.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).first else {
            return ["phone"]
        }
        var names: [String]
        if case .object(let members)? = try? JSONValue.parse(line) {
            names = members.map(\.key)
        } else {
            names = String(decoding: line, as: UTF8.self).split(separator: ",").map {
                $0.trimmingCharacters(in: CharacterSet(charactersIn: " \r\"\u{FEFF}"))
            }
        }
        names = names.map { RecipientReader.reservedColumns.contains($0.lowercased()) ? $0.lowercased() : $0 }
        return Set(names + ["phone"])
    }

    /// Where an approved template's text is written.
    private func templateLocation(of approved: ApprovedTemplate) -> SourceLocation {
        templateLocations[approved.name] ?? SourceLocation(file: file, line: 1, column: 1)
    }

    /// A finding within a text that begins at `location`: its first line's columns shift by the text's own.
    private func place(_ finding: LintFinding, in location: SourceLocation) -> PlacedFinding {
        let column = finding.line == 1 ? (location.column ?? 1) + finding.column - 1 : finding.column
        return PlacedFinding(
            location: SourceLocation(file: location.file, line: location.line + finding.line - 1, column: column),
            finding: finding)
    }
}

extension [PlacedFinding] {
    /// The errors among them; every finding when `strict`, which counts warnings as errors.
    public func errors(strict: Bool) -> [PlacedFinding] {
        filter { $0.finding.severity == .error || strict }
    }
}
