import Foundation
import Testing

@testable import SparrowCore

/// Shorthands for what a transport reports.
extension TransferResult {
    static func status(_ status: Int, retryAfter: String? = nil, body: String = "") -> Self {
        .answered(HTTPAnswer(status: status, retryAfter: retryAfter, body: Array(body.utf8)))
    }

    static func failure(_ kind: TransferFailure.Kind, sent: Int, message: String = "") -> Self {
        .failed(TransferFailure(kind: kind, requestBytesSent: sent, message: message))
    }
}

let everyFailureKind: [TransferFailure.Kind] = [
    .resolve, .connect, .tlsHandshake, .tlsVerification, .timeout, .send, .receive, .emptyReply, .protocolError,
    .cancelled, .other(35), .other(-1),
]

@Suite struct TransferVerdictTests {
    @Test(arguments: [
        (200, TransferVerdict.accepted), (201, .accepted), (204, .accepted), (299, .accepted),
        (429, .throttled(retryAfter: nil)), (503, .throttled(retryAfter: nil)),
        (500, .ambiguous), (501, .ambiguous), (502, .ambiguous), (504, .ambiguous), (599, .ambiguous),
        (400, .rejected), (401, .rejected), (403, .rejected), (404, .rejected), (409, .rejected), (422, .rejected),
        (428, .rejected), (430, .rejected), (499, .rejected),
        (100, .rejected), (301, .rejected), (302, .rejected), (304, .rejected), (600, .rejected), (0, .rejected),
    ])
    func classifiesStatus(_ status: Int, verdict: TransferVerdict) {
        #expect(TransferVerdict(.status(status)) == verdict)
    }

    @Test func keepsTheRetryAfterHeaderOfAThrottle() {
        #expect(TransferVerdict(.status(429, retryAfter: "7\r\n")) == .throttled(retryAfter: "7\r\n"))
        #expect(TransferVerdict(.status(200, retryAfter: "7")) == .accepted)
    }

    /// Every kind, with nothing sent and with bytes sent.
    @Test(arguments: everyFailureKind)
    func classifiesFailure(_ kind: TransferFailure.Kind) {
        let nothingSent = TransferVerdict(.failure(kind, sent: 0))
        let bytesSent = TransferVerdict(.failure(kind, sent: 143))
        switch kind {
        case .tlsVerification:
            #expect(nothingSent == .misconfigured)
            #expect(bytesSent == .misconfigured)
        case .resolve, .connect, .tlsHandshake:
            #expect(nothingSent == .notSent)
            #expect(bytesSent == .notSent)
        default:
            #expect(nothingSent == .notSent)
            #expect(bytesSent == .ambiguous)
        }
    }

    @Test(arguments: [
        (TransferResult.status(400, body: "  invalid\r\n\tnumber \u{0}\n"), "HTTP 400: invalid number"),
        (.status(404), "HTTP 404"),
        (.status(403, body: " \r\n "), "HTTP 403"),
        (.status(422, body: "{\"error\":\"号码无效\"}"), "HTTP 422: {\"error\":\"号码无效\"}"),
        (
            .answered(HTTPAnswer(status: 400, retryAfter: nil, body: [0x62, 0x61, 0x64, 0xFF, 0x21])),
            "HTTP 400: bad\u{FFFD}!"
        ),
        (
            .failure(.connect, sent: 0, message: "Couldn't connect to server"),
            "could not connect: Couldn't connect to server"
        ),
        (.failure(.timeout, sent: 143), "timed out"),
        (.failure(.other(77), sent: 0, message: "x"), "transfer error 77: x"),
    ])
    func summarises(_ result: TransferResult, summary: String) {
        #expect(result.summary == summary)
    }

    @Test func cutsTheReasonTo200Characters() {
        let long = String(repeating: "é", count: 150) + " " + String(repeating: "👍🏽", count: 100)
        let summary = TransferResult.status(400, body: "\n" + long + "\n").summary
        #expect(summary == "HTTP 400: " + String(long.prefix(200)))
        #expect(String(long.prefix(200)).count == 200)
        // A cut that lands on a space leaves no trailing space.
        let spaced = String(repeating: "a", count: 199) + "  b"
        #expect(TransferResult.status(400, body: spaced).summary == "HTTP 400: " + String(repeating: "a", count: 199))
        // A huge body is read only as far as the reason needs.
        let huge = TransferResult.status(500, body: String(repeating: "x", count: 1_000_000))
        #expect(huge.summary == "HTTP 500: " + String(repeating: "x", count: 200))
    }
}

