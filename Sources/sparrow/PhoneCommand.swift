import ArgumentParser
import SparrowConfig
import SparrowCore

struct Phone: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Normalise and validate a phone number; show its region, type and carrier.")

    @Argument(help: "The number as written, e.g. '138 0013 8000' or +8613800138000.")
    var number: String

    @Option(help: "Region (ISO 3166) for a number written without a country code.")
    var region: String = "CN"

    @Option(help: "Configuration whose carrier tables name the carrier (default: the built-in China table).")
    var config: String?

    func run() throws {
        let region = region.uppercased()
        guard PhoneRegions.isKnown(region) else {
            throw UsageError(message: "'\(region)' is not a region code (ISO 3166, e.g. CN)")
        }
        let carriers =
            try config.map { try SparrowConfiguration.load(path: $0).carriers }
            ?? SparrowConfiguration.builtinCarriers()
        let directory = CarrierDirectory(carriers)
        var json = JSONWriter()
        json.object { object in
            object.field("input", number)
            switch PhoneNumberParser.parse(number, defaultRegion: region) {
            case .success(let info):
                object.field("valid", true)
                object.field("e164", info.number.e164)
                object.field("region", info.region)
                object.field("type", info.type.rawValue)
                object.field("carrier", directory.carrier(forE164Digits: info.number.e164.utf8.dropFirst())?.id)
            case .failure:
                object.field("valid", false)
                for key: StaticString in ["e164", "region", "type", "carrier"] { object.nullField(key) }
            }
        }
        print(String(decoding: json.bytes, as: UTF8.self))
    }
}
