import Glibc
import SparrowDispatch
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct OrderedBatchPipelineTests {
    struct Stop: Error, Equatable {}

    /// Outputs come out in the order their inputs went in, whichever worker finished first: workers here take
    /// longer over some inputs than others.
    @Test(arguments: [1, 2, 4]) func outputsKeepTheInputsOrder(workers: Int) throws {
        var consumed: [Int] = []
        try OrderedBatchPipeline<Int, Int>(workers: workers).run(
            produce: { send in for value in 0..<500 { try send(value) } },
            makeWorker: {
                { value in
                    if value % 7 == 0 { usleep(300) }  // finishes after the inputs that follow it
                    return value * 2
                }
            },
            consume: { consumed.append($0) })
        #expect(consumed == (0..<500).map { $0 * 2 })
    }

    /// At most `maxInFlight` batches exist between production and consumption: the producer waits for the
    /// consumer.
    @Test func theProducerIsHeldBackByASlowConsumer() throws {
        let ahead = Atomic(0)
        let mostAhead = Atomic(0)
        try OrderedBatchPipeline<Int, Int>(workers: 2, maxInFlight: 3).run(
            produce: { send in
                for value in 0..<200 {
                    try send(value)
                    let now = ahead.add(1, ordering: .relaxed).newValue
                    mostAhead.max(now, ordering: .relaxed)
                }
            },
            makeWorker: { { $0 } },
            consume: { _ in
                ahead.subtract(1, ordering: .relaxed)
                usleep(100)
            })
        // `send` returns once its batch is counted in flight; the consumer may lag one batch behind the count.
        #expect(mostAhead.load(ordering: .relaxed) <= 3 + 1)
    }

    @Test func aProducerErrorStopsTheRunAndIsThrown() {
        #expect(throws: Stop.self) {
            try OrderedBatchPipeline<Int, Int>(workers: 2).run(
                produce: { send in
                    for value in 0..<100 {
                        if value == 50 { throw Stop() }
                        try send(value)
                    }
                },
                makeWorker: { { $0 } }, consume: { _ in })
        }
    }

    @Test func aConsumerErrorStopsTheProducerAndIsThrown() {
        let produced = Atomic(0)
        #expect(throws: Stop.self) {
            try OrderedBatchPipeline<Int, Int>(workers: 2, maxInFlight: 4).run(
                produce: { send in
                    for value in 0..<1_000_000 {
                        try send(value)
                        produced.add(1, ordering: .relaxed)
                    }
                },
                makeWorker: { { $0 } },
                consume: { if $0 == 10 { throw Stop() } })
        }
        #expect(produced.load(ordering: .relaxed) < 1_000_000)  // it stopped early, not after reading everything
    }
}