@Suite struct RetryAfterTests {
    static let now = Timestamp(rfc3339: "2037-10-21T07:27:00Z")!

    @Test(arguments: [
        ("120", Duration?.some(.seconds(120))), (" 120\r\n", .seconds(120)), ("\t7\n", .seconds(7)), ("0", .zero),
        ("300", .seconds(300)), ("301", .seconds(300)), ("99999999999999999999999999", .seconds(300)),
        ("0007", .seconds(7)),
        ("Wed, 21 Oct 2037 07:28:00 GMT", .seconds(60)), ("  Wed, 21 Oct 2037 07:28:00 GMT\r\n", .seconds(60)),
        ("Wed, 21 Oct 2037 07:27:00 GMT", .zero), ("Tue, 20 Oct 2037 07:28:00 GMT", .zero),
        ("Sun, 06 Nov 1994 08:49:37 GMT", .zero), ("Fri, 21 Oct 2039 07:28:00 GMT", .seconds(300)),
        ("Wed, 21 Oct 2037 07:31:59 GMT", .seconds(299)), ("Wed, 21 Oct 2037 07:27:60 GMT", .seconds(60)),
        ("Wednesday, 21-Oct-37 07:28:00 GMT", .seconds(60)), ("Sunday, 06-Nov-94 08:49:37 GMT", .zero),
        ("Wed Oct 21 07:28:00 2037", .seconds(60)), ("Wed Oct  1 07:28:00 2037", .zero),
        ("", nil), ("\r\n", nil), ("soon", nil), ("-5", nil), ("+5", nil), ("1.5", nil), ("12 0", nil), ("120s", nil),
        ("Wed, 32 Oct 2037 07:28:00 GMT", nil), ("Wed, 29 Feb 2037 07:28:00 GMT", nil),
        ("Wed, 21 Oct 2037 24:00:00 GMT", nil), ("Wed, 21 Oct 2037 07:60:00 GMT", nil),
        ("Wed, 21 Oct 2037 07:28:61 GMT", nil), ("Wed, 21 Oct 2037 7:28:00 GMT", nil),
        ("Wed, 21 Oct 2037 07:28 GMT", nil), ("Wed, 21 Foo 2037 07:28:00 GMT", nil),
        ("Wed, 21 Oct 2037 07:28:00 UTC", nil), ("wed, 21 Oct 2037 07:28:00 GMT", nil),
        ("Wed 21 Oct 2037 07:28:00 GMT", nil), ("Wed, 21 Oct 37 07:28:00 GMT", nil),
        ("Wed, 1 Oct 2037 07:28:00 GMT", nil),
        ("Wednesday, 21-Oct-2037 07:28:00 GMT", nil), ("Wed, 21-Oct-37 07:28:00 GMT", nil),
        ("Wed Oct 21 07:28:00 37", nil), ("Wed Oct 21 07:28:00 2037 GMT x", nil),
    ])
    func reads(_ value: String, delay: Duration?) {
        #expect(RetryAfter.delay(value, now: Self.now, cap: .seconds(300)) == delay)
    }

    @Test func capsAtTheGivenMaximum() {
        #expect(RetryAfter.delay("120", now: Self.now, cap: .seconds(30)) == .seconds(30))
        #expect(RetryAfter.delay("120", now: Self.now, cap: .zero) == .zero)
        #expect(RetryAfter.delay("Wed, 21 Oct 2037 07:28:00 GMT", now: Self.now, cap: .seconds(59)) == .seconds(59))
    }

