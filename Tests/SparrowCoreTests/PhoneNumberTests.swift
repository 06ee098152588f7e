import Foundation
import Testing

@testable import SparrowCore

@Suite("Phone numbers")
struct PhoneNumberTests {
    struct ValidCase: CustomTestStringConvertible, Sendable {
        let input: String
        let region: String?
        let e164: String
        let numberRegion: String
        let type: PhoneNumberType
        var testDescription: String { "\(input) [\(region ?? "-")]" }
    }

    static let validCases: [ValidCase] = [
        ValidCase(input: "138 0013 8000", region: "CN", e164: "+8613800138000", numberRegion: "CN", type: .mobile),
        ValidCase(input: "19212345678", region: "CN", e164: "+8619212345678", numberRegion: "CN", type: .mobile),
        ValidCase(input: "16612345678", region: "CN", e164: "+8616612345678", numberRegion: "CN", type: .mobile),
        ValidCase(input: "19912345678", region: "CN", e164: "+8619912345678", numberRegion: "CN", type: .mobile),
        ValidCase(input: "+86 199 1234 5678", region: nil, e164: "+8619912345678", numberRegion: "CN", type: .mobile),
        ValidCase(
            input: "0086 166-1234-5678", region: "CN", e164: "+8616612345678", numberRegion: "CN",
            type: .mobile),
        ValidCase(input: "86 192 1234 5678", region: "CN", e164: "+8619212345678", numberRegion: "CN", type: .mobile),
        ValidCase(input: "010 1234 5678", region: "CN", e164: "+861012345678", numberRegion: "CN", type: .fixedLine),
        ValidCase(
            input: "+1 (650) 253-0000", region: nil, e164: "+16502530000", numberRegion: "US",
            type: .fixedLineOrMobile),
        ValidCase(
            input: "1 650.253.0000", region: "US", e164: "+16502530000", numberRegion: "US",
            type: .fixedLineOrMobile),
        ValidCase(
            input: "011 44 20 7946 0958", region: "US", e164: "+442079460958", numberRegion: "GB",
            type: .fixedLine),
        ValidCase(input: "+1 268 464 1234", region: nil, e164: "+12684641234", numberRegion: "AG", type: .mobile),
        ValidCase(input: "464 1234", region: "AG", e164: "+12684641234", numberRegion: "AG", type: .mobile),
        ValidCase(
            input: "+39 06 698 12345", region: nil, e164: "+390669812345", numberRegion: "VA",
            type: .fixedLine),
        ValidCase(
            input: "+39 02 1234 5678", region: nil, e164: "+390212345678", numberRegion: "IT",
            type: .fixedLine),
        ValidCase(
            input: "8~10 86 138 0013 8000", region: "RU", e164: "+8613800138000", numberRegion: "CN",
            type: .mobile),
        ValidCase(input: "011 15 2345-6789", region: "AR", e164: "+5491123456789", numberRegion: "AR", type: .mobile),
        ValidCase(
            input: "0 21 11 91234 5678", region: "BR", e164: "+5511912345678", numberRegion: "BR",
            type: .mobile),
        ValidCase(input: "+800 1234 5678", region: nil, e164: "+80012345678", numberRegion: "001", type: .tollFree),
        ValidCase(
            input: "\u{FF0B}\u{FF18}\u{FF16}\u{3000}\u{FF11}\u{FF13}\u{FF18}\u{FF10}\u{FF10}\u{FF11}\u{FF13}"
                + "\u{FF18}\u{FF10}\u{FF10}\u{FF10}", region: nil, e164: "+8613800138000", numberRegion: "CN",
            type: .mobile),
        ValidCase(
            input: "\u{661}\u{663}\u{668}\u{660}\u{660}\u{661}\u{663}\u{668}\u{660}\u{660}\u{660}",
            region: "CN", e164: "+8613800138000", numberRegion: "CN", type: .mobile),
        ValidCase(
            input: "Tel: +86\u{A0}138\u{A0}0013\u{A0}8000.", region: nil, e164: "+8613800138000",
            numberRegion: "CN", type: .mobile),
        ValidCase(input: "'+8613800138000", region: nil, e164: "+8613800138000", numberRegion: "CN", type: .mobile),
        ValidCase(input: "13800138000", region: "cn", e164: "+8613800138000", numberRegion: "CN", type: .mobile),
    ]

    @Test("valid numbers", arguments: validCases)
    func valid(_ example: ValidCase) throws {
        let info = try PhoneNumberParser.parse(example.input, defaultRegion: example.region).get()
        #expect(info.number.e164 == example.e164)
        #expect(info.region == example.numberRegion)
        #expect(info.type == example.type)
    }

