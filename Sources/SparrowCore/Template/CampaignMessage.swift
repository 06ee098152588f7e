/// What a campaign sends: its own text from a Mustache template, or a template its gateways' provider approved.
public enum CampaignMessage: Sendable {
    case text(MessageTemplate)
    case approved(ApprovedTemplate)

    /// The text a customer reads, as a template over the recipient's columns.
    public var template: MessageTemplate {
        switch self {
        case .text(let template): template
        case .approved(let approved): approved.message
        }
    }

    /// The approved template; nil for free text.
    public var approved: ApprovedTemplate? {
        if case .approved(let approved) = self { approved } else { nil }
    }

    /// Whether it renders a recipient's tracked link (`{{link}}`, or an approved template's `link` variable).
    public var hasLink: Bool {
        switch self {
        case .text(let template): template.uses("link")
        case .approved(let approved): approved.variables.contains("link")
        }
    }

    /// The approved template's name; nil for free text.
    public var approvedName: String? {
        if case .approved(let approved) = self { approved.name } else { nil }
    }
}
