import Testing

@testable import SparrowCore

struct MessageIDTests {
    /// The hash is the first 4 bytes of SHA-256 over `campaign NUL line NUL number`: ids must not change between
    /// versions, or a resumed campaign would send its journaled messages again under new keys.
    @Test func idsAreStable() {
        #expect(MessageID.make(campaign: "spring", line: 2, e164: "+8613800138000") == "spring-2-6c11a6f1")
    }

    @Test func hexInBothCases() {
        #expect(Hex.string([]) == "")
        #expect(Hex.string([0x00, 0x0F, 0xA5, 0xFF]) == "000fa5ff")
        #expect(Hex.string([0x05, 0x00, 0x03, 0xBC], uppercase: true) == "050003BC")
        #expect(Hex.string([UInt8](repeating: 0xAB, count: 32)) == String(repeating: "ab", count: 32))
    }

    @Test func theCampaignIsAllBeforeTheLineAndTheHash() {
        let id = MessageID.make(campaign: "spring-sale-2026", line: 42, e164: "+8613800138000")
        #expect(MessageID.campaign(of: id) == "spring-sale-2026")
        #expect(MessageID.campaign(of: "a-1-ff") == "a")
        for foreign in ["", "abc", "a-b", "-1-ff", "a-x-ff", "a--ff", "sim-17"] {
            #expect(MessageID.campaign(of: foreign) == nil, "\(foreign)")
        }
    }
}
