/// What a carrier's rate counts.
public enum ThrottleUnit: String, Sendable, Hashable, CaseIterable {
    case messages, segments
}

/// A mobile network operator: which numbers it serves and how fast it accepts them.
public struct Carrier: Sendable, Hashable {
    /// Stable id used in routing, reports and the `carrier` column (`china-mobile`).
    public var id: String
    /// Display name (`中国移动`).
    public var name: String
    /// E.164 digit prefixes (country code first) of the numbers it serves: `86134`, `86198`.
    public var prefixes: [String]
    /// Sustained rate in `unit`s per second; nil for no limit.
    public var rate: Double?
    /// Tokens the bucket holds: how far a burst may run ahead of `rate`.
    public var burst: Int
    public var unit: ThrottleUnit

    public init(id: String, name: String, prefixes: [String], rate: Double?, burst: Int, unit: ThrottleUnit) {
        self.id = id
        self.name = name
        self.prefixes = prefixes
        self.rate = rate
        self.burst = burst
        self.unit = unit
    }

    /// The burst its throttle admits: `burst` less the units of 10 ms of `rate` (rounded up; one unit is always
    /// left), kept in reserve for timing. A message may reach the gateway up to that much after its turn (a lease's
    /// round trip to the database of a shared rate, a timer that wakes late) and the gateway still sees no more than
    /// `rate × d + burst` in any stretch `d`.
    public var admittedBurst: Int {
        guard let rate else { return burst }
        let slack = Int((rate * (Self.timingSlack / .seconds(1))).rounded(.up))
        return max(1, burst - slack)
    }

    /// The time kept in reserve out of a throttled carrier's burst (`admittedBurst`).
    public static let timingSlack = Duration.milliseconds(10)
}

/// Finds a number's carrier by the longest matching E.164 prefix.
///
/// - Complexity: lookups are O(d) in the number's digits over a digit trie; no hashing, no allocation.
public struct CarrierDirectory: Sendable {
    public let carriers: [Carrier]
    private var byID: [String: Int] = [:]
    /// Trie nodes, 10 children each (0 = none); `owner[node]` is a carrier index + 1, or 0.
    private var children: [Int32] = Array(repeating: 0, count: 10)
    private var owner: [Int32] = [0]

    /// - Precondition: ids are unique and prefixes are digits (the config loader checks both with locations).
    public init(_ carriers: [Carrier]) {
        self.carriers = carriers
        for (index, carrier) in carriers.enumerated() {
            precondition(byID.updateValue(index, forKey: carrier.id) == nil, "duplicate carrier id \(carrier.id)")
            for prefix in carrier.prefixes {
                insert(prefix, owner: index)
            }
        }
    }

    public func carrier(id: String) -> Carrier? { byID[id].map { carriers[$0] } }

    /// The carrier whose longest prefix matches `e164Digits` (digits without `+`).
    public func carrier(forE164Digits e164Digits: some Sequence<UInt8>) -> Carrier? {
        var node = 0
        var best: Int32 = 0
        for byte in e164Digits {
            let digit = Int(byte &- UInt8(ascii: "0"))
            guard digit < 10 else { break }
            let next = Int(children[node * 10 + digit])
            guard next != 0 else { break }
            node = next
            if owner[node] != 0 { best = owner[node] }
        }
        return best == 0 ? nil : carriers[Int(best) - 1]
    }

    private mutating func insert(_ prefix: String, owner index: Int) {
        var node = 0
        for byte in prefix.utf8 {
            let digit = Int(byte &- UInt8(ascii: "0"))
            precondition(digit < 10, "carrier prefix must be digits: \(prefix)")
            if children[node * 10 + digit] == 0 {
                children[node * 10 + digit] = Int32(owner.count)
                owner.append(0)
                children.append(contentsOf: repeatElement(0, count: 10))
            }
            node = Int(children[node * 10 + digit])
        }
        owner[node] = Int32(index + 1)
    }
}

/// Where a message goes: a gateway by name, what it charges, and which carriers it takes.
public struct GatewayRoute: Sendable, Hashable {
    public var name: String
    /// Price of one segment, in the account's currency.
    public var pricePerSegment: Double
    /// Carrier ids this gateway serves; empty serves every carrier (and numbers with none).
    public var carriers: [String]

    public init(name: String, pricePerSegment: Double, carriers: [String]) {
        self.name = name
        self.pricePerSegment = pricePerSegment
        self.carriers = carriers
    }

    public func serves(carrierID: String?) -> Bool {
        carriers.isEmpty || carrierID.map(carriers.contains) == true
    }
}
