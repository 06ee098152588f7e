/// Region facts from libphonenumber's metadata and the tz database.
public enum PhoneRegions {
    /// Whether `region` (ISO 3166 alpha-2, either case) has numbering metadata, i.e. can be a default region.
    /// "001" (non-geographic numbers) is not a region in this sense.
    public static func isKnown(_ region: String) -> Bool {
        PhoneMetadataTables.shared.entity(forRegion: region) != nil
    }

    /// The region's country calling code, e.g. 86 for "CN" and 1 for "CA"; nil for unknown regions.
    public static func countryCode(for region: String) -> Int? {
        let tables = PhoneMetadataTables.shared
        return tables.entity(forRegion: region).map { tables.entities[$0].countryCode }
    }

    /// The IANA time zone of a region with exactly one zone in tzdata's zone.tab (else zone1970.tab),
    /// e.g. "Asia/Tokyo" for "JP"; nil for regions with several zones (US, CN, RU, ...) or none listed.
    public static func singleTimeZone(forRegion region: String) -> String? {
        let tables = PhoneMetadataTables.shared
        return tables.entity(forRegion: region).flatMap { tables.timeZones[$0] }
    }
}
