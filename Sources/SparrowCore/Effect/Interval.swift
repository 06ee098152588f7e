/// A 95 % confidence interval around an estimate.
public struct Interval: Sendable, Hashable {
    public var estimate: Double
    public var lower: Double
    public var upper: Double

    public init(estimate: Double, lower: Double, upper: Double) {
        self.estimate = estimate
        self.lower = lower
        self.upper = upper
    }

    /// Whether the interval leaves out zero: the difference it bounds is significant at 95 %.
    public var excludesZero: Bool { lower > 0 || upper < 0 }

    /// The interval with every bound multiplied by `factor` (≥ 0): from a rate to a count, say.
    public func scaled(by factor: Double) -> Interval {
        Interval(estimate: estimate * factor, lower: lower * factor, upper: upper * factor)
    }

    /// The two-sided 95 % normal quantile.
    static let z = 1.959_963_984_540_054

    /// Wilson's score interval for the proportion `successes` of `trials` (Wilson 1927): unlike the plain normal
    /// interval it stays within [0, 1] and is sound for small counts and proportions near 0 or 1.
    /// - Precondition: `0 <= successes <= trials` and `trials > 0`.
    public static func wilson(_ successes: Int, of trials: Int) -> Interval {
        precondition(trials > 0 && (0...trials).contains(successes), "a proportion of \(successes) in \(trials)")
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let denominator = 1 + z2 / n
        let centre = (p + z2 / (2 * n)) / denominator
        let half = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / denominator
        return Interval(estimate: p, lower: max(0, centre - half), upper: min(1, centre + half))
    }

    /// Newcombe's hybrid score interval for the difference of two independent proportions, `a` less `b`, built from
    /// each one's Wilson interval (Newcombe 1998, method 10): the interval two-proportion comparisons are advised to
    /// use, sound where the plain normal one is not (small groups, rates near 0).
    /// - Precondition: both groups have trials.
    public static func difference(
        _ a: (successes: Int, trials: Int), _ b: (successes: Int, trials: Int)
    ) -> Interval {
        let first = wilson(a.successes, of: a.trials)
        let second = wilson(b.successes, of: b.trials)
        let difference = first.estimate - second.estimate
        func square(_ x: Double) -> Double { x * x }
        return Interval(
            estimate: difference,
            lower: difference
                - (square(first.estimate - first.lower) + square(second.upper - second.estimate)).squareRoot(),
            upper: difference
                + (square(first.upper - first.estimate) + square(second.estimate - second.lower)).squareRoot())
    }

    /// The normal (Welch) interval for the difference of two groups' means, `a` less `b`, from each group's count,
    /// sum and sum of squares: fair for large groups, which a campaign's are.
    /// - Precondition: both groups have at least two members.
    public static func meanDifference(_ a: Moments, _ b: Moments) -> Interval {
        let difference = a.mean - b.mean
        let half = z * (a.variance / Double(a.count) + b.variance / Double(b.count)).squareRoot()
        return Interval(estimate: difference, lower: difference - half, upper: difference + half)
    }

    /// A group's count, sum and sum of squares, gathered one value at a time.
    public struct Moments: Sendable, Hashable {
        public private(set) var count = 0
        public private(set) var sum = 0.0
        public private(set) var sumOfSquares = 0.0

        public init() {}

        init(count: Int, sum: Double, sumOfSquares: Double) {
            self.count = count
            self.sum = sum
            self.sumOfSquares = sumOfSquares
        }

        public mutating func add(_ value: Double) {
            count += 1
            sum += value
            sumOfSquares += value * value
        }

        public var mean: Double { count == 0 ? 0 : sum / Double(count) }
        /// The sample variance (n − 1 in the denominator).
        public var variance: Double {
            count < 2 ? 0 : max(0, (sumOfSquares - sum * sum / Double(count)) / Double(count - 1))
        }
    }
}
