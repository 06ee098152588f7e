/// Submit latencies counted in buckets: one a microsecond below 256 µs, then 128 an octave, so that a campaign's
/// counts take at most 7,424 entries, whatever its size.
///
/// A percentile comes out exact in two passes over the latencies: the counts tell which bucket holds its rank and
/// where in the bucket (`locate`); counting the latencies of that bucket alone, by value, then finds it.
public struct LatencyHistogram: Sendable, Hashable {
    /// Latencies by bucket.
    public private(set) var counts: [Int: Int] = [:]
    public private(set) var total = 0

    public init() {}

    public mutating func add(microseconds: Int64) {
        counts[Self.bucket(of: microseconds), default: 0] += 1
        total += 1
    }

    public mutating func merge(_ other: LatencyHistogram) {
        counts.merge(other.counts, uniquingKeysWith: +)
        total += other.total
    }

    /// The bucket holding the `rank`-th smallest latency (from 1), and that latency's rank among the bucket's.
    public func locate(rank: Int) -> (bucket: Int, rank: Int)? {
        guard rank >= 1, rank <= total else { return nil }
        var below = 0
        for bucket in counts.keys.sorted() {
            let count = counts[bucket, default: 0]
            if below + count >= rank { return (bucket, rank - below) }
            below += count
        }
        return nil
    }

    private static let exactBits = 8
    private static let subBits = 7

    /// Values below 2^8 are buckets of their own; above, each octave is split in 2^7 buckets of equal width.
    public static func bucket(of microseconds: Int64) -> Int {
        let value = UInt64(max(0, microseconds))
        guard value >= 1 << exactBits else { return Int(value) }
        let shift = (63 - value.leadingZeroBitCount) - subBits  // at least exactBits - subBits
        return (shift << subBits) + Int(value >> shift)
    }

    /// The latencies `bucket` counts.
    public static func range(of bucket: Int) -> ClosedRange<Int64> {
        guard bucket >= 1 << exactBits else { return Int64(bucket)...Int64(bucket) }
        let shift = (bucket >> subBits) - 1
        let low = Int64(bucket - (shift << subBits)) << shift
        return low...(low + ((1 << shift) - 1))
    }

    /// Nearest rank, from 1: the ⌈p × count / 100⌉-th smallest of `count` values is their `percent`th percentile.
    public static func nearestRank(percent: Int, of count: Int) -> Int {
        (percent * count + 99) / 100
    }
}