    @Test(
        "invalid inputs",
        arguments: [
            ("", "CN", PhoneNumberError.empty),
            (" ( ) ", "CN", .empty),
            ("+", nil, .empty),
            ("n/a", "CN", .empty),
            ("+abc 138 0013 8000", nil, .invalidCharacters),
            ("+1 800 FLOWERS", "US", .invalidCharacters),
            ("650 253 0000 ext. 12", "US", .invalidCharacters),
            ("650 253 0000 ~ 12", "US", .invalidCharacters),
            ("138 0013 8000~. 12", "CN", .invalidCharacters),
            ("138*0013*8000", "CN", .invalidCharacters),
            ("+86 +138 0013 8000", nil, .invalidCharacters),
            ("1-2", "CN", .tooShort),
            ("+86 1", nil, .tooShort),
            ("138 0013 8000 1234 5678 9012 3456", "CN", .tooLong),
            (String(repeating: "1", count: 251), "CN", .tooLong),
            ("+999 123 456 789", "CN", .unknownCountryCode),
            ("13800138000", nil, .missingRegion),
            ("13800138000", "ZZ", .missingRegion),
            ("+86 1380013800", nil, .invalidForRegion("CN")),
            ("+1 555 0100", nil, .invalidForRegion("US")),
        ] as [(String, String?, PhoneNumberError)])
    func invalid(input: String, region: String?, error: PhoneNumberError) {
        #expect(PhoneNumberParser.parse(input, defaultRegion: region) == .failure(error))
    }

    @Test func nationalNumberKeepsItalianLeadingZero() throws {
        let number = try PhoneNumberParser.parse("+39 02 1234 5678", defaultRegion: nil).get().number
        #expect(number.countryCode == 39)
        #expect(number.nationalNumber == "0212345678")
        #expect(number.e164 == "+390212345678")
    }

    @Test func malformedUTF8IsNotPartOfANumber() {
        let digits = Array("13800138000".utf8)
        #expect(
            PhoneNumberParser.parse(utf8: digits[..<3] + [0xFF] + digits[3...], defaultRegion: "CN")
                == .failure(.invalidCharacters))
        #expect(
            PhoneNumberParser.parse(utf8: [0xC3] + digits, defaultRegion: "CN").map(\.number.e164)
                == .success("+8613800138000"))
    }

    @Test func errorDescriptionsDoNotContainTheNumber() {
        let errors: [PhoneNumberError] = [
            .empty, .invalidCharacters, .tooShort, .tooLong, .unknownCountryCode, .invalidForRegion("CN"),
            .missingRegion,
        ]
        for error in errors {
            #expect(!error.description.isEmpty)
            #expect(!error.description.contains { $0.isNumber })
        }
    }

    @Test func utf8AndSubstringInputsAgreeWithString() {
        let line = "id;+86 138 0013 8000;x"
        let field = line.split(separator: ";")[1]
        let expected = PhoneNumberParser.parse(String(field), defaultRegion: nil)
        #expect(PhoneNumberParser.parse(field, defaultRegion: nil) == expected)
        #expect(PhoneNumberParser.parse(utf8: Array(field.utf8), defaultRegion: nil) == expected)
        #expect(PhoneNumberParser.parse(utf8: field.utf8.reversed().reversed(), defaultRegion: nil) == expected)
    }

    @Test func regions() {
        #expect(PhoneRegions.isKnown("CN"))
        #expect(PhoneRegions.isKnown("gb"))
        #expect(!PhoneRegions.isKnown("ZZ"))
        #expect(!PhoneRegions.isKnown("001"))
        #expect(PhoneRegions.countryCode(for: "CN") == 86)
        #expect(PhoneRegions.countryCode(for: "CA") == 1)
        #expect(PhoneRegions.countryCode(for: "XX") == nil)
        #expect(PhoneRegions.singleTimeZone(forRegion: "JP") == "Asia/Tokyo")
        #expect(PhoneRegions.singleTimeZone(forRegion: "FR") == "Europe/Paris")
        #expect(PhoneRegions.singleTimeZone(forRegion: "US") == nil)
        #expect(PhoneRegions.singleTimeZone(forRegion: "CN") == nil)
    }

    @Test func everyRegionOfTheMetadataIsKnown() {
        let tables = PhoneMetadataTables.shared
        #expect(tables.regionCodes.count == 254)
        for region in tables.regionCodes where region != "001" {
            #expect(PhoneRegions.isKnown(region))
        }
    }

    /// Agreement with python-phonenumbers on inputs built from every region's example numbers.
    @Test func oracle() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/phone-oracle.tsv").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var rows = 0
        var mismatches: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.hasPrefix("#") {
            guard !line.isEmpty else { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            try #require(fields.count == 6, "malformed oracle row: \(line)")
            let region = fields[1] == "-" ? nil : fields[1]
            let expected = fields[2...].joined(separator: "\t")
            let actual = Self.oracleAnswer(PhoneNumberParser.parse(fields[0], defaultRegion: region))
            rows += 1
            if actual != expected {
                mismatches.append("\(fields[0]) [\(fields[1])]: expected \(expected), got \(actual)")
            }
        }
        #expect(rows > 1000)
        let report = mismatches.prefix(40).joined(separator: "\n")
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(rows) rows differ:\n\(report)")
    }

    static func oracleAnswer(_ result: Result<PhoneNumberInfo, PhoneNumberError>) -> String {
        switch result {
        case .success(let info):
            return ["valid", info.number.e164, info.region, info.type.rawValue].joined(separator: "\t")
        case .failure(let error):
            let name: String
            switch error {
            case .empty: name = "empty"
            case .invalidCharacters: name = "invalidCharacters"
            case .tooShort: name = "tooShort"
            case .tooLong: name = "tooLong"
            case .unknownCountryCode: name = "unknownCountryCode"
            case .invalidForRegion(let region): name = "invalidForRegion:\(region)"
            case .missingRegion: name = "missingRegion"
            }
            return ["error", name, "", ""].joined(separator: "\t")
        }
    }
}
