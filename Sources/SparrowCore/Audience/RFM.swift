/// A customer's recency, frequency and monetary scores, each 1 (worst) to 5 (best).
public struct RFMScores: Sendable, Hashable {
    public var recency: Int
    public var frequency: Int
    public var monetary: Int

    public init(recency: Int, frequency: Int, monetary: Int) {
        self.recency = recency
        self.frequency = frequency
        self.monetary = monetary
    }

    /// The named segment of the R and F scores.
    public var segment: RFMSegment { RFMSegment(recency: recency, frequency: frequency) }
}

/// The ten named segments of the R × F scores, as CRM tools commonly draw them.
public enum RFMSegment: String, Sendable, Hashable, CaseIterable {
    case champions, loyal
    case potentialLoyalists = "potential_loyalists"
    case new, promising
    case needAttention = "need_attention"
    case aboutToSleep = "about_to_sleep"
    case atRisk = "at_risk"
    case cantLose = "cant_lose"
    case hibernating

    /// R 5 with F 4–5: champions; R 3–4 with F 4–5: loyal; R 4–5 with F 2–3: potential loyalists; R 5 F 1: new;
    /// R 4 F 1: promising; R 3 F 3: need attention; R 3 with F 1–2: about to sleep; R 1–2 with F 3–4: at risk;
    /// R 1–2 F 5: can't lose; R 1–2 with F 1–2: hibernating.
    /// - Precondition: both scores are 1...5.
    public init(recency r: Int, frequency f: Int) {
        precondition((1...5).contains(r) && (1...5).contains(f), "scores are 1 to 5")
        switch (r, f) {
        case (5, 4...5): self = .champions
        case (3...4, 4...5): self = .loyal
        case (4...5, 2...3): self = .potentialLoyalists
        case (5, 1): self = .new
        case (4, 1): self = .promising
        case (3, 3): self = .needAttention
        case (3, 1...2): self = .aboutToSleep
        case (1...2, 3...4): self = .atRisk
        case (1...2, 5): self = .cantLose
        default: self = .hibernating
        }
    }
}

/// Scores values 1–5 by quintiles of a population ranked by them, higher values scoring higher. A value scores as
/// the first of the population with that value ranks: 1 + ⌊5 · (how many values are lower) / (population)⌋, so that
/// equal values share a score. (With most customers at one purchase, F = 1 then scores 1 for all of them.)
public struct QuintileScale: Sendable {
    private let sorted: [Int64]

    public init(_ values: some Sequence<Int64>) {
        sorted = values.sorted()
    }

    /// The score of `value`; 3 for an empty population.
    public func score(_ value: Int64) -> Int {
        guard !sorted.isEmpty else { return 3 }
        var low = 0
        var high = sorted.count
        while low < high {  // the first index whose value is not below `value`
            let middle = (low + high) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return 1 + low * 5 / sorted.count
    }
}
