extension Timestamp {
    /// Reads a time as order exports write it: RFC 3339 (`2026-11-22T20:00:00+08:00`); with its offset after a space,
    /// as Shopify writes it (`2024-01-05 10:22:33 -0500`); or without an offset, as Taobao writes it
    /// (`2019-05-15 16:50:00`, `2019-05-15 16:50`, `2019-05-15`), taken as local time `offset` seconds east of UTC.
    public init?(exported text: some StringProtocol, offset: Int) {
        let trimmed = String(text).trimmingASCIISpaces
        if trimmed.utf8.count == 10, let midnight = Timestamp(rfc3339: trimmed) {  // a bare date: local midnight
            self = midnight + Int64(-offset)
        } else if let instant = Timestamp(rfc3339: trimmed) ?? Timestamp(rfc3339: Self.joiningOffset(trimmed)) {
            self = instant
        } else if let local = Timestamp(rfc3339: trimmed + "Z") {
            self = local + Int64(-offset)
        } else {
            return nil
        }
    }

    /// `2024-01-05 10:22:33 -0500` as RFC 3339 writes it, `2024-01-05 10:22:33-05:00`; other text as it is.
    private static func joiningOffset(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count > 6, bytes[bytes.count - 6] == UInt8(ascii: " "),
            [UInt8(ascii: "+"), UInt8(ascii: "-")].contains(bytes[bytes.count - 5]),
            bytes.suffix(4).allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return text }
        let offset = bytes.suffix(5)
        return String(
            decoding: bytes.prefix(bytes.count - 6) + offset.prefix(3) + [UInt8(ascii: ":")] + offset.suffix(2),
            as: UTF8.self)
    }
}
