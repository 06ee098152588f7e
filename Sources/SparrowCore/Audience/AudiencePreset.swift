/// The audiences store SMS tools offer ready-made, each a filter of the filter language (customers who bought, as
/// every audience is).
public enum AudiencePreset: String, Sendable, CaseIterable {
    /// New-year greetings: everyone who bought in the last two years.
    case newYear = "new-year"
    /// A promotion's pre-heat: repeat buyers of the last year.
    case preHeat = "pre-heat"
    /// Traffic for a hot item: who bought items whose title holds a word (`hot-item:外套`) in the last year.
    case hotItem = "hot-item"
    /// Potential interest: an order left unpaid in the last 90 days and no purchase since.
    case potentialInterest = "potential-interest"
    /// Lost customers: no purchase for more than 180 days.
    case lost
    /// Due to buy again: the last purchase between 0.8 and 1.5 repurchase cycles ago (`repurchase:30`, days; 30
    /// when not given).
    case repurchase
    /// Past buyers: everyone who bought.
    case pastBuyers = "past-buyers"
    /// New customers: one purchase, in the last 30 days.
    case newCustomers = "new-customers"

    /// The condition, in the filter language, of the preset `text` names: `NAME` or `NAME:VALUE`.
    /// - Throws: `AudienceFilterError` naming the presets when `text` is none of them, or what is wrong with its value.
    public static func condition(_ text: String) throws(AudienceFilterError) -> String {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let preset = parts.first.flatMap(AudiencePreset.init(rawValue:)) else {
            throw AudienceFilterError(
                column: 1,
                message: "'\(text)' is not a preset: " + allCases.map(\.rawValue).joined(separator: ", "))
        }
        return try preset.condition(parts.count > 1 ? parts[1] : nil)
    }

    /// The preset's condition, given its value.
    func condition(_ value: String?) throws(AudienceFilterError) -> String {
        func refuse(_ message: String) -> AudienceFilterError {
            AudienceFilterError(column: rawValue.count + 2, message: message)
        }
        switch self {
        case .newYear: return "bought(within: 730d)"
        case .preHeat: return "bought(within: 365d) and frequency >= 2"
        case .hotItem:
            guard let word = value, !word.isEmpty, !word.contains("'") else {
                throw refuse("hot-item needs the word its items' titles hold: hot-item:外套")
            }
            return "bought('\(word)', within: 365d)"
        case .potentialInterest: return "unpaid(within: 90d) and not paid_after_unpaid"
        case .lost: return "recency_days > 180"
        case .repurchase:
            guard let cycle = value.map({ Int($0) }) ?? 30, cycle > 0 else {
                throw refuse("repurchase takes its cycle in whole days: repurchase:30")
            }
            return "recency_days >= \(cycle * 4 / 5) and recency_days <= \(cycle * 3 / 2)"
        case .pastBuyers: return "frequency >= 1"
        case .newCustomers: return "frequency = 1 and recency_days <= 30"
        }
    }
}
