import SparrowCommandSupport
import SparrowConfig
import SparrowCore
import SparrowStore

/// `{{link}}` in a campaign's message: each recipient's tracked link, under the configuration's `links.base`, to
/// the campaign's target.
enum CampaignLinks {
    /// The links of a dry run (`plan`): codes of the width real ones have, so that lengths and segments are exact.
    /// Nil when the message has no link.
    static func dryRun(_ message: CampaignMessage, _ configuration: SparrowConfiguration) throws -> TrackedLinks? {
        guard message.hasLink else { return nil }
        return TrackedLinks(base: try section(configuration).base, campaign: 0, coder: LinkCoder(key: []))
    }

    /// Where a new campaign's clicks go: `given`, else the configuration's target. Nil when the message has no link.
    /// - Throws: `UsageError` when the message has a link and the configuration no `links`, or there is no target.
    static func target(
        of message: CampaignMessage, _ configuration: SparrowConfiguration, given: String?
    ) throws -> String? {
        guard message.hasLink else { return nil }
        let links = try section(configuration)
        guard let target = given ?? links.target else {
            throw UsageError(
                message: "the message has {{link}}: give its target with --link-target URL, or links.target in "
                    + configuration.file)
        }
        return target
    }

    /// The links of the campaign `record`, whose target is set to `target` when it has none (a resume keeps the
    /// first run's). Nil when the message has no link.
    static func of(
        _ record: CampaignRecord, sending message: CampaignMessage, _ configuration: SparrowConfiguration,
        store: some CampaignStore, target: String?
    ) async throws -> TrackedLinks? {
        guard message.hasLink else { return nil }
        let links = try section(configuration)
        if record.linkTarget == nil, let target { try await store.setLinkTarget(campaign: record.id, target) }
        guard record.number <= LinkCoder.maxCampaign else {
            throw RuntimeFailure(message: "the store holds more campaigns than link codes can name")
        }
        return TrackedLinks(base: links.base, campaign: record.number, coder: LinkCoder(key: try await store.linkKey()))
    }

    private static func section(_ configuration: SparrowConfiguration) throws -> SparrowConfiguration.Links {
        guard let links = configuration.links else {
            throw UsageError(
                message: "the message has {{link}} and \(configuration.file) has no links section (links.base)")
        }
        return links
    }
}
