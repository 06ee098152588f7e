import SparrowCore
import Testing

@Suite struct LinkCoderTests {
    let coder = LinkCoder(key: Array("k3y".utf8))

    /// Every code has the same width and names its campaign and line again, at the ends of both ranges too.
    @Test(arguments: [(0, 0), (1, 2), (7, 123_456), (LinkCoder.maxCampaign, LinkCoder.maxLine)])
    func aCodeNamesItsCampaignAndLine(campaign: Int, line: Int) {
        let code = coder.code(campaign: campaign, line: line)
        #expect(code.count == LinkCoder.width)
        #expect(code.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        #expect(coder.decode(code)! == (campaign, line))
    }

    /// An altered character, another store's key, or anything but a code names nothing.
    @Test func anAlteredOrForeignCodeNamesNothing() {
        let code = coder.code(campaign: 3, line: 41)
        var (tried, refused) = (0, 0)
        for position in 0..<code.count {
            for replacement in ["0", "z"] {
                var characters = Array(code)
                guard String(characters[position]) != replacement else { continue }
                characters[position] = Character(replacement)
                tried += 1
                if coder.decode(String(characters)) == nil { refused += 1 }
            }
        }
        #expect(tried >= 10 && refused == tried)  // with this key; a guess passes the tag once in 3,844
        #expect(LinkCoder(key: Array("other".utf8)).decode(code) == nil)
        for text in ["", "short", code + "0", "!!!!!!!!!!", "zzzzzzzzzz"] { #expect(coder.decode(text) == nil) }
    }

    @Test func aTemplateUsesALinkInAnyTag() throws {
        for source in ["看看 {{link}}", "{{ link }}", "{{{link}}}", "{{&link}}", "{{#link}}戳 {{link}}{{/link}}"] {
            #expect(try MessageTemplate(source).uses("link"), "\(source)")
        }
        for source in ["link", "{{links}}", "{{name}} link", "{{#x}}{{/x}}"] {
            #expect(try !MessageTemplate(source).uses("link"), "\(source)")
        }
    }

    @Test func aClickGoesToTheTargetWithItsParameters() {
        #expect(
            TrackedLinks.destination(target: "https://shop.cn/a", campaign: "w1", utm: [("utm_source", "sms")])
                == "https://shop.cn/a?utm_source=sms&utm_campaign=w1")
        #expect(
            TrackedLinks.destination(
                target: "https://shop.cn/a?x=1#top", campaign: "w 1", utm: [("utm_campaign", "冬")])
                == "https://shop.cn/a?x=1&utm_campaign=%E5%86%AC#top")
        let links = TrackedLinks(base: "https://s.cn/s/", campaign: 2, coder: coder)
        #expect(links.link(line: 9) == "https://s.cn/s/" + coder.code(campaign: 2, line: 9))
    }
}
