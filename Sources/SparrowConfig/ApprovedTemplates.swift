public import SparrowCore

extension SparrowConfiguration {
    /// `templates: { NAME: { text, columns, ids: { GATEWAY: ID } } }`: the provider templates a campaign may name.
    /// Where each template's text is written.
    static func templateLocations(_ node: YAMLNode?) throws -> [String: SourceLocation] {
        guard let node else { return [:] }
        var locations: [String: SourceLocation] = [:]
        for (name, entry) in try node.openMapping() {
            locations[name] = try entry.mapping(keys: ["text", "columns", "ids"]).required("text").textLocation
        }
        return locations
    }

    static func readTemplates(_ node: YAMLNode?, gateways: [Gateway]) throws -> [String: ApprovedTemplate] {
        guard let node else { return [:] }
        var templates: [String: ApprovedTemplate] = [:]
        for (name, entry) in try node.openMapping() {
            let map = try entry.mapping(keys: ["text", "columns", "ids"])
            var ids: [String: String] = [:]
            for (gateway, id) in try map.required("ids").openMapping() {
                guard gateways.contains(where: { $0.name == gateway }) else {
                    let hint = Suggestion.closest(to: gateway, in: gateways.map(\.name)).map {
                        " (did you mean '\($0)'?)"
                    }
                    throw id.error(.invalidValue, "template '\(name)': unknown gateway '\(gateway)'\(hint ?? "")")
                }
                ids[gateway] = try id.string()
            }
            let textNode = try map.required("text")
            do {
                templates[name] = try ApprovedTemplate(
                    name: name, text: try textNode.verbatim(),
                    columns: try map["columns"]?.list().map { try $0.string() } ?? [],
                    ids: ids)
            } catch let error as TemplateError {
                throw textNode.error(.invalidValue, "template '\(name)': \(error.message)")
            }
        }
        return templates
    }

    /// The planner's view of this configuration for a campaign sending `message`.
    public func planSettings(message: CampaignMessage) -> PlanSettings {
        switch message {
        case .text(let template):
            return planSettings(template: template)
        case .approved(let approved):
            // The approved text carries its own opt-out line: nothing is appended to it.
            var settings = planSettings(template: approved.message)
            settings.optoutSuffix = ""
            settings.parameters = approved.variables
            return settings
        }
    }

    /// Why this configuration cannot send `message`: a gateway of a provider that takes only approved templates
    /// for free text, or an approved template without an id at a gateway that needs one. Nil when it can.
    public func refusal(of message: CampaignMessage) -> String? {
        for gateway in gateways where gateway.dialect.provider != nil {
            switch message {
            case .text:
                return "gateway '\(gateway.name)' sends only templates its provider approved: name one with --approved"
            case .approved(let approved) where approved.ids[gateway.name] == nil:
                return
                    "template '\(approved.name)' has no id for gateway '\(gateway.name)' (templates.\(approved.name).ids)"
            case .approved:
                continue
            }
        }
        return nil
    }
}
