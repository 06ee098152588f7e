import SparrowCore
import CCurl
import CCurlShim
import DequeModule
import Glibc

/// The transfer loop: the only code that touches curl handles. It lives on the transport's thread from start to
/// end, so none of its state needs a lock.
///
/// It drives libcurl through its socket interface: libcurl names the sockets it waits on and the time it next needs
/// to run, the loop waits for them on an epoll set, and `curl_multi_socket_action` runs only the transfers whose
/// socket is ready, told what it is ready for. (`curl_multi_perform` would poll every transfer's socket on each
/// pass, one `poll` call each, whether ready or not.)
final class CurlLoop {
    private unowned let transport: CurlTransport
    private let multi: MultiHandle
    private let maxInFlight: Int
    /// Owns every slot for the loop's life: the handles' `CURLOPT_PRIVATE` pointers refer to these objects.
    private let slots: [EasySlot]
    private var free: [EasySlot]
    private var running: [ObjectIdentifier: Job] = [:]
    private var waiting = Deque<Job>()
    /// The epoll set: the sockets libcurl waits on, and the wake-up's eventfd.
    private let epoll: Int32
    /// What each socket in the set is watched for, and whether libcurl has let go of it (`parked`).
    private var watched: [Int32: (events: UInt32, parked: Bool)] = [:]
    private let ready = UnsafeMutableBufferPointer<epoll_event>.allocate(capacity: 64)
    /// When libcurl next needs to run for its own timers (timeouts, a new transfer's start); nil when it does not.
    private var timerDeadline: ContinuousClock.Instant?

    /// The longest sleep when libcurl has no timer due, in milliseconds.
    private let idleWait: Int32

