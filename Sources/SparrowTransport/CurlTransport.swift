public import SparrowCore
import CCurl
import CCurlShim
import DequeModule
import Foundation
import Synchronization

/// Sends gateway requests through one curl multi handle driven by a thread of its own (never a thread of the
/// cooperative pool): callers hand requests in through a locked inbox, the thread runs libcurl's socket interface
/// on an epoll set (see `CurlLoop`), and each transfer's end is handed back as a `Sendable` result, either to a
/// completion that runs on that thread (`send`) or to an awaiting task (`perform`).
///
/// `send` is the fast path: a completion that starts the next request or records the answer runs without waking
/// any other thread, the way a C client's loop does. `perform` resumes a continuation per transfer, which wakes a
/// pool thread each time; it is the simple path for callers that send little.
///
/// Easy handles are kept in a fixed set of slots and reused, so connections stay alive across requests. At most
/// `maxInFlight` transfers run at once; more wait in a queue the loop owns. Call `shutdown()` before the process
/// ends: it fails what is still waiting, removes every handle and joins the thread.
public final class CurlTransport: Sendable {
    private let inbox: Lock<Inbox>
    private let multi: MultiHandle
    private let finished = DispatchSemaphore(value: 0)
    /// The loop thread's `pthread_self()`, set as it starts: `shutdown()` from that thread would wait for itself.
    /// Relaxed ordering suffices: only the loop thread can read its own id, and any other thread reads 0 or an id
    /// that is not its own, which the check treats alike.
    private let loopThread = Atomic<UInt>(0)
    /// Passes of the loop so far: a loop that spins while idle shows here.
    private let passes = Atomic(0)

    /// Requests handed in and not yet taken by the loop, and whether the loop sleeps in `epoll_wait`.
    struct Inbox: ~Copyable {
        var jobs = Deque<Job>()
        var sleeping = false
        var wakeSent = false
        var stopped = false
    }

    /// - Parameters:
    ///   - maxInFlight: transfers at once; also the number of easy handles and kept-alive connections.
    ///   - idleWait: the longest the loop sleeps when libcurl has no timer due; a request handed in wakes it sooner.
    public init(maxInFlight: Int = 64, idleWait: Duration = .seconds(1)) {
        precondition(maxInFlight >= 1, "a transport needs at least one slot")
        CurlGlobal.initialize()
        guard let handle = curl_multi_init() else { preconditionFailure("curl_multi_init failed: out of memory") }
        let wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(wakeFD >= 0, "eventfd failed: errno \(errno)")
        multi = MultiHandle(raw: handle, wakeFD: wakeFD)
        inbox = Lock(Inbox())
        let (multi, finished) = (multi, finished)
        let thread = Thread { [self] in  // the thread keeps the transport alive until `shutdown()`
            loopThread.store(UInt(pthread_self()), ordering: .relaxed)
            // Named for top -H and perf. Not through `Thread.current.name`: Foundation drops that name when the thread
            // runs before `start()` has returned to its caller.
            _ = sparrow_name_current_thread("sparrow-curl")
            CurlLoop(transport: self, multi: multi, maxInFlight: maxInFlight, idleWait: idleWait).run()
            finished.signal()
        }
        thread.start()
    }

    /// What runs on the transport's thread when a transfer ends, however it ends. It must be brief and must never
    /// block: every other transfer waits for it. It may call `send` again.
    public typealias Completion = @Sendable (TransferResult) -> Void

    /// Sends `request`; `completion` runs on the transport's thread when the transfer ends, or at once on the
    /// caller's thread if the transport has been shut down.
    public func send(_ request: GatewayRequest, completion: @escaping Completion) {
        enqueue(Job(request: request, completion: completion))
    }

    /// Sends `request` and waits for the transfer to end, however it ends.
    public func perform(
        _ request: GatewayRequest, isolation: isolated (any Actor)? = #isolation
    ) async -> TransferResult {
        await withCheckedContinuation(isolation: isolation) { continuation in
            send(request) { continuation.resume(returning: $0) }
        }
    }

    /// Stops the loop: waiting requests fail as cancelled, transfers in flight are abandoned (their outcome is
    /// unknown), every handle is cleaned up and the thread has ended when this returns. Idempotent.
    /// - Precondition: not called from a completion: it waits for the thread that runs them.
    public func shutdown() {
        precondition(
            loopThread.load(ordering: .relaxed) != UInt(pthread_self()),
            "CurlTransport.shutdown() called from a completion would wait for itself")
        let wasStopped = inbox.withLock { inbox in
            defer { inbox.stopped = true }
            if !inbox.stopped { multi.wakeup() }  // under the lock: the loop cannot have cleaned up the handle yet
            return inbox.stopped
        }
        guard !wasStopped else { return }
        finished.wait()
    }

    private func enqueue(_ job: Job) {
        let accepted = inbox.withLock { inbox in
            guard !inbox.stopped else { return false }  // never park a continuation in a loop that has ended
            inbox.jobs.append(job)
            if inbox.sleeping, !inbox.wakeSent {
                inbox.wakeSent = true
                multi.wakeup()  // under the lock, like every wake-up: the handle is alive while `stopped` is false
            }
            return true
        }
        if !accepted {
            job.finish(.failed(TransferFailure(kind: .cancelled, requestBytesSent: 0, message: "transport stopped")))
        }
    }

    /// The loop's passes so far.
    package var loopPasses: Int { passes.load(ordering: .relaxed) }

    /// Called by the loop: takes everything handed in, or learns that it must stop.
    func takeJobs(into queue: inout Deque<Job>) -> Bool {
        passes.add(1, ordering: .relaxed)
        return inbox.withLock { inbox in
            queue.append(contentsOf: inbox.jobs)
            inbox.jobs.removeAll(keepingCapacity: true)
            inbox.sleeping = false
            return !inbox.stopped
        }
    }

    /// Called by the loop before it sleeps: false when new work arrived in the meantime.
    func prepareToSleep() -> Bool {
        inbox.withLock { inbox in
            guard inbox.jobs.isEmpty, !inbox.stopped else { return false }
            inbox.sleeping = true
            inbox.wakeSent = false
            return true
        }
    }

    /// Called by the loop when it wakes, before its completions run: requests they hand in need no wake-up.
    func wokeUp() {
        inbox.withLock { $0.sleeping = false }
    }
}

/// A request and what to do with its result.
struct Job: Sendable {
    let request: GatewayRequest
    let completion: CurlTransport.Completion

    func finish(_ result: TransferResult) {
        completion(result)
    }
}

/// The multi handle and the loop's wake-up eventfd, as the transport's other threads may see them: only to wake
/// the loop.
///
/// `@unchecked Sendable` is safe because the one call made through it from another thread is a `write` to the
/// eventfd, which any thread may make, and that call is only made while holding the inbox lock with `stopped` still
/// false. Every use of the multi handle happens on the loop thread, which cleans it up and closes the eventfd only
/// after it has seen `stopped` under the same lock, so no wake-up can reach a closed descriptor.
struct MultiHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
    let wakeFD: Int32

    func wakeup() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }
}

/// `curl_global_init` once per process, before any handle, and `SIGPIPE` ignored (`CURLOPT_NOSIGNAL` leaves it
/// to the program).
enum CurlGlobal {
    private static let initialized: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return curl_global_init(sparrow_global_default()) == CURLE_OK
    }()

    static func initialize() {
        precondition(initialized, "curl_global_init failed")
    }
}
