import Testing

@testable import SparrowCore

@Suite struct PercentEncodingTests {
    @Test(arguments: [
        ("AZaz09-_.~", "AZaz09-_.~"),  // unreserved: kept
        ("*", "%2A"),
        (" ", "%20"),
        ("+", "%2B"),
        ("/", "%2F"),
        (":", "%3A"),
        ("=&", "%3D%26"),
        ("%", "%25"),
        ("阿里云", "%E9%98%BF%E9%87%8C%E4%BA%91"),  // UTF-8 bytes, upper-case hex
        (#"{"customer":"test"}"#, "%7B%22customer%22%3A%22test%22%7D"),
    ])
    func encodesAsTheProvidersSpecify(_ text: String, encoded: String) {
        #expect(FormEncoding.escape(text) == encoded)
    }

    @Test func canonicalQuerySortsByNameAndEncodesNamesAndValues() {
        let query = CanonicalForm.query([("b", "2 3"), ("A1", "*"), ("a", "~"), ("A", "x/y"), ("a b", "+")])
        #expect(query == "A=x%2Fy&A1=%2A&a=~&a%20b=%2B&b=2%203")
    }

    @Test func canonicalHeadersLowerCaseNamesTrimValuesAndSort() {
        let headers = CanonicalForm.headers([("X-Acs-Date", " 2023-10-26T10:22:32Z\t"), ("Host", "example.com")])
        #expect(headers.lines == "host:example.com\nx-acs-date:2023-10-26T10:22:32Z\n")
        #expect(headers.names == "host;x-acs-date")
    }
}
