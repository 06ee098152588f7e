public import SparrowCore

/// Reads carrier tables: the `carriers` key of a configuration (an inline list, or `include` files, with
/// optional `overrides` of rates), or the built-in China table when the key is absent or only overrides it.
enum CarrierTables {
    static func read(_ node: YAMLNode?, folder: String, environment: [String: String]) throws -> [Carrier] {
        let builtin = {
            try carriers(
                in: YAMLFile.parse(
                    BuiltinCarriers.china, file: "<built-in carriers/cn.yaml>",
                    environment: environment))
        }
        guard let node else { return try builtin() }
        if node.isSequence {
            return try validated(list(node), at: node)
        }
        let map = try node.mapping(keys: ["include", "list", "overrides"])
        var result: [Carrier] = []
        if let include = map["include"] {
            let paths = include.isSequence ? try include.list() : [include]
            for pathNode in paths {
                let path = SparrowConfiguration.resolve(try pathNode.string(), against: folder)
                do {
                    result += try carriers(in: YAMLFile.read(path, environment: environment))
                } catch let error as ConfigError where error.code == .unreadable && error.location.file == path {
                    throw pathNode.error(.unreadable, "cannot read carrier table '\(path)'")
                }
            }
        }
        if let inline = map["list"] {
            result += try list(inline)
        }
        if map["include"] == nil, map["list"] == nil { result = try builtin() }
        result = try validated(result, at: node)
        if let overrides = map["overrides"] {
            try applyOverrides(overrides, to: &result)
        }
        return result
    }

    private static func carriers(in file: YAMLNode) throws -> [Carrier] {
        try validated(list(file.mapping(keys: ["carriers"]).required("carriers")), at: file)
    }

    private static func list(_ node: YAMLNode) throws -> [Carrier] {
        try node.list().map(carrier)
    }

    static let carrierKeys = ["id", "name", "country_code", "prefixes", "rate", "burst", "unit"]

    private static func carrier(_ node: YAMLNode) throws -> Carrier {
        let map = try node.mapping(keys: carrierKeys)
        let id = try map.required("id").string()
        let countryCode = try map.required("country_code").int(in: 1...999)
        var prefixes: [String] = []
        for prefixNode in try map.required("prefixes").list() {
            let prefix = try prefixNode.string()
            guard !prefix.isEmpty, prefix.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                throw prefixNode.error(.invalidValue, "a prefix is national digits, e.g. 138")
            }
            prefixes.append("\(countryCode)\(prefix)")
        }
        var carrier = Carrier(
            id: id, name: try map["name"]?.string() ?? id, prefixes: prefixes, rate: nil, burst: 1, unit: .messages)
        try applyLimits(map, to: &carrier)
        return carrier
    }

    /// `rate`, `burst` and `unit`, from a carrier entry or an override.
    private static func applyLimits(_ map: YAMLMapping, to carrier: inout Carrier) throws {
        if let rateNode = map["rate"] {
            let rate = try rateNode.positiveDouble()
            guard rate > 0 else { throw rateNode.error(.invalidValue, "a rate must be above 0 (omit it for no limit)") }
            carrier.rate = rate
            carrier.burst = max(1, Int(rate.rounded(.up)) / 10)
        }
        if let burst = map["burst"] { carrier.burst = try burst.int(in: 1...1_000_000) }
        if let unit = map["unit"] { carrier.unit = try unit.oneOf(ThrottleUnit.self) }
    }

    private static func applyOverrides(_ node: YAMLNode, to carriers: inout [Carrier]) throws {
        let ids = carriers.map(\.id)
        let overrides = try node.mapping(keys: ids)
        for (id, entry) in overrides.entries {
            let index = ids.firstIndex(of: id)!
            try applyLimits(entry.mapping(keys: ["rate", "burst", "unit"]), to: &carriers[index])
        }
    }

    private static func validated(_ carriers: [Carrier], at node: YAMLNode) throws -> [Carrier] {
        var seen: Set<String> = []
        for carrier in carriers where !seen.insert(carrier.id).inserted {
            throw node.error(.invalidValue, "carrier id '\(carrier.id)' is defined twice")
        }
        return carriers
    }
}

extension SparrowConfiguration {
    /// The carrier table that ships with Sparrow (China's four carriers).
    public static func builtinCarriers() throws(ConfigError) -> [Carrier] {
        do {
            return try CarrierTables.read(nil, folder: "", environment: [:])
        } catch let error as ConfigError {
            throw error
        } catch {
            preconditionFailure("the built-in carrier table does not parse: \(error)")
        }
    }
}
