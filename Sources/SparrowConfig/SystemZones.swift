import Foundation
public import SparrowCore

/// Zone rules read from the system's tzdata through Foundation, tabulated over a horizon around `now` so that the
/// core can answer offsets and wall-clock instants exactly and fast.
public struct SystemZones: ZoneRulesProvider {
    public let horizon: ClosedRange<Timestamp>

    /// Rules valid from two days before `now` to 400 days after it: every deferral a campaign can make.
    public init(around now: Timestamp) {
        horizon = (now + -2 * 86_400)...(now + 400 * 86_400)
    }

    public func rules(for identifier: String) -> ZoneRules? {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        let start = Date(timeIntervalSince1970: TimeInterval(horizon.lowerBound.secondsSince1970))
        var transitions: [Timestamp] = []
        var offsets = [Int64(zone.secondsFromGMT(for: start))]
        var cursor = start
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor),
            next.timeIntervalSince1970 <= TimeInterval(horizon.upperBound.secondsSince1970)
        {
            let offset = Int64(zone.secondsFromGMT(for: next))
            if offset != offsets.last {
                transitions.append(Timestamp(secondsSince1970: Int64(next.timeIntervalSince1970.rounded())))
                offsets.append(offset)
            }
            cursor = next
        }
        return ZoneRules(identifier: identifier, transitions: transitions, offsets: offsets)
    }
}
