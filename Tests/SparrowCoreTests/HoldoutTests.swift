import SparrowCore
import Testing

@Suite struct HoldoutTests {
    static let numbers = (0..<10_000).map { "+86138\(String(10_000_000 + $0 * 7_919).suffix(8))" }

    /// Of 10,000 numbers, a 10% holdout holds about 1,000 (within four standard deviations, 120), the same ones
    /// each time; another campaign holds others.
    @Test func holdsTheShareByNumberAndCampaign() {
        let holdout = Holdout(share: 0.1, campaign: "spring")
        let held = Set(Self.numbers.filter(holdout.holds))
        #expect(abs(held.count - 1_000) <= 120)
        #expect(Set(Self.numbers.filter(Holdout(share: 0.1, campaign: "spring").holds)) == held)
        let other = Set(Self.numbers.filter(Holdout(share: 0.1, campaign: "autumn").holds))
        #expect(held.intersection(other).count < 200)  // independent: about 100 in common
    }

    /// A larger share holds everyone a smaller one does; no share holds nobody.
    @Test func aLargerShareHoldsMore() {
        let small = Set(Self.numbers.filter(Holdout(share: 0.05, campaign: "c").holds))
        let large = Set(Self.numbers.filter(Holdout(share: 0.2, campaign: "c").holds))
        #expect(small.isSubset(of: large))
        #expect(Self.numbers.filter(Holdout(share: 0, campaign: "c").holds).isEmpty)
    }
}
