import Testing

@testable import SparrowCore

@Suite struct TencentTC3SignatureTests {
    /// Tencent's worked examples (CVM DescribeInstances): the body with its `\u` escapes as literal text.
    static let body = Array(
        #"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#.utf8)
    static let hashedPayload = "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    static let timestamp = Timestamp(secondsSince1970: 1_551_113_065)

    static func sign(action: String? = nil, secret: String = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE") -> TencentTC3Signature
    {
        TencentTC3Signature(
            service: "cvm", host: "cvm.tencentcloudapi.com", contentType: "application/json; charset=utf-8",
            action: action, body: body, timestamp: timestamp, secretID: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            secret: Secret(secret))
    }

    @Test func reproducesTheExampleThatSignsContentTypeAndHost() {
        let signed = Self.sign()
        #expect(signed.hashedPayload == Self.hashedPayload)
        #expect(signed.signedHeaders == "content-type;host")
        #expect(
            signed.canonicalRequest
                == "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n"
                + "content-type;host\n\(Self.hashedPayload)")
        #expect(
            CanonicalForm.sha256Hex(signed.canonicalRequest.utf8)
                == "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031")
        #expect(signed.credentialScope == "2019-02-25/cvm/tc3_request")
        #expect(
            signed.stringToSign
                == "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
                + "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031")
        #expect(signed.signature == "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168")
        #expect(
            signed.authorization
                == "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
                + "SignedHeaders=content-type;host, "
                + "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168")
    }

    @Test func reproducesTheExampleThatAlsoSignsTheAction() {
        let secret = String(repeating: "*", count: 32)
        let signed = Self.sign(action: "DescribeInstances", secret: secret)
        #expect(signed.signedHeaders == "content-type;host;x-tc-action")
        #expect(
            signed.canonicalRequest
                == "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n"
                + "x-tc-action:describeinstances\n\ncontent-type;host;x-tc-action\n\(Self.hashedPayload)")
        #expect(
            CanonicalForm.sha256Hex(signed.canonicalRequest.utf8)
                == "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84")
        #expect(
            signed.stringToSign
                == "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
                + "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84")
        let keys = TencentTC3Signature.derivedKeys(secret: Secret(secret), date: "2019-02-25", service: "cvm")
        #expect(Hex.string(keys.date) == "da98fb70dcf6b112dc21038d1eeeb3a95c74b4dcb12c1131f864f6066bd02be0")
        #expect(Hex.string(keys.service) == "8d70cbefb03939f929db64d32dc2ba89b1095620119fe3e050e2b18c5bd2752f")
        #expect(Hex.string(keys.signing) == "b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af")
        #expect(signed.signature == "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f")
        #expect(
            signed.authorization
                == "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
                + "SignedHeaders=content-type;host;x-tc-action, "
                + "Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f")
    }

    @Test(
        arguments: [
            (1_551_113_065, "2019-02-25"),
            (1_551_139_199, "2019-02-25"),  // 23:59:59 UTC
            (1_551_139_200, "2019-02-26"),  // midnight UTC
            (0, "1970-01-01"),
            (951_782_400, "2000-02-29"),
        ] as [(Int64, String)])
    func theDateIsTheTimestampsUTCDate(_ seconds: Int64, date: String) {
        #expect(TencentTC3Signature.date(of: Timestamp(secondsSince1970: seconds)) == date)
    }

    @Test func theScopeChangesAtUTCMidnight() {
        func sign(at seconds: Int64) -> TencentTC3Signature {
            TencentTC3Signature(
                service: "sms", host: "sms.tencentcloudapi.com", contentType: "application/json", action: "SendSms",
                body: Self.body, timestamp: Timestamp(secondsSince1970: seconds), secretID: "id", secret: Secret("k"))
        }
        let before = sign(at: 1_551_139_199)
        let after = sign(at: 1_551_139_200)
        #expect(before.credentialScope == "2019-02-25/sms/tc3_request")
        #expect(after.credentialScope == "2019-02-26/sms/tc3_request")
        #expect(before.canonicalRequest == after.canonicalRequest)
        #expect(before.signature != after.signature)
    }

    @Test func aDifferentSecretChangesTheSignature() {
        let signed = Self.sign(secret: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLF")
        #expect(signed.stringToSign == Self.sign().stringToSign)
        #expect(signed.signature != Self.sign().signature)
    }

    @Test func theSecretAppearsNowhere() {
        let signed = Self.sign()
        #expect(!signed.authorization.contains("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"))
        #expect(!String(describing: signed).contains("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"))
    }
}
