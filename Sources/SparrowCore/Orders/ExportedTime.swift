extension Timestamp {
    /// Reads a time as order exports write it: RFC 3339 (`2026-11-22T20:00:00+08:00`); with its offset after a space,
    /// as Shopify writes it (`2024-01-05 10:22:33 -0500`); or without an offset, as Taobao writes it
    /// (`2019-05-15 16:50:00`, `2019-05-15 16:50`, `2019-05-15`), taken as local time `offset` seconds east of UTC.
    public init?(exported text: some StringProtocol, offset: Int) {
        var text = String(text)
        guard let parsed = text.withUTF8({ Timestamp(exported: $0, offset: offset) }) else { return nil }
        self = parsed
    }

    /// Reads a time as order exports write it, from its UTF-8 bytes; see `init(exported:offset:)`.
    public init?(exported bytes: UnsafeBufferPointer<UInt8>, offset: Int) {
        var (start, end) = (bytes.startIndex, bytes.endIndex)
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        guard let parsed = Self.parse(UnsafeBufferPointer(rebasing: bytes[start..<end]), localOffset: offset) else {
            return nil
        }
        self = parsed
    }
}
