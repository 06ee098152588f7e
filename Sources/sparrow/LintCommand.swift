import ArgumentParser
import Foundation
import SparrowCommandSupport
import SparrowConfig
import SparrowCore

struct Lint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check messages and the configuration against the rules for commercial SMS in China.",
        discussion: """
            Checks a campaign's message (--text, --template or --approved), or none, and the flows' rules: the \
            signature in 【】 at the start (2 to 12 characters), a way to refuse at the end of marketing \
            (optout_suffix, or 拒收请回复R in an Alibaba Cloud or Tencent Cloud promotional template), links only as \
            constants of the store's domains (lint.link_domains, links.base) and never inside a variable, and \
            marketing inside its hours (quiet_hours against 08:00–22:00). Each finding names its file, line and \
            column. Exits 2 when there are errors (warnings too with lint.strict); plan, send and flows run the same \
            checks and stop on errors.
            """)

    @OptionGroup var config: ConfigOption

    @OptionGroup var message: MessageOptions

    @Flag(help: "The message serves an order (a shipping notice): no opt-out or marketing hours are asked of it.")
    var transactional = false

    func validate() throws {
        guard [message.text, message.template, message.approved].count(where: { $0 != nil }) <= 1 else {
            throw ValidationError("give the message as at most one of --text, --template or --approved")
        }
    }

    func run() async throws {
        let configuration = try config.load()
        var findings = configuration.lintFlows()
        if message.isGiven {
            let (loaded, origin) = try message.load(configuration)
            findings = configuration.lint(loaded, origin: origin, transactional: transactional) + findings
        }
        for finding in findings { print(finding) }
        let errors = findings.errors(strict: configuration.lint.strict).count
        printError("sparrow: \(errors) errors, \(findings.count - errors) warnings")
        if errors > 0 { throw ExitCode.validationFailure }
    }
}

/// Prints the warnings of `findings` and stops on their errors (on their warnings too when `strict`).
func stopOnLintErrors(_ findings: [PlacedFinding], strict: Bool) throws {
    let errors = findings.errors(strict: strict)
    for finding in findings where !errors.contains(finding) { printError("sparrow: \(finding)") }
    guard errors.isEmpty else {
        throw UsageError(
            message: errors.map(\.description).joined(separator: "\n")
                + "\n(sparrow lint checks a message without sending it)")
    }
}
