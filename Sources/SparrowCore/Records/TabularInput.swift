/// A file that cannot be read at all (as opposed to a bad row, which is rejected and counted): empty, without a
/// header, or with a header that names none of what the reader needs.
public struct InputFileError: Error, Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

/// What the readers of files that are CSV with a header row or JSON Lines share: telling which one a file is, and
/// reading a JSON line's flat members.
enum TabularInput {
    /// Whether the file is JSON Lines, from its first bytes: a first byte `{` after a BOM and white space says yes,
    /// any other byte no; nil while there is none yet.
    static func isJSONLines(_ leading: some Collection<UInt8>) -> Bool? {
        leading.first { ![0xEF, 0xBB, 0xBF, 0x20, 0x09, 0x0A, 0x0D].contains($0) }.map { $0 == UInt8(ascii: "{") }
    }

    /// A JSON line's members; nil for a blank line.
    /// - Throws: the rejection of an over-long line or of one that is not a flat JSON object.
    static func members(
        line: Int, _ bytes: UnsafeBufferPointer<UInt8>, overlong: Bool
    ) throws(RowRejection) -> [(key: String, value: String)]? {
        if overlong {
            throw RowRejection(line: line, reason: .rowTooLong, message: "the line is longer than the row limit")
        }
        guard bytes.contains(where: { ![0x20, 0x09, 0x0D].contains($0) }) else { return nil }
        do {
            return try FlatJSONObject.parse(bytes)
        } catch {
            throw RowRejection(
                line: line, reason: error.message == "invalid UTF-8" ? .invalidUTF8 : .malformedRow,
                message: "not a JSON object: \(error)")
        }
    }
}
