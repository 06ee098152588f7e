import Testing

@testable import SparrowCore

@Suite struct AlibabaRPCSignatureTests {
    /// Alibaba's generic worked example (DescribeRegions).
    static let describeRegions = [
        ("AccessKeyId", "testid"), ("Action", "DescribeRegions"), ("Format", "XML"),
        ("SignatureMethod", "HMAC-SHA1"), ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
        ("SignatureVersion", "1.0"), ("Timestamp", "2016-02-23T12:46:24Z"), ("Version", "2014-05-26"),
    ]

    /// Alibaba's SMS worked example (SendSms), with a Chinese signature name and JSON template parameters.
    static let sendSms = [
        ("AccessKeyId", "testId"), ("Action", "SendSms"), ("Format", "XML"), ("OutId", "123"),
        ("PhoneNumbers", "15300000001"), ("RegionId", "cn-hangzhou"), ("SignName", "阿里云短信测试专用"),
        ("SignatureMethod", "HMAC-SHA1"), ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
        ("SignatureVersion", "1.0"), ("TemplateCode", "SMS_71390007"), ("TemplateParam", #"{"customer":"test"}"#),
        ("Timestamp", "2017-07-12T02:42:19Z"), ("Version", "2017-05-25"),
    ]

    @Test func reproducesTheGenericWorkedExample() {
        let signed = AlibabaRPCSignature(method: .GET, parameters: Self.describeRegions, secret: Secret("testsecret"))
        #expect(
            signed.canonicalizedQuery
                == "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1"
                + "&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0"
                + "&Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26")
        #expect(
            signed.stringToSign
                == "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1"
                + "%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0"
                + "%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26")
        #expect(signed.signature == "OLeaidS1JvxuMvnyHOwuJ+uX5qY=")
        #expect(signed.signedQuery == signed.canonicalizedQuery + "&Signature=OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D")
    }

    @Test func reproducesTheSMSWorkedExample() {
        let signed = AlibabaRPCSignature(method: .GET, parameters: Self.sendSms, secret: Secret("testSecret"))
        #expect(
            signed.stringToSign
                == "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123"
                + "%26PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou"
                + "%26SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1"
                + "%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8"
                + "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466"
                + "%26SignatureVersion%3D1.0%26TemplateCode%3DSMS_71390007"
                + "%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D"
                + "%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25")
        #expect(signed.signature == "zJDF+Lrzhj/ThnlvIToysFRq6t4=")
        #expect(signed.signedQuery.hasSuffix("&Signature=zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D"))
    }

    @Test(arguments: 1...20 as ClosedRange<UInt64>)
    func parameterOrderDoesNotMatter(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let shuffled = Self.sendSms.shuffled(using: &generator)
        let signed = AlibabaRPCSignature(method: .GET, parameters: shuffled, secret: Secret("testSecret"))
        #expect(signed.signature == "zJDF+Lrzhj/ThnlvIToysFRq6t4=")
    }

    @Test func theMethodAndTheSecretAreSigned() {
        let reference = AlibabaRPCSignature(method: .GET, parameters: Self.sendSms, secret: Secret("testSecret"))
        let posted = AlibabaRPCSignature(method: .POST, parameters: Self.sendSms, secret: Secret("testSecret"))
        let otherSecret = AlibabaRPCSignature(method: .GET, parameters: Self.sendSms, secret: Secret("testSecreT"))
        #expect(posted.stringToSign.hasPrefix("POST&%2F&"))
        #expect(posted.signature != reference.signature)
        #expect(otherSecret.stringToSign == reference.stringToSign)
        #expect(otherSecret.signature != reference.signature)
    }

    @Test func theSecretAppearsNowhere() {
        let signed = AlibabaRPCSignature(method: .GET, parameters: Self.sendSms, secret: Secret("testSecret"))
        #expect(!signed.signedQuery.contains("testSecret"))
        #expect(!signed.stringToSign.contains("testSecret"))
        #expect(!String(describing: signed).contains("testSecret"))
    }
}
