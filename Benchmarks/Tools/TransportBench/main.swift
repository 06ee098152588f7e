// Sparrow's side of scripts/bench-transport.sh: the workload of Benchmarks/Peers/curl-multi-client.c (the bare C
// baseline) through Sparrow's `CurlTransport`. N POSTs of the same ~200-byte form bodies, K in flight: K tasks,
// task i sends messages i, i+K, i+2K, … one after the other, each `await transport.perform(…)`, so K
// requests are outstanding at any time until the last round.
//
//   TransportBench URL N K
//
// Prints one line, in the C client's format:
//   sparrow-transport: N requests, E errors, S seconds, R req/s, C CPU us/req
// An error is a transfer that did not end with an HTTP 200 answer. Wall time runs from just before the first
// `perform` to the last completion; CPU is the process's user+system time (getrusage) over the same span.
import Foundation
import SparrowCore
import SparrowTransport

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
    static func run(url: String, total: Int, inFlight: Int) async -> Outcome {
        let transport = CurlTransport(maxInFlight: inFlight)
        let clock = ContinuousClock()
        let cpuBefore = cpuSeconds()
        let start = clock.now
        let errors = await withTaskGroup(of: Int.self) { group in
            for first in 0..<min(inFlight, total) {
                group.addTask {
                    var errors = 0
                    var number = first
                    while number < total {
                        let request = GatewayRequest(url: url, method: .post, body: FormBody.make(number))
                        let result = await transport.perform(request)
                        if case .answered(let answer) = result, answer.status == 200 {
                        } else {
                            errors += 1
                            if errors <= 2 { report("sparrow-transport: transfer \(number) failed: \(result)") }
                        }
                        number += inFlight
                    }
                    return errors
                }
            }
            return await group.reduce(0, +)
        }
        let elapsed = clock.now - start
        let cpu = cpuSeconds() - cpuBefore
        transport.shutdown()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Outcome(errors: errors, seconds: seconds, cpuSeconds: cpu)
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
        guard arguments.count == 4, let total = Int(arguments[2]), let inFlight = Int(arguments[3]), total > 0,
            inFlight > 0
        else {
            report("usage: TransportBench URL N K")
            exit(2)
        }
        let url = arguments[1]
        Task.detached {
            let outcome = await run(url: url, total: total, inFlight: min(inFlight, total))
            let seconds = String(format: "%.3f", outcome.seconds)
            let rate = String(format: "%.0f", Double(total) / outcome.seconds)
            let cpu = String(format: "%.1f", outcome.cpuSeconds * 1e6 / Double(total))
            print("sparrow-transport: \(total) requests, \(outcome.errors) errors, \(seconds) seconds, \(rate) req/s, \(cpu) CPU us/req")
            exit(outcome.errors == 0 ? 0 : 1)
        }
        DispatchSemaphore(value: 0).wait()
    }

    static func report(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

TransportBench.main()
