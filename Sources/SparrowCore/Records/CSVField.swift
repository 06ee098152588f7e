/// CSV output (RFC 4180).
public enum CSVField {
    /// `value` as one field: quoted, with its quotes doubled, when it holds a comma, a quote or a line break.
    public static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else {
            return value
        }
        return "\"" + value.replacing("\"", with: "\"\"") + "\""
    }
}
