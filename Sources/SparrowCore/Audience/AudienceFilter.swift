/// A condition on an audience's members, in a small language that can only compare, never run anything:
///
/// ```
/// aov > 500 and segment in [at_risk, cant_lose]
/// not (recency_days <= 30) or frequency >= 3
/// grid_value = high and action != leave_out
/// bought('外套', within: 365d) and item contains '女' and aov > 500
/// unpaid(within: 30d) and not paid_after_unpaid
/// ```
///
/// Numbers compare with `=`, `!=`, `<`, `<=`, `>`, `>=`; names (segments, actions, bands) with `=`, `!=` and `in
/// [a, b]`; conditions combine with `not`, `and` (binding tighter) and `or`, and group with parentheses. Names may be
/// written bare or in single quotes. Amounts are in the currency's main unit (`aov > 500` is 500 yuan).
///
/// `bought('word', within: 365d)` holds for a purchase of an item whose title contains the word, within the last 365
/// days (`d` or `h`) before the audience's instant; the word and the window are each optional. `item contains
/// 'word'` is `bought('word')`. `unpaid(within: 30d)` holds for an order left unpaid, placed within the window;
/// `paid_after_unpaid` for a purchase after the latest unpaid order.
public struct AudienceFilter: Sendable {
    private let condition: Condition
    /// The words `bought` and `item contains` look for, each once, in order: the customers' book must track them
    /// (`CustomerBook(keywords:)`).
    public let keywords: [String]
    /// The filter names a field of the customers' marketing history (`received`, `responded`, …): their members need
    /// it from the store (`AudienceMember.marketing`).
    public let readsMarketing: Bool

    /// Compiles `text`.
    /// - Throws: `AudienceFilterError` naming the column where the text stops making sense.
    public init(_ text: String) throws(AudienceFilterError) {
        var parser = Parser(tokens: try Lexer.tokens(of: text), end: text.count + 1)
        condition = try parser.expression()
        guard parser.isAtEnd else { throw parser.error("expected 'and', 'or' or the end") }
        keywords = parser.keywords
        readsMarketing = parser.readsMarketing
    }

    /// Whether `member` meets the condition.
    /// - Precondition: `member`'s history tracked this filter's `keywords`.
    public func admits(_ member: AudienceMember) -> Bool {
        condition.holds(for: member)
    }

    /// The fields a filter may name, and how each reads a member.
    static let numbers: [String: @Sendable (AudienceMember) -> Double] = [
        "recency_days": { Double($0.recencyDays) },
        "frequency": { Double($0.history.purchases) },
        "monetary": { Double($0.history.spent.minorUnits) / 100 },
        "aov": { Double($0.history.averageOrderValue.minorUnits) / 100 },
        "r_score": { Double($0.scores.recency) },
        "f_score": { Double($0.scores.frequency) },
        "m_score": { Double($0.scores.monetary) },
        "unpaid_orders": { Double($0.history.unpaidOrders) },
        "received": { Double($0.marketing.received) },
        "responded": { Double($0.marketing.responded) },
        "response_rate": { $0.marketing.responseRate },
        "days_since_marketing": { member in
            member.marketing.lastSent.map { Double(max(0, member.now.secondsSince1970 - $0.secondsSince1970) / 86_400) }
                ?? .infinity
        },
    ]
    /// The fields read from the store's marketing history.
    static let marketingFields: Set = ["received", "responded", "response_rate", "days_since_marketing"]
    static let names: [String: (read: @Sendable (AudienceMember) -> String, values: [String])] = [
        "segment": ({ $0.segment.rawValue }, RFMSegment.allCases.map(\.rawValue)),
        "action": ({ $0.cell.action.rawValue }, GridAction.allCases.map(\.rawValue)),
        "grid_recency": ({ $0.cell.recency.label }, GridCell.Recency.allCases.map(\.label)),
        "grid_value": ({ $0.cell.highValue ? "high" : "mid" }, ["high", "mid"]),
    ]
}

/// Why a filter does not compile, and where.
public struct AudienceFilterError: Error, Hashable, Sendable, CustomStringConvertible {
    /// 1-based, in characters.
    public var column: Int
    public var message: String
    public var description: String { "column \(column): \(message)" }
}

