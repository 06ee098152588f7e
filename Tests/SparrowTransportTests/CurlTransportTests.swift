import Foundation
import SparrowCore
import SparrowGatewaySim
import SparrowTestSupport
import Testing

@testable import SparrowTransport
import Synchronization

func string(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

@Suite(.timeLimit(.minutes(1))) struct CurlTransportTests {
    @Test func postsOverLoopbackAndReadsTheAnswer() async throws {
        let simulator = GatewaySimulator()
        let transport = CurlTransport(maxInFlight: 4)
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let request = GatewayRequest(
                url: base + "/v1/sms", headers: ["Content-Type: application/json", "Idempotency-Key: k1"],
                body: Array(#"{"to":"+8613800138000","text":"您好"}"#.utf8))
            let result = await transport.perform(request)
            guard case .answered(let answer) = result else {
                Issue.record("expected an answer, got \(result)")
                return
            }
            #expect(answer.status == 200)
            #expect(string(answer.body) == #"{"status":"ok","message_id":"sim-1"}"#)
        }
        #expect(simulator.stats == .init(messages: 1, distinctKeys: 1, duplicates: 0, faults: 0))
    }

    @Test func manyConcurrentRequestsEachGetTheirOwnAnswer() async throws {
        let simulator = GatewaySimulator()
        let transport = CurlTransport(maxInFlight: 8)
        defer { transport.shutdown() }
        let count = 500
        let ids = try await withSimulator(simulator) { base in
            await withTaskGroup(of: String.self) { group in
                for index in 0..<count {
                    group.addTask {
                        let request = GatewayRequest(url: base + "/send", headers: ["Idempotency-Key: m\(index)"])
                        guard case .answered(let answer) = await transport.perform(request) else { return "" }
                        return string(answer.body)
                    }
                }
                return await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
        }
        #expect(ids.count == count)  // 500 distinct message ids: no answer crossed to another request
        #expect(simulator.stats.messages == count)
    }

    @Test func completionsRunOnTheTransportThreadAndMaySendTheNextRequest() async throws {
        let simulator = GatewaySimulator()
        let transport = CurlTransport(maxInFlight: 4)
        defer { transport.shutdown() }
        let (chains, perChain) = (4, 50)
        let answers = AnswerLog()
        try await withSimulator(simulator) { base in
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                @Sendable func send(chain: Int, step: Int) {
                    let request = GatewayRequest(url: base + "/send", headers: ["Idempotency-Key: c\(chain)-\(step)"])
                    transport.send(request) { result in
                        let finished = answers.add(result, onTransportThread: Thread.current.name == "sparrow-curl")
                        if step + 1 < perChain {
                            send(chain: chain, step: step + 1)
                        } else if finished == chains * perChain {
                            done.resume()
                        }
                    }
                }
                for chain in 0..<chains { send(chain: chain, step: 0) }
            }
        }
        let log = answers.snapshot
        #expect(log.bodies.count == chains * perChain)
        #expect(Set(log.bodies).count == chains * perChain)  // every request got its own answer
        #expect(log.elsewhere == 0)
        #expect(
            simulator.stats
                == .init(messages: chains * perChain, distinctKeys: chains * perChain, duplicates: 0, faults: 0))
    }

    @Test func aResetConnectionFailsAfterTheRequestLeft() async throws {
        let simulator = GatewaySimulator(faults: .init(connectionReset: 1))
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let result = try await withSimulator(simulator) { base in
            await transport.perform(
                GatewayRequest(url: base, headers: ["Idempotency-Key: reset-1"], body: Array("x=1".utf8)))
        }
        guard case .failed(let failure) = result else {
            Issue.record("a reset connection must fail the transfer, got \(result)")
            return
        }
        #expect(failure.kind == .receive)
        #expect(failure.requestBytesSent > 0)  // ambiguous: the gateway may have taken it
        #expect(simulator.stats == .init(messages: 1, distinctKeys: 1, duplicates: 0, faults: 1))
    }

    @Test func aRepeatedIdempotencyKeyIsOneMessage() async throws {
        let simulator = GatewaySimulator()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let bodies = try await withSimulator(simulator) { base in
            var bodies: [String] = []
            for _ in 0..<3 {
                if case .answered(let answer) = await transport.perform(
                    GatewayRequest(url: base, headers: ["Idempotency-Key: same"]))
                {
                    bodies.append(string(answer.body))
                }
            }
            return bodies
        }
        #expect(Set(bodies).count == 1)
        #expect(simulator.stats == .init(messages: 1, distinctKeys: 1, duplicates: 2, faults: 0))
    }

    /// One slot carries every request, so each one's header lines replace the previous one's from the first that
    /// differs: a line left over would repeat a key (a duplicate), a line lost would drop one (a new message).
    @Test func aReusedHandleSendsExactlyEachRequestsHeaderLines() async throws {
        let simulator = GatewaySimulator()
        let transport = CurlTransport(maxInFlight: 1)
        defer { transport.shutdown() }
        let headerSets = [
            ["X-Account: 1", "Idempotency-Key: a"],
            ["X-Account: 1", "Idempotency-Key: b"],  // the last line replaced
            ["Idempotency-Key: c"],  // the first line differs: all replaced
            [],  // none: no key, a message of its own
            ["X-Account: 1", "Idempotency-Key: a", "X-Trace: 7"],  // a repeat of a, with a line more
        ]
        try await withSimulator(simulator) { base in
            for headers in headerSets {
                let result = await transport.perform(GatewayRequest(url: base, headers: headers))
                guard case .answered(let answer) = result, answer.status == 200 else {
                    Issue.record("\(headers): \(result)")
                    continue
                }
            }
        }
        #expect(simulator.stats == .init(messages: 4, distinctKeys: 3, duplicates: 1, faults: 0))
    }

    @Test func throttlingCarriesRetryAfter() async throws {
        let simulator = GatewaySimulator(faults: .init(tooManyRequests: 1, retryAfterSeconds: 7))
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let result = try await withSimulator(simulator) { base in await transport.perform(GatewayRequest(url: base)) }
        #expect(
            result
                == .answered(HTTPAnswer(status: 429, retryAfter: "7", body: Array(#"{"error":"rate limited"}"#.utf8))))
    }

    @Test func aRefusedConnectionSentNothing() async throws {
        let transport = CurlTransport()
        defer { transport.shutdown() }
        // Port 9 (discard) is closed on loopback here: the connection is refused before any byte leaves.
        let result = await transport.perform(GatewayRequest(url: "http://127.0.0.1:9/send", body: [1, 2, 3]))
        guard case .failed(let failure) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(failure.kind == .connect)
        #expect(failure.requestBytesSent == 0)
    }

    @Test func aSlowGatewayTimesOutAfterTheRequestLeft() async throws {
        let simulator = GatewaySimulator(faults: .init(latency: .seconds(5)))
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let result = try await withSimulator(simulator) { base in
            await transport.perform(GatewayRequest(url: base, body: Array("x=1".utf8), timeout: .milliseconds(300)))
        }
        guard case .failed(let failure) = result else {
            Issue.record("expected a timeout, got \(result)")
            return
        }
        #expect(failure.kind == .timeout)
        #expect(failure.requestBytesSent > 0)  // ambiguous: the gateway may have the message
    }

    /// The loop sleeps while nothing is due, even when the gateway has closed the connections libcurl keeps: a
    /// watched socket that stays readable, or a timer that stays due, would make it spin. The loop's passes are
    /// counted while it is idle: a few for the closed connections, where a spinning loop makes thousands.
    @Test func anIdleTransportSleeps() async throws {
        let transport = CurlTransport(maxInFlight: 4, idleWait: .seconds(3600))
        defer { transport.shutdown() }
        let before = try await withSimulator(GatewaySimulator()) { base in
            for index in 0..<5 {
                _ = await transport.perform(GatewayRequest(url: base, headers: ["Idempotency-Key: i\(index)"]))
            }
            return transport.loopPasses
        }  // the simulator has stopped: the connections libcurl keeps are closed at the other end
        try await Task.sleep(for: .milliseconds(600))
        let idle = transport.loopPasses - before
        #expect(idle <= 20, "the loop made \(idle) passes while idle")
    }

    /// A request handed in while the loop sleeps wakes it. With nothing due, this loop sleeps an hour at a time, so
    /// a lost wake-up would hold a request until the suite's time limit fails the test.
    @Test func aSleepingLoopWakesForANewRequest() async throws {
        let transport = CurlTransport(maxInFlight: 2, idleWait: .seconds(3600))
        defer { transport.shutdown() }
        let answers = try await withSimulator(GatewaySimulator()) { base in
            var answers = 0
            for index in 0..<5 {
                try await Task.sleep(for: .milliseconds(50))  // the loop goes back to sleep
                let request = GatewayRequest(url: base, headers: ["Idempotency-Key: w\(index)"])
                if case .answered = await transport.perform(request) { answers += 1 }
            }
            return answers
        }
        #expect(answers == 5)
    }

    /// Every request on a connection of its own: each new socket tends to get the number of the one libcurl has just
    /// closed, which the loop still holds as parked, and the loop must watch the new socket, not skip it as known.
    @Test func aGatewayClosingEveryConnectionAnswersEveryRequest() async throws {
        let simulator = GatewaySimulator()
        let transport = CurlTransport(maxInFlight: 2)
        defer { transport.shutdown() }
        let count = 60
        let answered = try await withSimulator(simulator) { base in
            var answered = 0
            for index in 0..<count {
                let request = GatewayRequest(
                    url: base + "/send", headers: ["Connection: close", "Idempotency-Key: c\(index)"],
                    timeout: .seconds(30))
                if case .answered(let answer) = await transport.perform(request), answer.status == 200 { answered += 1 }
            }
            return answered
        }
        #expect(answered == count)
        // A new connection each time, not one kept alive; the simulator counts client addresses, and a port may come
        // back once its connection is closed (under load, 57 of 60 were distinct).
        #expect(simulator.clientConnections > count / 2)
    }

    /// A followed redirect is a new request of the same transfer, not libcurl resending one that died: it goes, and
    /// after a 301 it is still a POST with its body.
    @Test func aRedirectIsFollowedOnlyWhenAsked() async throws {
        let bodyLog = FileManager.default.temporaryDirectory.appendingPathComponent("redirect-\(UUID()).log").path
        defer { try? FileManager.default.removeItem(atPath: bodyLog) }
        let simulator = GatewaySimulator(bodyLog: bodyLog)
        let transport = CurlTransport(maxInFlight: 2)
        defer { transport.shutdown() }
        let (followed, kept) = try await withSimulator(simulator) { base in
            @Sendable func post(following: Bool) async -> TransferResult {
                await transport.perform(
                    GatewayRequest(
                        url: base + "/redirect/send?k=1", headers: ["Idempotency-Key: moved-\(following)"],
                        body: Array("x=1".utf8), connection: .init(followRedirects: following)))
            }
            return (await post(following: true), await post(following: false))
        }
        guard case .answered(let answer) = followed else {
            Issue.record("a followed redirect must end in the gateway's answer, got \(followed)")
            return
        }
        #expect(answer.status == 200)
        #expect(string(answer.body) == #"{"status":"ok","message_id":"sim-1"}"#)
        guard case .answered(let redirect) = kept else {
            Issue.record("a redirect not followed is the answer, got \(kept)")
            return
        }
        #expect(redirect.status == 301)
        #expect(simulator.stats.messages == 1)
        #expect(try String(contentsOfFile: bodyLog, encoding: .utf8) == "x=1\n")
    }

    @Test func requestsAfterShutdownFailAtOnce() async {
        let transport = CurlTransport()
        transport.shutdown()
        transport.shutdown()
        let result = await transport.perform(GatewayRequest(url: "http://127.0.0.1:9/"))
        #expect(result == .failed(TransferFailure(kind: .cancelled, requestBytesSent: 0, message: "transport stopped")))
    }

    /// `shutdown()` from a completion would wait for the thread it runs on, forever; it stops the process with a
    /// message instead. The request goes to a closed port, so that its completion runs at once.
    @Test func shutdownFromACompletionStopsTheProcessRatherThanHang() async {
        await #expect(processExitsWith: .failure) {
            let transport = CurlTransport(maxInFlight: 1)
            transport.send(GatewayRequest(url: "http://127.0.0.1:1/")) { _ in transport.shutdown() }
            // Had it hung instead, the process ends well here, and the test fails.
            try? await Task.sleep(for: .seconds(10))
        }
    }

    /// A stop with requests in flight and more waiting ends every one of them, once, before `shutdown()` returns, and
    /// tells those that left (their outcome unknown) from those that never did.
    @Test func shutdownEndsEveryRequestInFlightOrWaiting() async throws {
        let simulator = GatewaySimulator(faults: .init(neverAnswered: 1))
        let transport = CurlTransport(maxInFlight: 2)
        let results = Lock<[TransferResult]>([])
        try await withSimulator(simulator) { base in
            for index in 0..<5 {
                let request = GatewayRequest(url: base, headers: ["Idempotency-Key: s\(index)"], timeout: .seconds(30))
                transport.send(request) { result in results.withLock { $0.append(result) } }
            }
            while simulator.stats.faults < 2 { try await Task.sleep(for: .milliseconds(10)) }  // both at the gateway
            transport.shutdown()
        }
        let failures = results.withLock { $0 }.compactMap { result -> TransferFailure? in
            guard case .failed(let failure) = result else { return nil }
            return failure
        }
        #expect(failures.count == 5)
        #expect(failures.allSatisfy { $0.kind == .cancelled })
        #expect(failures.filter { $0.requestBytesSent > 0 }.count == 2)  // in flight: the gateway may have them
    }
}

@Suite(.timeLimit(.minutes(1))) struct TLSTransportTests {
    @Test func http2MultiplexesEveryRequestOnOneConnection() async throws {
        let certificates = try TestCertificates.make()
        let simulator = GatewaySimulator(
            tls: .init(
                certificateChain: certificates.serverCertificate, privateKey: certificates.serverKey, http2: true))
        let transport = CurlTransport(maxInFlight: 16)
        defer { transport.shutdown() }
        let count = 40
        let results = try await withSimulator(simulator) { base in
            let url = base.replacingOccurrences(of: "http://", with: "https://")
            let connection = GatewayConnection(httpVersion: .http2, caFile: certificates.caCertificate)
            return await withTaskGroup(of: TransferResult.self) { group in
                for index in 0..<count {
                    group.addTask {
                        await transport.perform(
                            GatewayRequest(url: url, headers: ["Idempotency-Key: h2-\(index)"], connection: connection))
                    }
                }
                let results = await group.reduce(into: [TransferResult]()) { $0.append($1) }
                transport.shutdown()  // closes the connection: an idle HTTP/2 client holds up the server's shutdown
                return results
            }
        }
        let versions = results.map {
            if case .answered(let answer) = $0, answer.status == 200 { answer.httpVersion } else { 0 }
        }
        #expect(versions == Array(repeating: 2, count: count))
        #expect(simulator.stats.messages == count)
        #expect(simulator.clientConnections == 1)  // 16 at once, multiplexed on one connection
    }

    @Test func httpsVerifiesTheGatewayAgainstTheGivenCA() async throws {
        let certificates = try TestCertificates.make()
        let simulator = GatewaySimulator(
            tls: .init(certificateChain: certificates.serverCertificate, privateKey: certificates.serverKey))
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (trusted, untrusted) = try await withSimulator(simulator) { base in
            let url = base.replacingOccurrences(of: "http://", with: "https://")
            // Handshakes under ThreadSanitizer on a busy box can take longer than the default 3 s to connect.
            let trusted = await transport.perform(
                GatewayRequest(
                    url: url, headers: ["Idempotency-Key: tls-1"], timeout: .seconds(60),
                    connection: .init(connectTimeout: .seconds(30), caFile: certificates.caCertificate)))
            let untrusted = await transport.perform(
                GatewayRequest(
                    url: url, headers: ["Idempotency-Key: tls-2"], timeout: .seconds(60),
                    connection: .init(connectTimeout: .seconds(30))))
            return (trusted, untrusted)
        }
        #expect(
            trusted
                == .answered(
                    HTTPAnswer(status: 200, retryAfter: nil, body: Array(#"{"status":"ok","message_id":"sim-1"}"#.utf8))
                ))
        guard case .failed(let failure) = untrusted else {
            Issue.record("an unknown CA must fail verification, got \(untrusted)")
            return
        }
        #expect(failure.kind == .tlsVerification)
        #expect(simulator.stats.messages == 1)  // the refused handshake sent nothing
    }
}

@Suite(.timeLimit(.minutes(1))) struct GatewaySimulatorTests {
    @Test func eachDialectGetsItsOwnAnswer() async throws {
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let answers = try await withSimulator(GatewaySimulator()) { base in
            var answers: [HTTPAnswer] = []
            for path in [
                "/2010-04-01/Accounts/AC1/Messages.json", "/cgi-bin/sendsms?to=%2B8613800138000&text=hi", "/v1/sms",
            ] {
                if case .answered(let answer) = await transport.perform(
                    GatewayRequest(url: base + path, body: Array("To=1".utf8)))
                {
                    answers.append(answer)
                }
            }
            return answers
        }
        #expect(answers.map(\.status) == [201, 202, 200])
        #expect(
            answers.map { string($0.body) } == [
                #"{"sid":"SMsim-1","status":"queued"}"#, "0: Accepted for delivery",
                #"{"status":"ok","message_id":"sim-3"}"#,
            ])
    }

    @Test func neverAnsweredRequestsTimeOut() async throws {
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let result = try await withSimulator(GatewaySimulator(faults: .init(neverAnswered: 1))) { base in
            await transport.perform(GatewayRequest(url: base, timeout: .milliseconds(300)))
        }
        guard case .failed(let failure) = result else {
            Issue.record("expected a timeout, got \(result)")
            return
        }
        #expect(failure.kind == .timeout)
    }

    @Test func receiptsArriveForEveryMessageTwiceWhenDuplicated() async throws {
        let sink = GatewaySimulator(honoursIdempotency: false)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let received = try await withSimulator(sink) { sinkURL in
            let gateway = GatewaySimulator(
                receipts: .init(
                    url: sinkURL + "/dlr", delay: .milliseconds(20), jitter: .milliseconds(50), duplicates: 1))
            return try await withSimulator(gateway) { base in
                for index in 0..<5 {
                    _ = await transport.perform(GatewayRequest(url: base, headers: ["Idempotency-Key: r\(index)"]))
                }
                let clock = ContinuousClock()
                let deadline = clock.now + .seconds(10)
                while sink.stats.messages < 10, clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                return sink.stats.messages
            }
        }
        #expect(received == 10)  // five messages, every receipt twice
    }
}

/// What the completions of `send` saw, collected from the transport's thread.
final class AnswerLog: Sendable {
    struct Log {
        var completions = 0
        /// The bodies of the answers.
        var bodies: [String] = []
        /// Completions that ran on another thread than the transport's.
        var elsewhere = 0
    }

    private let log = Lock(Log())

    /// Records one completion and returns how many have been recorded.
    func add(_ result: TransferResult, onTransportThread: Bool) -> Int {
        log.withLock { log in
            log.completions += 1
            if case .answered(let answer) = result { log.bodies.append(string(answer.body)) }
            if !onTransportThread { log.elsewhere += 1 }
            return log.completions
        }
    }

    var snapshot: Log { log.withLock { $0 } }
}
