import SparrowCore
import CCurl
import CCurlShim
import DequeModule

/// The transfer loop: the only code that touches curl handles. It lives on the transport's thread from start to
/// end, so none of its state needs a lock.
final class CurlLoop {
    private unowned let transport: CurlTransport
    private let multi: MultiHandle
    private let maxInFlight: Int
    /// Owns every slot for the loop's life: the handles' `CURLOPT_PRIVATE` pointers refer to these objects.
    private let slots: [EasySlot]
    private var free: [EasySlot]
    private var running: [ObjectIdentifier: Job] = [:]
    private var waiting = Deque<Job>()

    init(transport: CurlTransport, multi: MultiHandle, maxInFlight: Int) {
        self.transport = transport
        self.multi = multi
        self.maxInFlight = maxInFlight
        slots = (0..<maxInFlight).map { _ in EasySlot() }
        free = slots.reversed()
        _ = sparrow_multi_setopt_long(multi.raw, CURLMOPT_MAX_HOST_CONNECTIONS, maxInFlight)
        _ = sparrow_multi_setopt_long(multi.raw, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxInFlight)
        _ = sparrow_multi_setopt_long(multi.raw, CURLMOPT_MAXCONNECTS, maxInFlight)
        _ = sparrow_multi_setopt_long(multi.raw, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
    }

    func run() {
        var finishedJobs: [(Job, TransferResult)] = []
        while transport.takeJobs(into: &waiting) {
            startWaiting()
            var stillRunning: Int32 = 0
            _ = curl_multi_perform(multi.raw, &stillRunning)
            collectFinished(into: &finishedJobs)
            if !finishedJobs.isEmpty {
                startWaiting()
                for (job, result) in finishedJobs { job.finish(result) }  // after curl's bookkeeping for this pass
                finishedJobs.removeAll(keepingCapacity: true)
                continue  // handles just added need a perform before the loop may sleep
            }
            if transport.prepareToSleep() {
                _ = curl_multi_poll(multi.raw, nil, 0, 1000, nil)  // curl shortens the wait for its own timers
            }
        }
        tearDown()
    }

    private func startWaiting() {
        while running.count < maxInFlight, !waiting.isEmpty, let slot = free.popLast() {
            let job = waiting.removeFirst()
            slot.prepare(job.request)
            running[ObjectIdentifier(slot)] = job
            _ = curl_multi_add_handle(multi.raw, slot.easy)
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

    /// Fails everything still waiting or running, removes every handle and cleans up the multi handle.
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
        _ = curl_multi_cleanup(multi.raw)
    }
}

@available(*, unavailable)
extension CurlLoop: Sendable {}