private indirect enum Condition: Sendable {
    case not(Condition)
    case and(Condition, Condition)
    case or(Condition, Condition)
    case number(@Sendable (AudienceMember) -> Double, Comparison, Double)
    case name(@Sendable (AudienceMember) -> String, Set<String>, negated: Bool)
    /// A purchase (of an item with the keyword at this index) within this many seconds.
    case bought(keyword: Int?, within: Int64?)
    case unpaid(within: Int64?)
    case paidAfterUnpaid

    /// Whether `time` is set, and within `window` seconds before `now` when there is one.
    private static func isRecent(_ time: Timestamp?, _ window: Int64?, _ now: Timestamp) -> Bool {
        guard let time else { return false }
        return window.map { time >= now + -$0 } ?? true
    }

    enum Comparison: String, Sendable {
        case equal = "=", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    func holds(for member: AudienceMember) -> Bool {
        switch self {
        case .not(let condition): !condition.holds(for: member)
        case .and(let left, let right): left.holds(for: member) && right.holds(for: member)
        case .or(let left, let right): left.holds(for: member) || right.holds(for: member)
        case .name(let read, let values, let negated): values.contains(read(member)) != negated
        case .bought(let keyword, let within):
            Self.isRecent(
                keyword.map { member.history.keywordPurchases[$0] } ?? member.history.lastPurchase, within, member.now)
        case .unpaid(let within): Self.isRecent(member.history.lastUnpaid, within, member.now)
        case .paidAfterUnpaid:
            member.history.lastUnpaid.map { unpaid in member.history.lastPurchase.map { $0 > unpaid } ?? false }
                ?? false
        case .number(let read, let comparison, let value):
            switch comparison {
            case .equal: read(member) == value
            case .notEqual: read(member) != value
            case .less: read(member) < value
            case .lessOrEqual: read(member) <= value
            case .greater: read(member) > value
            case .greaterOrEqual: read(member) >= value
            }
        }
    }
}

private struct Token {
    enum Kind: Equatable {
        case word(String)
        case quoted(String)
        case number(Double)
        case symbol(String)
    }

    var kind: Kind
    var column: Int
}

private enum Lexer {
    static func tokens(of text: String) throws(AudienceFilterError) -> [Token] {
        var tokens: [Token] = []
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let column = index + 1
            if character == " " || character == "\t" {
                index += 1
            } else if character.isLetter || character == "_" {
                var word = ""
                while index < characters.count,
                    characters[index].isLetter || characters[index].isNumber
                        || characters[index] == "_"
                {
                    word.append(characters[index])
                    index += 1
                }
                tokens.append(Token(kind: .word(word), column: column))
            } else if character.isNumber || character == "." {
                var number = ""
                while index < characters.count, characters[index].isNumber || characters[index] == "." {
                    number.append(characters[index])
                    index += 1
                }
                guard let value = Double(number) else {
                    throw AudienceFilterError(column: column, message: "'\(number)' is not a number")
                }
                tokens.append(Token(kind: .number(value), column: column))
            } else if character == "'" {
                guard let close = characters[(index + 1)...].firstIndex(of: "'") else {
                    throw AudienceFilterError(column: column, message: "a quote that is never closed")
                }
                tokens.append(Token(kind: .quoted(String(characters[(index + 1)..<close])), column: column))
                index = close + 1
            } else if let symbol = ["!=", "<=", ">=", "=", "<", ">", "(", ")", "[", "]", ",", ":"].first(where: {
                characters[index...].starts(with: $0)
            }) {
                tokens.append(Token(kind: .symbol(symbol), column: column))
                index += symbol.count
            } else {
                throw AudienceFilterError(column: column, message: "unexpected '\(character)'")
            }
        }
        return tokens
    }
}

private struct Parser {
    let tokens: [Token]
    /// The column just past the text, for errors at its end.
    let end: Int
    var position = 0
    /// The words `bought` and `item contains` named, each once.
    var keywords: [String] = []
    var readsMarketing = false

    var isAtEnd: Bool { position == tokens.count }

    /// The next token closes a parenthesis.
    var isClosing: Bool { position < tokens.count && tokens[position].kind == .symbol(")") }

    func error(_ message: String) -> AudienceFilterError {
        AudienceFilterError(column: position < tokens.count ? tokens[position].column : end, message: message)
    }

    mutating func take(_ kind: Token.Kind) -> Bool {
        guard position < tokens.count, tokens[position].kind == kind else { return false }
        position += 1
        return true
    }

    mutating func expression() throws(AudienceFilterError) -> Condition {
        var condition = try conjunction()
        while take(.word("or")) { condition = .or(condition, try conjunction()) }
        return condition
    }

    mutating func conjunction() throws(AudienceFilterError) -> Condition {
        var condition = try negation()
        while take(.word("and")) { condition = .and(condition, try negation()) }
        return condition
    }

    mutating func negation() throws(AudienceFilterError) -> Condition {
        if take(.word("not")) { return .not(try negation()) }
        if take(.symbol("(")) {
            let condition = try expression()
            guard take(.symbol(")")) else { throw error("expected ')'") }
            return condition
        }
        return try comparison()
    }

