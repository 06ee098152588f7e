// Sparrow's side of scripts/bench-transport.sh: the workload of Benchmarks/Peers/curl-multi-client.c (the bare C
// baseline) through Sparrow's `CurlTransport`. N POSTs of the same ~200-byte form bodies, K in flight, in one of
// the transport's two ways of handing back results:
//
//   send     K chains of completions: each transfer's completion, on the transport's thread, sends the chain's
//            next message, the way the C client's loop does. This is the path the dispatcher uses.
//   perform  K tasks, task i sends messages i, i+K, i+2K, … one after the other, each `await transport.perform(…)`.
//
//   TransportBench URL N K [send|perform]
//
// Prints one line, in the C client's format:
//   sparrow-transport: N requests, E errors, S seconds, R req/s, C CPU us/req
// An error is a transfer that did not end with an HTTP 200 answer. Wall time runs from just before the first
// request to the last completion; CPU is the process's user+system time (getrusage) over the same span.
import Foundation
import SparrowCore
import SparrowTransport
import Synchronization

/// The C client's `BODY_FORMAT`, byte for byte: three zero-padded numbers between four fixed parts.
enum FormBody {
    private static let parts: [[UInt8]] = [
        "from=Sparrow&to=%2B8613",
        "&coding=0&charset=UTF-8&dlr-mask=31&client-ref=sp-",
        "&text=Your+verification+code+is+",
        ".+It+expires+in+10+minutes.+Do+not+share+it.+Reply+STOP+to+opt+out.",
    ].map { Array($0.utf8) }

    static func make(_ number: Int) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(224)
        body += parts[0]
        appendDigits(number % 1_000_000_000, width: 9, to: &body)
        body += parts[1]
        appendDigits(number, width: 10, to: &body)
        body += parts[2]
        appendDigits((number &* 7919) % 1_000_000, width: 6, to: &body)
        body += parts[3]
        return body
    }

    private static func appendDigits(_ value: Int, width: Int, to body: inout [UInt8]) {
        let start = body.count
        body.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width))
        var rest = value
        var index = start + width - 1
        while rest > 0, index >= start {
            body[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            index -= 1
        }
    }
}

struct Outcome: Sendable {
    var errors: Int
    var seconds: Double
    var cpuSeconds: Double
}

/// The workload runs in a detached task on the global concurrent executor, never on the main actor (top-level
/// code in main.swift is main-actor code); `#isolation` is therefore nil in `perform`, as for any nonisolated caller.
enum TransportBench {
    enum Mode: String {
        case send, perform
    }

    static func run(url: String, total: Int, inFlight: Int, mode: Mode) async -> Outcome {
        let transport = CurlTransport(maxInFlight: inFlight)
        let clock = ContinuousClock()
        let cpuBefore = cpuSeconds()
        let start = clock.now
        let errors =
            switch mode {
            case .send: await chains(url: url, total: total, inFlight: inFlight, transport: transport)
            case .perform: await tasks(url: url, total: total, inFlight: inFlight, transport: transport)
            }
        let elapsed = clock.now - start
        let cpu = cpuSeconds() - cpuBefore
        transport.shutdown()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Outcome(errors: errors, seconds: seconds, cpuSeconds: cpu)
    }

    /// K chains of `send`: the completion of message n sends message n + K. Returns the errors once every chain
    /// has ended.
    static func chains(url: String, total: Int, inFlight: Int, transport: CurlTransport) async -> Int {
        let tally = ChainTally(chains: inFlight)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            @Sendable func send(_ number: Int) {
                transport.send(GatewayRequest(url: url, method: .post, body: FormBody.make(number))) { result in
                    if !isOK(result), tally.errors.add(1, ordering: .relaxed).newValue <= 2 { failed(number, result) }
                    if number + inFlight < total {
                        send(number + inFlight)
                    } else if tally.chainsLeft.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                        done.resume()
                    }
                }
            }
            for first in 0..<inFlight { send(first) }
        }
        return tally.errors.load(ordering: .relaxed)
    }

    final class ChainTally: Sendable {
        let errors = Atomic(0)
        let chainsLeft: Atomic<Int>

        init(chains: Int) {
            chainsLeft = Atomic(chains)
        }
    }

    /// K tasks, each awaiting `perform` for its messages one after the other.
    static func tasks(url: String, total: Int, inFlight: Int, transport: CurlTransport) async -> Int {
        await withTaskGroup(of: Int.self) { group in
            for first in 0..<inFlight {
                group.addTask {
                    var errors = 0
                    var number = first
                    while number < total {
                        let result = await transport.perform(
                            GatewayRequest(url: url, method: .post, body: FormBody.make(number)))
                        if !isOK(result) {
                            errors += 1
                            if errors <= 2 { failed(number, result) }
                        }
                        number += inFlight
                    }
                    return errors
                }
            }
            return await group.reduce(0, +)
        }
    }

    static func isOK(_ result: TransferResult) -> Bool {
        if case .answered(let answer) = result { answer.status == 200 } else { false }
    }

    static func failed(_ number: Int, _ result: TransferResult) {
        report("sparrow-transport: transfer \(number) failed: \(result)")
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Parses the arguments, runs the workload in a detached task and prints its line. Not `async`: an async main
    /// runs `dispatch_main`, which valgrind 3.19 cannot run (it crashes in `_dispatch_sig_thread`), and callgrind is
    /// how this binary is profiled here. The main thread only waits; the task ends the process.
    static func main() {
        let arguments = CommandLine.arguments
        guard (4...5).contains(arguments.count), let total = Int(arguments[2]), let inFlight = Int(arguments[3]),
            total > 0, inFlight > 0, let mode = Mode(rawValue: arguments.count == 5 ? arguments[4] : "send")
        else {
            report("usage: TransportBench URL N K [send|perform]")
            exit(2)
        }
        let url = arguments[1]
        Task.detached {
            let outcome = await run(url: url, total: total, inFlight: min(inFlight, total), mode: mode)
            let seconds = String(format: "%.3f", outcome.seconds)
            let rate = String(format: "%.0f", Double(total) / outcome.seconds)
            let cpu = String(format: "%.1f", outcome.cpuSeconds * 1e6 / Double(total))
            print(
                "sparrow-transport: \(total) requests, \(outcome.errors) errors, \(seconds) seconds, \(rate) req/s, \(cpu) CPU us/req"
            )
            exit(outcome.errors == 0 ? 0 : 1)
        }
        DispatchSemaphore(value: 0).wait()
    }

    static func report(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

TransportBench.main()
