import Testing

@testable import SparrowCore

/// `{{name|fit}}`: a message fitted into a number of segments by shortening the variables marked so.
@Suite struct FitTests {
    static let template = "{{nickname|fit}}，冬季会员价已开启，回T退订"

    /// The longest nickname that fits is kept whole characters; one more would take a second segment.
    @Test func aMarkedVariableIsCutToTheLongestThatFits() throws {
        let template = try MessageTemplate(Self.template)
        let nickname = String(repeating: "王", count: 80)
        let text = try template.render(["nickname": nickname], prefix: "【青禾】", maxSegments: 1).get()
        #expect(Segmenter.count(text) == SegmentCount(encoding: .ucs2, units: 70, segments: 1))
        let kept = 70 - "【青禾】，冬季会员价已开启，回T退订".utf16.count
        #expect(text == "【青禾】" + String(repeating: "王", count: kept) + "，冬季会员价已开启，回T退订")
        // Without a limit, or within it, the value goes whole.
        #expect(try template.render(["nickname": nickname], prefix: "【青禾】").get().contains(nickname))
        #expect(try template.render(["nickname": "王芳"], maxSegments: 1).get() == "王芳，冬季会员价已开启，回T退订")
    }

    /// A cut never splits a character: an emoji of several scalars goes whole or not at all.
    @Test func aCutFallsOnACharacterBoundary() throws {
        let template = try MessageTemplate("Hi {{name|fit}}! Your order has shipped.")
        let family = "👨‍👩‍👧‍👦"  // eleven UTF-16 units, one character
        let name = String(repeating: family, count: 12)
        let text = try template.render(["name": name], maxSegments: 1).get()
        let kept = text.dropFirst(3).prefix { $0 != "!" }
        #expect(kept.allSatisfy { String($0) == family } && !kept.isEmpty)
        #expect(Segmenter.count(text).segments == 1)
        #expect(Segmenter.count("Hi " + kept + family + "! Your order has shipped.").segments == 2)
    }

    /// Templates beyond the flat subset render through swift-mustache, fitted alike; a fault keeps its column.
    @Test func swiftMustacheFitsToo() throws {
        let template = try MessageTemplate("{{#vip}}\n尊敬的会员\n{{/vip}}{{nickname|fit}}，冬季会员价已开启")
        #expect(!template.isFlat)
        let text = try template.render(
            ["vip": "1", "nickname": String(repeating: "王", count: 80)], maxSegments: 1
        ).get()
        #expect(Segmenter.count(text) == SegmentCount(encoding: .ucs2, units: 70, segments: 1))
        #expect(text.hasSuffix(String(repeating: "王", count: 53) + "，冬季会员价已开启"))
        // The section left open is found at the end of the text, column 23: the mark counts as written.
        #expect(throws: TemplateError(line: 1, column: 23, message: "section is not closed")) {
            try MessageTemplate("{{nickname|fit}}{{#x}}")
        }
    }

    /// Each marked variable is cut to the same number of characters at most: a short one keeps its length.
    @Test func marksShareOneCut() throws {
        let template = try MessageTemplate("{{a|fit}}和{{b|fit}}")
        let text = try template.render(
            ["a": String(repeating: "甲", count: 100), "b": "乙乙"], maxSegments: 1
        ).get()
        #expect(text == String(repeating: "甲", count: 67) + "和乙乙")
        #expect(Segmenter.count(text).units == 70)
    }

    /// Text that does not fit with every marked variable at one character is refused, with what it needs then;
    /// without marks, any text over the limit is.
    @Test func whatCannotFitIsRefusedWithItsLength() throws {
        let long = String(repeating: "长", count: 80)
        let marked = try MessageTemplate("{{name|fit}}" + long)
        #expect(
            marked.render(["name": "王芳"], maxSegments: 1)
                == .failure(.tooLong(Segmenter.count("王" + long))))
        let plain = try MessageTemplate("{{name}}" + long)
        #expect(plain.render(["name": "王芳"], maxSegments: 1) == .failure(.tooLong(Segmenter.count("王芳" + long))))
        #expect(try plain.render(["name": "王芳"], maxSegments: 2).get() == "王芳" + long)
    }

    /// A marked variable the row lacks is missing by its own name, and the template uses that name.
    @Test func aMarkedVariableIsNamedWithoutItsMark() throws {
        let template = try MessageTemplate(Self.template)
        #expect(template.fitted == ["nickname"] && template.uses("nickname"))
        #expect(template.render([:], maxSegments: 1) == .failure(.missing(MissingVariable(name: "nickname"))))
        #expect(template.render([:]) == .failure(MissingVariable(name: "nickname")))
    }

    /// The planner fits the text with its signature and opt-out line, which it never cuts, and refuses a row that
    /// cannot fit with the reason.
    @Test func thePlannerFitsOrRefuses() throws {
        var settings = PlanSettings(
            template: try MessageTemplate("{{nickname|fit}}，您的{{item}}已发货"), signature: "【青禾】", optoutSuffix: "回T退订",
            defaultRegion: "CN", defaultTimeZone: "Asia/Shanghai", quietHours: nil, carriers: PlannerTests.carriers,
            gateways: [GatewayRoute(name: "all", pricePerSegment: 0.05, carriers: [])])
        settings.maxSegments = 1
        var planner = Planner(settings: settings, zones: FixedZones())
        let now = PlannerTests.noonInShanghai
        let fitted = try planner.plan(
            RecipientRow(
                line: 2, values: ["phone": "13800138000", "nickname": String(repeating: "芳", count: 90), "item": "围巾"]),
            now: now
        ).get()
        #expect(fitted.segments.segments == 1 && fitted.text.hasPrefix("【青禾】芳") && fitted.text.hasSuffix("已发货回T退订"))
        let refused = planner.plan(
            RecipientRow(
                line: 3, values: ["phone": "13800138000", "nickname": "芳", "item": String(repeating: "围", count: 70)]),
            now: now)
        guard case .failure(let rejection) = refused else {
            Issue.record("a message that cannot fit is refused")
            return
        }
        #expect(rejection.reason == .tooLong)
        #expect(
            rejection.message
                == "the message takes 2 segments, more than the 1 allowed, even with {{nickname}} cut to one character")
    }
}
