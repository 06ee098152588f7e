import Testing

@testable import SparrowCore

@Suite struct AlibabaV3SignatureTests {
    /// Alibaba's worked example of the V3 signature (ECS RunInstances, empty body).
    static let query = [
        ("RegionId", "cn-shanghai"), ("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"),
    ]
    static let headers = [
        ("host", "ecs.cn-shanghai.aliyuncs.com"), ("x-acs-action", "RunInstances"),
        ("x-acs-date", "2023-10-26T10:22:32Z"), ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
        ("x-acs-version", "2014-05-26"),
    ]
    static let emptyBodyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let signature = "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"

    static func sign(
        headers: [(String, String)] = headers, body: [UInt8] = [], secret: String = "YourAccessKeySecret"
    ) -> AlibabaV3Signature {
        AlibabaV3Signature(
            method: .POST, query: query, headers: headers, body: body, accessKeyID: "YourAccessKeyId",
            secret: Secret(secret))
    }

    @Test func reproducesTheWorkedExample() {
        let signed = Self.sign()
        #expect(signed.hashedPayload == Self.emptyBodyHash)
        #expect(
            signed.signedHeaders
                == "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version")
        #expect(
            signed.canonicalRequest == """
                POST
                /
                ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai
                host:ecs.cn-shanghai.aliyuncs.com
                x-acs-action:RunInstances
                x-acs-content-sha256:\(Self.emptyBodyHash)
                x-acs-date:2023-10-26T10:22:32Z
                x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d
                x-acs-version:2014-05-26

                host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version
                \(Self.emptyBodyHash)
                """)
        #expect(
            CanonicalForm.sha256Hex(signed.canonicalRequest.utf8)
                == "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259")
        #expect(
            signed.stringToSign == "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259")
        #expect(signed.signature == Self.signature)
        #expect(
            signed.authorization
                == "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;"
                + "x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=\(Self.signature)")
    }

    @Test(arguments: 1...20 as ClosedRange<UInt64>)
    func headerOrderAndCaseDoNotMatter(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let headers = Self.headers.shuffled(using: &generator).map { (name, value) in
            (generator.next() % 2 == 0 ? name.uppercased() : name, " \(value) ")
        }
        #expect(Self.sign(headers: headers).signature == Self.signature)
    }

    @Test func signsOnlyHostContentTypeAndAlibabasHeaders() {
        let signed = Self.sign(
            headers: Self.headers + [
                ("Accept", "application/json"), ("Content-Type", "application/json"),
                ("x-acs-content-sha256", "not the body's hash"),
            ],
            body: Array("{}".utf8))
        #expect(
            signed.signedHeaders
                == "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version")
        #expect(signed.hashedPayload == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
        #expect(signed.canonicalRequest.contains("x-acs-content-sha256:\(signed.hashedPayload)\n"))
        #expect(!signed.canonicalRequest.contains("accept"))
        #expect(!signed.canonicalRequest.contains("not the body's hash"))
    }

    @Test func aDifferentSecretChangesTheSignature() {
        let signed = Self.sign(secret: "YourAccessKeySecreT")
        #expect(signed.stringToSign == Self.sign().stringToSign)
        #expect(signed.signature != Self.signature)
    }

    @Test func theSecretAppearsNowhere() {
        let signed = Self.sign()
        #expect(!signed.authorization.contains("YourAccessKeySecret"))
        #expect(!String(describing: signed).contains("YourAccessKeySecret"))
    }
}
