extension Timestamp {
    /// Reads a time as order exports write it: RFC 3339 (`2026-11-22T20:00:00+08:00`); with its offset after a space,
    /// as Shopify writes it (`2024-01-05 10:22:33 -0500`); or without an offset, as Taobao writes it
    /// (`2019-05-15 16:50:00`, `2019-05-15 16:50`, `2019-05-15`), taken as local time `offset` seconds east of UTC.
    public init?(exported text: some StringProtocol, offset: Int) {
        let trimmed = String(text).trimmingASCIISpaces
        let bytes = Array(trimmed.utf8)
        if bytes.count == 10, let midnight = Timestamp(rfc3339: trimmed) {  // a bare date: local midnight
            self = midnight + Int64(-offset)
        } else if let instant = Timestamp(rfc3339: trimmed) {
            self = instant
        } else if bytes.count > 6, bytes[bytes.count - 6] == 0x20, [0x2B, 0x2D].contains(bytes[bytes.count - 5]),
            bytes.suffix(4).allSatisfy({ (0x30...0x39).contains($0) })
        {
            let hours = trimmed.utf8.suffix(4).prefix(2)
            let minutes = trimmed.utf8.suffix(2)
            let sign = String(decoding: [bytes[bytes.count - 5]], as: UTF8.self)
            let local = String(decoding: bytes.prefix(bytes.count - 6), as: UTF8.self)
            guard
                let instant = Timestamp(
                    rfc3339: "\(local)\(sign)\(String(decoding: hours, as: UTF8.self)):"
                        + String(decoding: minutes, as: UTF8.self))
            else { return nil }
            self = instant
        } else if let local = Timestamp(rfc3339: trimmed + "Z") {
            self = local + Int64(-offset)
        } else {
            return nil
        }
    }
}