    /// RFC 850's two-digit years: the year at most 50 years after `now`'s and less than 50 before.
    @Test(arguments: [
        ("2026-01-01T00:00:00Z", "76", "2076-11-06T08:49:37Z"), ("2026-01-01T00:00:00Z", "77", "1977-11-06T08:49:37Z"),
        ("2026-01-01T00:00:00Z", "26", "2026-11-06T08:49:37Z"), ("2026-01-01T00:00:00Z", "00", "2000-11-06T08:49:37Z"),
        ("2099-01-01T00:00:00Z", "05", "2105-11-06T08:49:37Z"), ("2099-01-01T00:00:00Z", "50", "2050-11-06T08:49:37Z"),
        ("1999-12-31T23:59:00Z", "00", "2000-11-06T08:49:37Z"), ("2099-01-01T00:00:00Z", "49", "2149-11-06T08:49:37Z"),
    ])
    func readsTwoDigitYears(now: String, year: String, meaning: String) throws {
        let now = try #require(Timestamp(rfc3339: now))
        let date = try #require(Timestamp(rfc3339: meaning))
        let delay = RetryAfter.delay("Sunday, 06-Nov-\(year) 08:49:37 GMT", now: now, cap: .seconds(Int64.max))
        #expect(delay == .seconds(max(0, date.secondsSince1970 - now.secondsSince1970)))
    }

    /// Foundation's formatter as the reference: each form of a date every 7 days and 3 hours over 250 years reads
    /// back to that date.
    @Test func readsWhatFoundationWrites() throws {
        func formatter(_ pattern: String) -> DateFormatter {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = pattern
            return formatter
        }
        let imf = formatter("EEE, dd MMM yyyy HH:mm:ss 'GMT'")
        let rfc850 = formatter("EEEE, dd-MMM-yy HH:mm:ss 'GMT'")
        let asctime = formatter("EEE MMM d HH:mm:ss yyyy")
        var seconds: Int64 = -86_400 * 365 * 20 + 1_234
        var checked = 0
        while seconds < 86_400 * 365 * 230 {
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            let now = Timestamp(secondsSince1970: seconds - 1_000)
            var asctimeText = asctime.string(from: date)
            if let space = asctimeText.firstIndex(of: " "), asctimeText.split(separator: " ")[2].count == 1 {
                asctimeText.insert(" ", at: asctimeText.index(space, offsetBy: 5))  // "Nov  6": day padded to 2
            }
            for text in [imf.string(from: date), rfc850.string(from: date), asctimeText] {
                #expect(RetryAfter.delay(text, now: now, cap: .seconds(3_600)) == .seconds(1_000), "\(text)")
            }
            seconds += 7 * 86_400 + 3 * 3_600 + 17
            checked += 1
        }
        #expect(checked == 12_807)
    }
}

@Suite struct RetryPolicyTests {
    @Test func ceilingDoublesUpToTheCap() {
        let policy = RetryPolicy()
        let ceilings = (1...12).map { policy.backoffCeiling(after: $0) }
        #expect(
            ceilings == [
                .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1_600), .milliseconds(3_200),
                .milliseconds(6_400), .milliseconds(12_800), .milliseconds(25_600), .seconds(30), .seconds(30),
                .seconds(30), .seconds(30),
            ])
        #expect(policy.backoffCeiling(after: Int.max) == .seconds(30))
    }

    /// Full jitter: over many seeds every delay lies in 0...ceiling, and the delays spread over the whole range.
    @Test(arguments: 1...10)
    func fullJitterStaysWithinAndFillsTheRange(attempt: Int) {
        let policy = RetryPolicy(baseDelay: .milliseconds(100), maxDelay: .seconds(20))
        let ceiling = policy.backoffCeiling(after: attempt)
        var lowest = ceiling
        var highest = Duration.zero
        var sum = Duration.zero
        var quarters = [0, 0, 0, 0]
        let seeds: ClosedRange<UInt64> = 1...4_000
        for seed in seeds {
            var generator = SplitMix64(seed: seed &* 7_919 &+ UInt64(attempt))
            let delay = policy.backoff(after: attempt, random: &generator)
            #expect(delay >= .zero && delay <= ceiling)
            lowest = min(lowest, delay)
            highest = max(highest, delay)
            sum += delay
            quarters[min(3, Int(delay / ceiling * 4))] += 1
        }
        #expect(lowest < ceiling * 0.01)
        #expect(highest > ceiling * 0.99)
        let mean = sum / seeds.count
        #expect(mean > ceiling * 0.45 && mean < ceiling * 0.55)
        #expect(quarters.allSatisfy { $0 > 800 })
    }
}

@Suite struct SubmitStateMachineTests {
    static let now = Timestamp(rfc3339: "2037-10-21T07:27:00Z")!