    mutating func comparison() throws(AudienceFilterError) -> Condition {
        guard position < tokens.count, case .word(let field) = tokens[position].kind else {
            throw error("expected a field: \(Self.fields.joined(separator: ", "))")
        }
        let fieldColumn = tokens[position].column
        position += 1
        switch field {
        case "bought":
            guard take(.symbol("(")) else { throw error("expected '(' after 'bought'") }
            var keyword: Int?
            if position < tokens.count, case .quoted(let word) = tokens[position].kind {
                position += 1
                keyword = index(of: word)
                if !take(.symbol(",")) { return try close(.bought(keyword: keyword, within: nil)) }
            }
            return try close(.bought(keyword: keyword, within: isClosing ? nil : try window()))
        case "unpaid":
            guard take(.symbol("(")) else { throw error("expected '(' after 'unpaid'") }
            return try close(.unpaid(within: isClosing ? nil : try window()))
        case "item":
            guard take(.word("contains")) else { throw error("expected 'contains' after 'item'") }
            guard position < tokens.count, case .quoted(let word) = tokens[position].kind else {
                throw error("expected a word in single quotes")
            }
            position += 1
            return .bought(keyword: index(of: word), within: nil)
        case "paid_after_unpaid":
            return .paidAfterUnpaid
        default:
            break
        }
        if let read = AudienceFilter.numbers[field] {
            if AudienceFilter.marketingFields.contains(field) { readsMarketing = true }
            guard position < tokens.count, case .symbol(let symbol) = tokens[position].kind,
                let comparison = Condition.Comparison(rawValue: symbol)
            else { throw error("expected =, !=, <, <=, > or >= after '\(field)'") }
            position += 1
            guard position < tokens.count, case .number(let value) = tokens[position].kind else {
                throw error("expected a number")
            }
            position += 1
            return .number(read, comparison, value)
        }
        if let (read, known) = AudienceFilter.names[field] {
            let negated: Bool
            var values: [String] = []
            if take(.word("in")) {
                negated = false
                guard take(.symbol("[")) else { throw error("expected '[' after 'in'") }
                repeat { values.append(try name(of: field, known: known)) } while take(.symbol(","))
                guard take(.symbol("]")) else { throw error("expected ',' or ']'") }
            } else if take(.symbol("=")) || take(.symbol("!=")) {
                negated = tokens[position - 1].kind == .symbol("!=")
                values.append(try name(of: field, known: known))
            } else {
                throw error("expected =, != or 'in' after '\(field)'")
            }
            return .name(read, Set(values), negated: negated)
        }
        let hint = Suggestion.closest(to: field, in: Self.fields).map { " (did you mean '\($0)'?)" } ?? ""
        throw AudienceFilterError(column: fieldColumn, message: "unknown field '\(field)'\(hint)")
    }

    /// The index of `word` among the keywords, adding it.
    mutating func index(of word: String) -> Int {
        if let index = keywords.firstIndex(of: word) { return index }
        keywords.append(word)
        return keywords.count - 1
    }

    /// `within: 365d` (or `h`), in seconds.
    mutating func window() throws(AudienceFilterError) -> Int64 {
        guard position + 1 < tokens.count, tokens[position].kind == .word("within"),
            tokens[position + 1].kind == .symbol(":")
        else { throw error("expected 'within:'") }
        position += 2
        guard position + 1 < tokens.count, case .number(let count) = tokens[position].kind,
            case .word(let unit) = tokens[position + 1].kind, unit == "d" || unit == "h", count >= 0
        else { throw error("expected a duration in days or hours, e.g. 365d or 24h") }
        position += 2
        return Int64(count * (unit == "d" ? 86_400 : 3_600))
    }

    /// `condition`, after its closing parenthesis.
    mutating func close(_ condition: Condition) throws(AudienceFilterError) -> Condition {
        guard take(.symbol(")")) else { throw error("expected ')'") }
        return condition
    }

    /// One of `known`, bare or quoted.
    mutating func name(of field: String, known: [String]) throws(AudienceFilterError) -> String {
        guard position < tokens.count else { throw error("expected a value of '\(field)'") }
        let value: String
        switch tokens[position].kind {
        case .word(let word), .quoted(let word): value = word
        default: throw error("expected a value of '\(field)'")
        }
        guard known.contains(value) else {
            let hint = Suggestion.closest(to: value, in: known).map { " (did you mean '\($0)'?)" } ?? ""
            throw error("'\(value)' is not a \(field)\(hint); one of \(known.joined(separator: ", "))")
        }
        position += 1
        return value
    }

    static let fields =
        (Array(AudienceFilter.numbers.keys) + Array(AudienceFilter.names.keys)
        + ["bought", "unpaid", "item", "paid_after_unpaid"]).sorted()
}
