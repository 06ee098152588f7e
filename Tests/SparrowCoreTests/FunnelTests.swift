import SparrowCore
import Testing

@Suite struct FunnelTests {
    /// Every input row is counted once, whatever became of it: `targeted` is the sum of the rows that became no
    /// message and of the messages in each end state. Swept over every status, state and `sent`.
    @Test(arguments: MessageState.allCases) func everyRowIsCountedOnce(state: MessageState) {
        for sent in [false, true] {
            var funnel = Funnel()
            for (count, status) in zip([1, 2, 3, 4], [PlanStatus.rejected, .duplicate, .suppressed, .capped]) {
                funnel.add(skipped: count, status: status)
            }
            funnel.add(messages: 5, state: state, sent: sent, segments: 10, cost: 0.5)
            let skipped = funnel.rejected + funnel.duplicate + funnel.suppressed + funnel.capped
            let messages = funnel.deferred + funnel.delivered + funnel.failed + funnel.pending
            #expect(funnel.targeted == 15 && skipped == 10 && messages == 5, "\(state), sent: \(sent)")
            #expect(funnel.unknown == (state == .unknown ? 5 : 0))
            #expect(funnel.unknown <= funnel.pending)
        }
    }

    /// Segments and cost count only once a gateway took the messages; `submitted` whenever they left, or may have.
    @Test(arguments: MessageState.allCases) func acceptedAndSubmitted(state: MessageState) {
        var funnel = Funnel()
        funnel.add(messages: 2, state: state, sent: false, segments: 3, cost: 0.1)
        let taken = [.accepted, .delivered, .undelivered, .expired].contains(state)
        #expect(funnel.accepted == (taken ? 2 : 0))
        #expect(funnel.segments == (taken ? 3 : 0))
        #expect(funnel.submitted == ([.submitting, .unknown].contains(state) ? 2 : 0))
        var sent = Funnel()
        sent.add(messages: 2, state: state, sent: true, segments: 3, cost: 0.1)
        #expect(sent.submitted == 2)
    }

    @Test func aStatusThatIsNoSkipCountsAsRejected() {
        var funnel = Funnel()
        funnel.add(skipped: 1, status: .ready)
        #expect(funnel.rejected == 1 && funnel.targeted == 1)
    }
}

@Suite struct MinuteCountTests {
    func minutes(_ offsets: [(Int64, Int)]) -> [MinuteCount] {
        offsets.map { MinuteCount(minute: Timestamp(secondsSince1970: 1_800_000_000 + $0 * 60), count: $1) }
    }

    /// Buckets are the narrowest round width that keeps them within the limit; empty ones are kept, and every count
    /// lands in one.
    @Test func countsGoIntoRoundBuckets() {
        let short = MinuteCount.buckets(minutes([(0, 5), (2, 7)]))
        #expect(short.width == 60 && short.counts == [[5, 0, 7]])
        let twoHours = MinuteCount.buckets(minutes([(0, 1), (4, 2), (5, 3), (119, 4)]))
        #expect(twoHours.width == 300 && twoHours.starts.count == 24)
        #expect(twoHours.counts[0].first == 3 && twoHours.counts[0][1] == 3 && twoHours.counts[0].last == 4)
        #expect(twoHours.starts[0].secondsSince1970 % 300 == 0)
        let months = MinuteCount.buckets(minutes([(0, 1), (90 * 1440, 1)]))
        #expect(months.starts.count <= 60 && months.width % 86_400 == 0)
        #expect(months.counts[0].reduce(0, +) == 2)
        #expect(MinuteCount.buckets([]).starts.isEmpty)
    }

    /// Several series share the buckets that span them all.
    @Test func seriesShareTheirBuckets() {
        let (width, starts, counts) = MinuteCount.buckets(minutes([(0, 5), (1, 1)]), minutes([(2, 4), (3, 2)]), [])
        #expect(width == 60 && starts.count == 4)
        #expect(counts == [[5, 1, 0, 0], [0, 0, 4, 2], [0, 0, 0, 0]])
    }

    /// Each latency lands in the band of the highest lower bound it reaches.
    @Test func latenciesGoIntoBands() {
        let banded = LatencyCount.banded([
            .init(seconds: 0, count: 2), .init(seconds: 4, count: 1), .init(seconds: 5, count: 3),
            .init(seconds: 59, count: 1), .init(seconds: 3599, count: 1), .init(seconds: 90_000, count: 6),
        ])
        #expect(banded == [3, 3, 0, 1, 0, 0, 0, 0, 1, 6])
    }
}
