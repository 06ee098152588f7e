import Crypto

/// The canonical forms that the cloud providers' request signatures are computed over.
enum CanonicalForm {
    /// Parameters sorted by name (by UTF-8 bytes; by value where names repeat), each name and value percent-encoded
    /// as RFC 3986 says (all but `A–Z a–z 0–9 - _ . ~` become `%XX` over UTF-8), joined as `name=value` with `&`.
    static func query(_ parameters: [(String, String)]) -> String {
        let sorted = parameters.sorted {
            $0.0 == $1.0
                ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8)
        }
        return FormEncoding.encode(sorted)
    }

    /// Headers with lower-cased names and trimmed values, sorted by name: each as a `name:value\n` line, and the
    /// names joined with `;` (the signed headers).
    static func headers(_ headers: [(String, String)]) -> (lines: String, names: String) {
        let sorted = headers.map { ($0.0.lowercased(), trimmed($0.1)) }.sorted {
            $0.0.utf8.lexicographicallyPrecedes($1.0.utf8)
        }
        return (sorted.map { "\($0.0):\($0.1)\n" }.joined(), sorted.map(\.0).joined(separator: ";"))
    }

    /// Lower-case hex of the SHA-256 of `bytes`.
    static func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
        Hex.string(SHA256.hash(data: Array(bytes)))
    }

    /// HMAC-SHA256 of `message` under `key`.
    static func hmacSHA256(key: [UInt8], _ message: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: key)))
    }

    private static func trimmed(_ value: String) -> Substring {
        guard let first = value.firstIndex(where: { !$0.isWhitespace }),
            let last = value.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return value[first...last]
    }
}