    /// The kind of action, with backoff delays checked separately.
    enum Expected: Sendable, Equatable {
        case succeeded
        case failed(String)
        case unknown(String)
        case sendNow
        case backoff
        case pause(Duration)
    }

    /// What the first attempt's result leads to, with the idempotency key honoured or not.
    @Test(arguments: [
        (TransferResult.status(200), Expected.succeeded, Expected.succeeded),
        (.status(202, body: "queued"), .succeeded, .succeeded),
        (.status(400, body: " bad number\n"), .failed("HTTP 400: bad number"), .failed("HTTP 400: bad number")),
        (.status(401), .failed("HTTP 401"), .failed("HTTP 401")),
        (.status(404, body: "no route"), .failed("HTTP 404: no route"), .failed("HTTP 404: no route")),
        (.status(301), .failed("HTTP 301"), .failed("HTTP 301")),
        (.status(429), .backoff, .backoff),
        (.status(429, retryAfter: "garbage"), .backoff, .backoff),
        (.status(429, retryAfter: "2\r\n"), .pause(.seconds(2)), .pause(.seconds(2))),
        (.status(503, retryAfter: "Wed, 21 Oct 2037 07:28:00 GMT"), .pause(.seconds(60)), .pause(.seconds(60))),
        (.status(503, retryAfter: "Wed, 21 Oct 2037 06:00:00 GMT"), .pause(.zero), .pause(.zero)),
        (.status(503, retryAfter: "86400"), .pause(.seconds(300)), .pause(.seconds(300))),
        (.status(503), .backoff, .backoff),
        (.status(500), .unknown("HTTP 500"), .backoff),
        (.status(502, body: "upstream"), .unknown("HTTP 502: upstream"), .backoff),
        (.status(504), .unknown("HTTP 504"), .backoff),
        (.status(507), .unknown("HTTP 507"), .backoff),
        (.failure(.resolve, sent: 0), .sendNow, .sendNow),
        (.failure(.connect, sent: 0, message: "refused"), .sendNow, .sendNow),
        (.failure(.tlsHandshake, sent: 0), .sendNow, .sendNow),
        (.failure(.tlsHandshake, sent: 517), .sendNow, .sendNow),
        (
            .failure(.tlsVerification, sent: 0, message: "expired"), .failed("TLS peer verification failed: expired"),
            .failed("TLS peer verification failed: expired")
        ),
        (.failure(.timeout, sent: 0), .sendNow, .sendNow),
        (.failure(.timeout, sent: 143), .unknown("timed out"), .backoff),
        (.failure(.send, sent: 10), .unknown("send error"), .backoff),
        (.failure(.receive, sent: 143), .unknown("receive error"), .backoff),
        (.failure(.emptyReply, sent: 143), .unknown("empty reply"), .backoff),
        (.failure(.protocolError, sent: 0), .sendNow, .sendNow),
        (.failure(.protocolError, sent: 143), .unknown("protocol error"), .backoff),
        (.failure(.cancelled, sent: 0), .sendNow, .sendNow),
        (.failure(.cancelled, sent: 143), .unknown("cancelled"), .backoff),
        (.failure(.other(18), sent: 143), .unknown("transfer error 18"), .backoff),
        (.failure(.other(18), sent: 0), .sendNow, .sendNow),
    ])
    func firstAttempt(_ result: TransferResult, withoutKey: Expected, withKey: Expected) {
        for (honoured, expected) in [(false, withoutKey), (true, withKey)] {
            let policy = RetryPolicy(honoursIdempotencyKey: honoured)
            var machine = SubmitStateMachine(policy: policy)
            #expect(machine.start() == .send(attempt: 1))
            var generator = SplitMix64(seed: 99)
            var twin = SplitMix64(seed: 99)
            let action = machine.transferEnded(result, now: Self.now, random: &generator)
            switch expected {
            case .succeeded: #expect(action == .succeeded(attempts: 1))
            case .failed(let reason): #expect(action == .failed(reason: reason, attempts: 1))
            case .unknown(let reason): #expect(action == .unknown(reason: reason, attempts: 1))
            case .sendNow: #expect(action == .send(attempt: 2))
            case .pause(let pause): #expect(action == .pauseGateway(for: pause, thenRetry: 2))
            case .backoff: #expect(action == .retry(attempt: 2, after: policy.backoff(after: 1, random: &twin)))
            }
        }
    }

