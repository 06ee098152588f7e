/// CSV output (RFC 4180).
public enum CSVField {
    /// `value` as one field: quoted, with its quotes doubled, when it holds a comma, a quote or a line break.
    public static func escape(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else {
            return value
        }
        return "\"" + value.replacing("\"", with: "\"\"") + "\""
    }
}