    init(transport: CurlTransport, multi: MultiHandle, maxInFlight: Int, idleWait: Duration) {
        self.transport = transport
        self.idleWait = Int32(clamping: Int64((idleWait / .milliseconds(1)).rounded(.up)))
        self.multi = multi
        self.maxInFlight = maxInFlight
        slots = (0..<maxInFlight).map { _ in EasySlot() }
        free = slots.reversed()
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed: errno \(errno)")
        var wake = epoll_event()
        wake.events = EPOLLIN.rawValue
        wake.data.fd = multi.wakeFD
        precondition(epoll_ctl(epoll, EPOLL_CTL_ADD, multi.wakeFD, &wake) == 0, "epoll_ctl failed: errno \(errno)")
        check(sparrow_multi_setopt_long(multi.raw, CURLMOPT_MAX_HOST_CONNECTIONS, maxInFlight))
        check(sparrow_multi_setopt_long(multi.raw, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxInFlight))
        check(sparrow_multi_setopt_long(multi.raw, CURLMOPT_MAXCONNECTS, maxInFlight))
        check(sparrow_multi_setopt_long(multi.raw, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX)))
    }

    func run() {
        // The loop outlives its callbacks: `run` ends after `curl_multi_cleanup`.
        let this = Unmanaged.passUnretained(self).toOpaque()
        check(sparrow_multi_setopt_ptr(multi.raw, CURLMOPT_SOCKETDATA, this))
        check(sparrow_multi_setopt_ptr(multi.raw, CURLMOPT_TIMERDATA, this))
        check(sparrow_multi_setopt_socket_callback(multi.raw, CurlLoop.watchSocket))
        check(sparrow_multi_setopt_timer_callback(multi.raw, CurlLoop.setTimer))
        var finishedJobs: [(Job, TransferResult)] = []
        while transport.takeJobs(into: &waiting) {
            startWaiting()
            let timeout = millisecondsToTimer()  // 0 after a handle was added: libcurl starts it from its timer
            if timeout > 0, transport.prepareToSleep() {
                wait(milliseconds: timeout)
                transport.wokeUp()
            } else {
                wait(milliseconds: 0)
            }
            runTimerIfDue()
            collectFinished(into: &finishedJobs)
            startWaiting()
            for (job, result) in finishedJobs { job.finish(result) }  // after curl's bookkeeping for this pass
            finishedJobs.removeAll(keepingCapacity: true)
        }
        tearDown()
    }

    /// Waits at most `milliseconds` for sockets to be ready or a wake-up, and lets libcurl act on each ready socket.
    private func wait(milliseconds: Int32) {
        let count = epoll_wait(epoll, ready.baseAddress, Int32(ready.count), milliseconds)
        var stillRunning: Int32 = 0
        for event in ready.prefix(max(Int(count), 0)) {
            let fd = event.data.fd
            if fd == multi.wakeFD {
                var value: UInt64 = 0
                _ = read(fd, &value, 8)
                continue
            }
            if watched[fd]?.parked == true {  // an idle connection closed by the gateway: libcurl finds out on reuse
                watched[fd] = nil
                _ = epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
                continue
            }
            var bits: Int32 = 0
            if event.events & (EPOLLIN.rawValue | EPOLLHUP.rawValue) != 0 { bits |= CURL_CSELECT_IN }
            if event.events & EPOLLOUT.rawValue != 0 { bits |= CURL_CSELECT_OUT }
            if event.events & EPOLLERR.rawValue != 0 { bits |= CURL_CSELECT_ERR }
            _ = curl_multi_socket_action(multi.raw, fd, bits, &stillRunning)
        }
    }

    private func millisecondsToTimer() -> Int32 {
        guard let timerDeadline else { return idleWait }
        let left = timerDeadline - .now
        guard left > .zero else { return 0 }
        return Int32(min(Double(idleWait), (left / .milliseconds(1)).rounded(.up)))
    }

    private func runTimerIfDue() {
        guard let deadline = timerDeadline, deadline <= .now else { return }
        timerDeadline = nil  // libcurl sets the next one while it runs
        var stillRunning: Int32 = 0
        _ = curl_multi_socket_action(multi.raw, sparrow_socket_timeout(), 0, &stillRunning)
    }

    /// libcurl's socket callback: start, change or stop watching `fd`.
    ///
    /// A socket libcurl lets go of is only marked parked: it is a kept-alive connection between two transfers, as a
    /// rule, and the next transfer on it would add it again, so it stays in the set until it fires (then it leaves)
    /// or is wanted again. That saves two `epoll_ctl` calls per request.
    private func watch(_ fd: Int32, for what: Int32) {
        if what == CURL_POLL_REMOVE {
            watched[fd]?.parked = true
            return
        }
        let wanted =
            (what & CURL_POLL_IN != 0 ? EPOLLIN.rawValue : 0) | (what & CURL_POLL_OUT != 0 ? EPOLLOUT.rawValue : 0)
        let current = watched.updateValue((wanted, parked: false), forKey: fd)
        // Not parked means libcurl has not closed it since, so the set holds it as it was.
        if let current, !current.parked, current.events == wanted { return }
        var event = epoll_event()
        event.events = wanted
        event.data.fd = fd
        guard epoll_ctl(epoll, current == nil ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &event) != 0 else { return }
        // A parked socket was closed and a new one given its number: the kernel dropped the old one by itself.
        _ = epoll_ctl(epoll, current == nil ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event)
    }

    private static let watchSocket: curl_socket_callback = { _, fd, what, context, _ in
        Unmanaged<CurlLoop>.fromOpaque(context!).takeUnretainedValue().watch(fd, for: what)
        return 0
    }

    private static let setTimer: curl_multi_timer_callback = { _, milliseconds, context in
        let loop = Unmanaged<CurlLoop>.fromOpaque(context!).takeUnretainedValue()
        loop.timerDeadline = milliseconds < 0 ? nil : .now + .milliseconds(milliseconds)
        return 0
    }

    private func startWaiting() {
        while running.count < maxInFlight, !waiting.isEmpty, let slot = free.popLast() {
            let job = waiting.removeFirst()
            slot.prepare(job.request)
            let added = curl_multi_add_handle(multi.raw, slot.easy)
            guard added == CURLM_OK else {  // out of memory, in practice: the job still ends, with nothing sent
                free.append(slot)
                let message = "curl_multi_add_handle: " + String(cString: curl_multi_strerror(added))
                let kind = TransferFailure.Kind.other(Int32(CURLE_OUT_OF_MEMORY.rawValue))
                job.finish(.failed(TransferFailure(kind: kind, requestBytesSent: 0, message: message)))
                continue
            }
            running[ObjectIdentifier(slot)] = job
        }
    }

    private func collectFinished(into finished: inout [(Job, TransferResult)]) {
        var remaining: Int32 = 0
        while true {
            let message = sparrow_multi_info_read(multi.raw, &remaining)
            guard let easy = message.easy else { return }
            guard message.done != 0 else { continue }
            var context: UnsafeMutableRawPointer?
            _ = sparrow_easy_getinfo_ptr(easy, CURLINFO_PRIVATE, &context)
            let slot = Unmanaged<EasySlot>.fromOpaque(context!).takeUnretainedValue()
            let result = slot.result(message.result)
            _ = curl_multi_remove_handle(multi.raw, easy)
            if let job = running.removeValue(forKey: ObjectIdentifier(slot)) {
                finished.append((job, result))
            }
            free.append(slot)
        }
    }

    /// Fails everything still waiting or running, removes every handle, cleans up the multi handle and closes the
    /// loop's descriptors.
    private func tearDown() {
        let stopped = TransferFailure(kind: .cancelled, requestBytesSent: 0, message: "transport stopped")
        _ = transport.takeJobs(into: &waiting)
        for job in waiting { job.finish(.failed(stopped)) }
        waiting.removeAll()
        for slot in slots where running[ObjectIdentifier(slot)] != nil {
            _ = curl_multi_remove_handle(multi.raw, slot.easy)
            var sent = 0
            _ = sparrow_easy_getinfo_long(slot.easy, CURLINFO_REQUEST_SIZE, &sent)
            let abandoned = TransferFailure(kind: .cancelled, requestBytesSent: sent, message: "transport stopped")
            running.removeValue(forKey: ObjectIdentifier(slot))?.finish(.failed(abandoned))
        }
        _ = curl_multi_cleanup(multi.raw)  // may still call `watchSocket` for the connections it closes
        close(epoll)
        close(multi.wakeFD)
    }

    deinit {
        ready.deallocate()
    }

    /// The multi handle's options are fixed and known to this libcurl: a refusal is a broken installation.
    private func check(_ code: CURLMcode) {
        precondition(code == CURLM_OK, "curl_multi_setopt failed: \(String(cString: curl_multi_strerror(code)))")
    }
}
