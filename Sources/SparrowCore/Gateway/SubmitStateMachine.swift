/// The attempts to hand one message to one gateway, as a value: it decides, its owner acts.
///
/// SMS submits are not idempotent, so the machine never resends a message that may have reached the gateway unless the
/// gateway honours Sparrow's idempotency key (`RetryPolicy.honoursIdempotencyKey`). The key is the owner's: every
/// attempt carries the same one, and the machine never asks for a new key. For the same reason every attempt goes to
/// the same gateway: another gateway would not know the key.
///
/// ```swift
/// var machine = SubmitStateMachine(policy: RetryPolicy())
/// var action = machine.start()                 // .send(attempt: 1)
/// // … the owner performs the action, then reports each transfer:
/// action = machine.transferEnded(result, now: wallClock, random: &generator)
/// ```
///
/// | verdict of the attempt | action |
/// |---|---|
/// | `accepted` | `.succeeded` |
/// | `notSent` | `.send` the first time for this message, `.retry` after a backoff later |
/// | `throttled` with a usable `Retry-After` | `.pauseGateway` for the header's delay, capped at `maxRetryAfter` |
/// | `throttled` without one | `.retry` after a backoff, for this message only |
/// | `ambiguous` | `.retry` after a backoff if the gateway honours the key, else `.unknown` |
/// | `rejected`, `misconfigured` | `.failed` with the gateway's reason |
///
/// Backoffs have full jitter (`RetryPolicy.backoff(after:random:)`). When a retry would exceed `maxAttempts` the
/// message ends instead. A message ends `.unknown` rather than `.failed` whenever any of its attempts may have
/// reached the gateway: the gateway may have taken that attempt, and only a delivery receipt can tell.
public struct SubmitStateMachine: Sendable, Hashable {
    /// What the owner does next.
    public enum Action: Sendable, Hashable {
        /// Send attempt `attempt` now, then report it with `transferEnded(_:now:random:)`.
        case send(attempt: Int)
        /// Wait `after`, then send attempt `attempt` and report it. Only this message waits.
        case retry(attempt: Int, after: Duration)
        /// The gateway asked for a pause: send nothing to it for `for`, then send this message's attempt `thenRetry`
        /// and report it.
        case pauseGateway(for: Duration, thenRetry: Int)
        /// The gateway took the message on attempt `attempts`. The machine is finished.
        case succeeded(attempts: Int)
        /// The message certainly did not reach the gateway and will not be sent again. The machine is finished.
        case failed(reason: String, attempts: Int)
        /// The gateway may have taken the message; it will not be sent again, and delivery receipts settle it. The
        /// machine is finished.
        case unknown(reason: String, attempts: Int)
    }

    private enum State: Sendable, Hashable {
        case idle
        case attempting(Int)
        case finished
    }

    public let policy: RetryPolicy
    private var state = State.idle
    /// Whether a failed attempt was already resent at once, which happens only once per message.
    private var resentAtOnce = false
    /// Whether an earlier attempt may have reached the gateway.
    private var mayHaveReachedGateway = false

    public init(policy: RetryPolicy) {
        self.policy = policy
    }

    /// Begins: the first attempt goes out now.
    /// - Precondition: the machine has not started.
    public mutating func start() -> Action {
        guard case .idle = state else { preconditionFailure("start() on a machine that has already started") }
        state = .attempting(1)
        return .send(attempt: 1)
    }

    /// Decides what follows the attempt in flight.
    ///
    /// - Parameters:
    ///   - result: What the transport observed for the attempt.
    ///   - now: The current wall time, to read a `Retry-After` date.
    ///   - random: The source of backoff jitter.
    /// - Returns: The next action; after `.succeeded`, `.failed` or `.unknown` the machine takes no more events.
    /// - Precondition: an attempt is in flight (`start()` was called and the machine has not finished).
    /// - Complexity: O(1), plus reading the answer's body for a reason when the message ends.
    public mutating func transferEnded(
        _ result: TransferResult, now: Timestamp, random: inout some RandomNumberGenerator
    ) -> Action {
        guard case .attempting(let attempt) = state else {
            preconditionFailure("transferEnded(_:now:random:) with no attempt in flight")
        }
        switch TransferVerdict(result) {
        case .accepted:
            state = .finished
            return .succeeded(attempts: attempt)
        case .rejected, .misconfigured:
            return end(result.summary, attempts: attempt)
        case .notSent:
            guard attempt < policy.maxAttempts else { return giveUp(result, attempts: attempt) }
            state = .attempting(attempt + 1)
            if resentAtOnce {
                return .retry(attempt: attempt + 1, after: policy.backoff(after: attempt, random: &random))
            }
            resentAtOnce = true
            return .send(attempt: attempt + 1)
        case .throttled(let retryAfter):
            guard attempt < policy.maxAttempts else { return giveUp(result, attempts: attempt) }
            state = .attempting(attempt + 1)
            if let retryAfter, let pause = RetryAfter.delay(retryAfter, now: now, cap: policy.maxRetryAfter) {
                return .pauseGateway(for: pause, thenRetry: attempt + 1)
            }
            return .retry(attempt: attempt + 1, after: policy.backoff(after: attempt, random: &random))
        case .ambiguous:
            mayHaveReachedGateway = true
            guard policy.honoursIdempotencyKey else { return end(result.summary, attempts: attempt) }
            guard attempt < policy.maxAttempts else { return giveUp(result, attempts: attempt) }
            state = .attempting(attempt + 1)
            return .retry(attempt: attempt + 1, after: policy.backoff(after: attempt, random: &random))
        }
    }

    /// Ends after the last attempt allowed failed in a way that could have been retried.
    private mutating func giveUp(_ result: TransferResult, attempts: Int) -> Action {
        end("gave up after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(result.summary)", attempts: attempts)
    }

    /// Ends without success: `.unknown` if any attempt may have reached the gateway, else `.failed`.
    private mutating func end(_ reason: String, attempts: Int) -> Action {
        state = .finished
        return mayHaveReachedGateway
            ? .unknown(reason: reason, attempts: attempts) : .failed(reason: reason, attempts: attempts)
    }
}
