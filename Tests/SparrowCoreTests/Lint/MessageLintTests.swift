import SparrowCore
import Testing

/// The rules over real store templates (the CRM articles' examples, and the shipped ones).
@Suite struct MessageLintTests {
    static let store = MessageLint(signature: "【青禾旗舰店】", optoutSuffix: "回T退订", linkDomains: ["qinghe.cn"])
    static let bare = MessageLint(signature: "", optoutSuffix: "", linkDomains: [])

    static func codes(_ findings: [LintFinding]) -> [String] {
        findings.map { "\($0.severity) \($0.code) \($0.line):\($0.column)" }
    }

    @Test func theArticlesTemplatesPassWithTheStoresSignatureAndSuffix() {
        for text in [
            "{{nickname|fit}}，天猫新风尚拉开序幕，45款新品全网首发，19元起全场包邮，马上戳 https://qinghe.cn/new",
            "感谢亲，全店满79.9元减5元哦，多买一套就可以实现优惠了",
            "{{#nickname}}{{nickname}}{{/nickname}}{{^nickname}}亲{{/nickname}}，您拍下的{{item}}还未付款，库存有限",
            "冬季会员价已开启，您上次买的{{last_item}}有新款：{{link}}",
        ] {
            #expect(Self.store.check(text, marketing: true).isEmpty, "\(text)")
        }
    }

    @Test func theSignatureIsTwoToTwelveCharactersInBracketsAtTheStart() {
        // The article's own, written into the text: 【***店】 is four characters.
        let article = "【***店】JJ,天猫新风尚拉开序幕,45款新品全网首发,19元起全场包邮,马上戳……回T退订"
        #expect(Self.bare.check(article, marketing: true).isEmpty)
        #expect(Self.codes(Self.bare.check("【店】您好", marketing: false)) == ["error signature 1:3"])
        #expect(Self.codes(Self.bare.check("【青禾旗舰店官方授权专卖店铺】您好", marketing: false)) == ["error signature 1:15"])
        #expect(Self.codes(Self.bare.check("【青禾旗舰店您好", marketing: false)) == ["error signature 1:1"])
        #expect(Self.codes(Self.bare.check("您好", marketing: false)) == ["warning signature 1:1"])
        let bracketless = MessageLint(signature: "[Qinghe]", optoutSuffix: "", linkDomains: [])
        #expect(Self.codes(bracketless.check("您好", marketing: false)) == ["error signature 1:1"])
        // Outside China, a signature is the store's own affair; the other rules still hold.
        let abroad = MessageLint(signature: "[Qinghe]", optoutSuffix: "", linkDomains: [], chinaSignature: false)
        #expect(abroad.check("Hi Anna", marketing: false).isEmpty)
        #expect(Self.codes(abroad.check("Hi", marketing: true)) == ["warning opt-out 1:3"])
        // A provider signs approved templates itself.
        #expect(Self.bare.check("您的订单{1}已发货", marketing: false, provider: true).isEmpty)
    }

    @Test func marketingEndsWithAWayToRefuse() {
        let noSuffix = MessageLint(signature: "【青禾】", optoutSuffix: "", linkDomains: [])
        #expect(Self.codes(noSuffix.check("会员日全场8折", marketing: true)) == ["warning opt-out 1:8"])
        #expect(noSuffix.check("会员日全场8折，回TD退订", marketing: true).isEmpty)
        #expect(noSuffix.check("Members' day, reply STOP to opt out", marketing: true).isEmpty)
        #expect(noSuffix.check("您的包裹已发出", marketing: false).isEmpty)
        // Alibaba's and Tencent's promotional templates end with their own words.
        #expect(Self.bare.check("会员日全场8折，拒收请回复R", marketing: true, provider: true).isEmpty)
        #expect(
            Self.codes(Self.bare.check("会员日全场8折\n回T退订", marketing: true, provider: true))
                == ["error opt-out 2:5"])
    }

    @Test func linksAreConstantsOfTheStoresDomains() {
        #expect(Self.store.check("新品 https://m.qinghe.cn/a?b=1 qinghe.cn/x", marketing: false).isEmpty)
        #expect(
            Self.codes(Self.store.check("新品 https://qinghe.cn.evil.com/a", marketing: false))
                == ["error link-domain 1:4"])
        #expect(Self.codes(Self.store.check("新品 t.cn/abc", marketing: false)) == ["error link-domain 1:4"])
        #expect(
            Self.codes(Self.store.check("新品 https://qinghe.cn/{{code}}", marketing: false))
                == ["error link-variable 1:4"])
        #expect(Self.codes(Self.store.check("新品 {{shop_url}}", marketing: false)) == ["warning link-variable 1:4"])
        #expect(Self.codes(Self.bare.check("【青禾】新品 qinghe.cn", marketing: false)) == ["warning link-domain 1:8"])
        // Prices, versions and decimals are no links.
        #expect(Self.store.check("满79.9元减5元，v2.0 上线，4.5折", marketing: false).isEmpty)
    }
}
