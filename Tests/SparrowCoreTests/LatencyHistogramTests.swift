import Testing

@testable import SparrowCore

@Suite struct LatencyHistogramTests {
    @Test func bucketsAreExactBelow256AndTileEveryValueInOrderAbove() {
        #expect((0...255).allSatisfy { LatencyHistogram.range(of: LatencyHistogram.bucket(of: Int64($0))) == $0...$0 })
        #expect(LatencyHistogram.bucket(of: -5) == 0)
        var next: Int64 = 0
        for bucket in 0..<(128 * 40) {  // up to 2^40 µs, every bucket starting where the one before ended
            let range = LatencyHistogram.range(of: bucket)
            #expect(range.lowerBound == next)
            #expect(LatencyHistogram.bucket(of: range.lowerBound) == bucket)
            #expect(LatencyHistogram.bucket(of: range.upperBound) == bucket)
            next = range.upperBound + 1
        }
        #expect(LatencyHistogram.range(of: LatencyHistogram.bucket(of: 40_000)) == 39_936...40_191)
        #expect(LatencyHistogram.range(of: LatencyHistogram.bucket(of: .max)).upperBound == .max)
    }

    /// The bucket `locate` names, and the rank in it, find the same value as sorting every latency does.
    @Test(arguments: [1, 7, 100, 5_000])
    func locatingARankAgreesWithSorting(count: Int) throws {
        var random = SplitMix64(seed: UInt64(count))
        let latencies = (0..<count).map { _ in Int64(random.next() % 3) == 0 ? 1_500 : Int64(random.next() % 90_000) }
        var histogram = LatencyHistogram()
        for latency in latencies { histogram.add(microseconds: latency) }
        let sorted = latencies.sorted()
        for percent in [1, 50, 99, 100] {
            let rank = LatencyHistogram.nearestRank(percent: percent, of: count)
            let (bucket, inBucket) = try #require(histogram.locate(rank: rank))
            let inRange = sorted.filter { LatencyHistogram.range(of: bucket).contains($0) }
            #expect(inRange[inBucket - 1] == sorted[rank - 1])
        }
        #expect(histogram.locate(rank: 0) == nil && histogram.locate(rank: count + 1) == nil)
    }

    @Test func mergedHistogramsCountBoth() {
        var first = LatencyHistogram(), second = LatencyHistogram()
        first.add(microseconds: 10)
        second.add(microseconds: 10)
        second.add(microseconds: 70_000)
        first.merge(second)
        #expect(first.total == 3 && first.counts[10] == 2)
    }

    @Test(arguments: [(50, 7, 4), (99, 7, 7), (50, 100, 50), (99, 100, 99), (99, 1, 1), (50, 0, 0)])
    func nearestRankIsTheCeiling(percent: Int, count: Int, rank: Int) {
        #expect(LatencyHistogram.nearestRank(percent: percent, of: count) == rank)
    }
}