    @Test func resendsAtOnceOnlyTheFirstTimeNothingWasSent() {
        var machine = SubmitStateMachine(policy: RetryPolicy(maxAttempts: 4))
        var generator = SplitMix64(seed: 1)
        var twin = SplitMix64(seed: 1)
        let policy = machine.policy
        _ = machine.start()
        #expect(
            machine.transferEnded(.failure(.connect, sent: 0), now: Self.now, random: &generator) == .send(attempt: 2))
        #expect(
            machine.transferEnded(.failure(.resolve, sent: 0), now: Self.now, random: &generator)
                == .retry(attempt: 3, after: policy.backoff(after: 2, random: &twin)))
        #expect(
            machine.transferEnded(.failure(.connect, sent: 0), now: Self.now, random: &generator)
                == .retry(attempt: 4, after: policy.backoff(after: 3, random: &twin)))
        #expect(
            machine.transferEnded(.failure(.connect, sent: 0, message: "refused"), now: Self.now, random: &generator)
                == .failed(reason: "gave up after 4 attempts: could not connect: refused", attempts: 4))
    }

    @Test func throttlesThenSucceeds() {
        var machine = SubmitStateMachine(policy: RetryPolicy())
        var generator = SplitMix64(seed: 2)
        _ = machine.start()
        let throttled = TransferResult.status(429, retryAfter: "3")
        #expect(
            machine.transferEnded(throttled, now: Self.now, random: &generator)
                == .pauseGateway(for: .seconds(3), thenRetry: 2))
        #expect(machine.transferEnded(.status(200), now: Self.now, random: &generator) == .succeeded(attempts: 2))
    }

    @Test func aSingleAttemptPolicyNeverRetries() {
        for result in [TransferResult.status(429), .status(503, retryAfter: "1"), .failure(.connect, sent: 0)] {
            var machine = SubmitStateMachine(policy: RetryPolicy(maxAttempts: 1, honoursIdempotencyKey: true))
            var generator = SplitMix64(seed: 3)
            _ = machine.start()
            let action = machine.transferEnded(result, now: Self.now, random: &generator)
            #expect(action == .failed(reason: "gave up after 1 attempt: \(result.summary)", attempts: 1))
        }
        var machine = SubmitStateMachine(policy: RetryPolicy(maxAttempts: 1, honoursIdempotencyKey: true))
        var generator = SplitMix64(seed: 3)
        _ = machine.start()
        #expect(
            machine.transferEnded(.status(502), now: Self.now, random: &generator)
                == .unknown(reason: "gave up after 1 attempt: HTTP 502", attempts: 1))
    }

    /// Once an attempt may have reached the gateway, the message can no longer be reported as certainly failed.
    @Test func anEarlierAmbiguousAttemptMakesTheEndUnknown() {
        var machine = SubmitStateMachine(policy: RetryPolicy(maxAttempts: 3, honoursIdempotencyKey: true))
        var generator = SplitMix64(seed: 4)
        _ = machine.start()
        let action = machine.transferEnded(.failure(.timeout, sent: 143), now: Self.now, random: &generator)
        guard case .retry(attempt: 2, _) = action else {
            Issue.record("an ambiguous attempt with the key honoured is retried, not \(action)")
            return
        }
        #expect(
            machine.transferEnded(.status(409, body: "duplicate"), now: Self.now, random: &generator)
                == .unknown(reason: "HTTP 409: duplicate", attempts: 2))
    }

    /// A message's possible histories: random results from every class, random policies. Attempts are numbered
    /// 1, 2, 3…, never exceed `maxAttempts`, and the end reports how many transfers were made.
    @Test func attemptsNeverExceedTheMaximum() {
        var generator = SplitMix64(seed: 2_026)
        for _ in 0..<20_000 {
            let maxAttempts = Int.random(in: 1...6, using: &generator)
            let policy = RetryPolicy(maxAttempts: maxAttempts, honoursIdempotencyKey: .random(using: &generator))
            var machine = SubmitStateMachine(policy: policy)
            var action = machine.start()
            var transfers = 0
            while true {
                let attempt: Int
                switch action {
                case .send(let next), .retry(let next, _), .pauseGateway(_, let next): attempt = next
                case .succeeded(let attempts), .failed(_, let attempts), .unknown(_, let attempts):
                    #expect(attempts == transfers)
                    attempt = 0
                }
                guard attempt > 0 else { break }
                #expect(attempt == transfers + 1)
                #expect(attempt <= policy.maxAttempts)
                transfers += 1
                action = machine.transferEnded(Self.randomResult(using: &generator), now: Self.now, random: &generator)
            }
            #expect(transfers <= policy.maxAttempts)
        }
    }

    /// Without the key honoured, a transfer that may have reached the gateway is never followed by another attempt:
    /// the machine ends `unknown` at once. With it honoured, it may be retried, but the message never ends `failed`.
    @Test(arguments: [false, true])
    func ambiguousAttemptsAreNeverResentWithoutTheKey(honoured: Bool) {
        var generator = SplitMix64(seed: honoured ? 7 : 8)
        for _ in 0..<20_000 {
            var machine = SubmitStateMachine(policy: RetryPolicy(maxAttempts: 6, honoursIdempotencyKey: honoured))
            var action = machine.start()
            var sawAmbiguous = false
            while true {
                switch action {
                case .send, .retry, .pauseGateway:
                    let result = Self.randomResult(using: &generator)
                    let ambiguous = TransferVerdict(result) == .ambiguous
                    sawAmbiguous = sawAmbiguous || ambiguous
                    action = machine.transferEnded(result, now: Self.now, random: &generator)
                    if ambiguous && !honoured {
                        guard case .unknown = action else {
                            Issue.record("resent after \(result.summary): \(action)")
                            return
                        }
                    }
                    continue
                case .failed:
                    #expect(!sawAmbiguous)
                case .unknown:
                    #expect(sawAmbiguous)
                case .succeeded:
                    break
                }
                break
            }
        }
    }

    /// Backoffs through the machine: throttled without a header, every retry lies within its attempt's ceiling.
    @Test func throttledBackoffsStayWithinTheirCeilings() {
        let policy = RetryPolicy(maxAttempts: 10)
        for seed in UInt64(1)...500 {
            var generator = SplitMix64(seed: seed)
            var machine = SubmitStateMachine(policy: policy)
            _ = machine.start()
            for attempt in 1..<policy.maxAttempts {
                let action = machine.transferEnded(.status(503), now: Self.now, random: &generator)
                guard case .retry(attempt + 1, let after) = action else {
                    Issue.record("a throttle without a header backs off, not \(action)")
                    return
                }
                #expect(after >= .zero && after <= policy.backoffCeiling(after: attempt))
            }
        }
    }

    @Test func refusesEventsOutOfOrder() async {
        await #expect(processExitsWith: .failure) {
            var machine = SubmitStateMachine(policy: RetryPolicy())
            _ = machine.start()
            _ = machine.start()
        }
        await #expect(processExitsWith: .failure) {
            var machine = SubmitStateMachine(policy: RetryPolicy())
            var generator = SplitMix64(seed: 1)
            _ = machine.transferEnded(.status(200), now: Timestamp(secondsSince1970: 0), random: &generator)
        }
        await #expect(processExitsWith: .failure) {
            var machine = SubmitStateMachine(policy: RetryPolicy())
            var generator = SplitMix64(seed: 1)
            _ = machine.start()
            _ = machine.transferEnded(.status(200), now: Timestamp(secondsSince1970: 0), random: &generator)
            _ = machine.transferEnded(.status(200), now: Timestamp(secondsSince1970: 0), random: &generator)
        }
    }

    /// A result of any class, with and without bytes sent and headers.
    static func randomResult(using generator: inout SplitMix64) -> TransferResult {
        let statuses = [200, 201, 400, 404, 429, 503, 500, 502, 504, 301]
        let headers: [String?] = [nil, "1", "garbage", "Wed, 21 Oct 2037 07:28:00 GMT"]
        guard Bool.random(using: &generator) else {
            let kind = everyFailureKind.randomElement(using: &generator)!
            return .failure(kind, sent: [0, 143].randomElement(using: &generator)!)
        }
        let status = statuses.randomElement(using: &generator)!
        return .status(status, retryAfter: headers.randomElement(using: &generator)!)
    }
}
