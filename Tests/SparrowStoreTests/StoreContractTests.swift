import SparrowCore
import SparrowTestSupport
import Testing

@testable import SparrowStore

/// What every store behind `CampaignStore` must do alike: the journal, receipts, the suppression list and the
/// frequency cap's ledger, the report's figures. Each test runs against SQLite and PostgreSQL (`StoreKind`).
@Suite struct StoreContractTests {
    @Test(arguments: StoreKind.available)
    func journalIsIdempotentAndResumeFindsTheUnanswered(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
            try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
            let first = try await store.journal(campaign: "c1", messages: (1...4).map { entry($0) }, skipped: [])
            #expect(first == [.ready, .ready, .ready, .ready])
            try await store.markSubmitting([("c1-1", "primary"), ("c1-2", "fallback")])  // c1-2 failed over
            try await store.record([submit(1, .accepted, id: "g-1")])
            // A resumed run journals the same rows again: each keeps its first record and reports where it stands.
            let again = try await store.journal(campaign: "c1", messages: (1...4).map { entry($0) }, skipped: [])
            #expect(again == [.accepted, .submitting, .ready, .ready])
            let unfinished = try await store.unfinished(
                campaign: "c1", dueBy: Timestamp(secondsSince1970: 0), afterLine: 0, limit: 10)
            #expect(unfinished.map(\.line) == [2, 3, 4])
            #expect(unfinished.map(\.state) == [.submitting, .ready, .ready])
            #expect(unfinished.map(\.text) == ["hi 2", "hi 3", "hi 4"])
            #expect(unfinished.map(\.gateway) == ["fallback", "primary", "primary"])  // where it may have gone
            let page = try await store.unfinished(
                campaign: "c1", dueBy: Timestamp(secondsSince1970: 0), afterLine: 2, limit: 1)
            #expect(page.map(\.line) == [3])
            let figures = try await store.figures(campaign: "c1")
            #expect(figures.total.targeted == 4 && figures.total.accepted == 1 && figures.total.pending == 4)
            #expect(figures.total.submitted == 2)

        }
    }

    /// A message decided ready is due whatever its time (the process that decided it may have a clock ahead of the
    /// one reading it: a worker on another host); a deferred one once its time has come.
    @Test(arguments: StoreKind.available)
    func aReadyMessageIsDueWhateverItsTimeADeferredOneOnceItComes(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
            var (ahead, later) = (entry(1), entry(2, state: .deferred))
            (ahead.sendAt, later.sendAt) = (Timestamp(secondsSince1970: 100), Timestamp(secondsSince1970: 100))
            _ = try await store.journal(campaign: "c1", messages: [ahead, later], skipped: [])
            for (now, due) in [(99, [1]), (100, [1, 2])] {
                let at = Timestamp(secondsSince1970: Int64(now))
                let unfinished = try await store.unfinished(campaign: "c1", dueBy: at, afterLine: 0, limit: 10)
                #expect(unfinished.map(\.line) == due)
                #expect(try await store.unansweredDue(campaign: "c1", dueBy: at) == due.count)
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func awaitingReceiptsCountsThePendingThatAreNotUnknown(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
            _ = try await store.journal(
                campaign: "c1", messages: [entry(1), entry(2, state: .deferred)] + (3...7).map { entry($0) },
                skipped: [])
            try await store.markSubmitting([(entry(3).id, "primary")])
            try await store.record([
                submit(4, .accepted, id: "g-4"), submit(5, .unknown), submit(6, .failed),
                submit(7, .accepted, id: "g-7"),
            ])
            let at = Timestamp(secondsSince1970: 200)
            _ = try await store.apply([
                ReceiptRecord(gateway: "primary", gatewayMessageID: "g-7", state: .delivered, at: at)
            ])
            // Ready (1), submitting (3) and accepted (4); not deferred (2), unknown (5), failed (6) or delivered (7).
            #expect(try await store.awaitingReceipts(campaign: "c1") == 3)
            let total = try await store.figures(campaign: "c1").total
            #expect(total.pending - total.unknown == 3)  // what the wait for receipts counted before
            _ = try await store.apply([
                ReceiptRecord(gateway: "primary", gatewayMessageID: "g-4", state: .expired, at: at)
            ])
            #expect(try await store.awaitingReceipts(campaign: "c1") == 2)
            #expect(try await store.awaitingReceipts(campaign: "c2") == 0)

        }
    }

    @Test(arguments: StoreKind.available)
    func receiptsOnlyMoveForwardAndDuplicatesAreHarmless(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
            _ = try await store.journal(campaign: "c1", messages: [entry(1), entry(2)], skipped: [])
            try await store.record([submit(1, .accepted, id: "g-1"), submit(2, .accepted, id: "g-2")])
            let at = Timestamp(secondsSince1970: 200)
            let moved = try await store.apply([
                ReceiptRecord(gateway: "primary", gatewayMessageID: "g-1", state: .delivered, at: at),
                ReceiptRecord(gateway: "primary", gatewayMessageID: "g-1", state: .delivered, at: at),  // duplicate
                ReceiptRecord(gateway: "primary", gatewayMessageID: "g-9", state: .delivered, at: at),  // unknown id
                ReceiptRecord(gateway: nil, gatewayMessageID: "g-2", state: .expired, at: at),  // matched by id alone
                // Late, and intermediate.
                ReceiptRecord(gateway: "primary", gatewayMessageID: "g-2", state: .accepted, at: at),
            ])
            #expect(moved == 2)
            // The duplicate and the late one matched.
            #expect(try await unmatchedReceipts(store) == ["primary g-9 delivered"])
            // A late submit answer never overwrites a receipt.
            try await store.record([submit(1, .accepted, id: "g-1")])
            let figures = try await store.figures(campaign: "c1")
            #expect(figures.total.delivered == 1 && figures.total.failed == 1 && figures.total.pending == 0)
            #expect(figures.total.accepted == 2 && figures.total.deliveryRate == 0.5)

        }
    }

    @Test(arguments: StoreKind.available)
    func theSuppressionListAndTheSendLedgerCountNumbers(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let numbers = ["13800138000", "19912345678", "+1 650 253 0000"].map {
                try! PhoneNumberParser.parse($0, defaultRegion: "CN").get().number
            }
            try await store.suppress((numbers + numbers).map(\.e164Value))
            try await store.unsuppress([numbers[1].e164Value])
            try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
            _ = try await store.journal(campaign: "c1", messages: [entry(1)], skipped: [])
            try await store.record([submit(1, .accepted, id: "g-1")])
            #expect(try await store.suppressedNumbers() == [16_502_530_000, 8_613_800_138_000])
            let since = Timestamp(secondsSince1970: 50)
            #expect(try await store.cappedNumbers(since: since, excluding: nil, sends: 1) == [8_613_800_138_011])
            #expect(try await store.cappedNumbers(since: since, excluding: nil, sends: 2).isEmpty)
            // A campaign never caps itself.
            #expect(try await store.cappedNumbers(since: since, excluding: "c1", sends: 1).isEmpty)
            #expect(
                try await store.cappedNumbers(since: Timestamp(secondsSince1970: 101), excluding: nil, sends: 1).isEmpty
            )
            // A second campaign's send to the number: two within the window.
            var again = entry(1)
            (again.id, again.campaign) = ("c2-1", "c2")
            try await store.beginCampaign(id: "c2", template: "hi", at: Timestamp(secondsSince1970: 0))
            _ = try await store.journal(campaign: "c2", messages: [again], skipped: [])
            var answer = submit(1, .accepted, id: "g-2")
            (answer.id, answer.campaign) = ("c2-1", "c2")
            try await store.record([answer])
            #expect(try await store.cappedNumbers(since: since, excluding: nil, sends: 2) == [8_613_800_138_011])
            #expect(try await store.cappedNumbers(since: since, excluding: "c2", sends: 2).isEmpty)

        }
    }

    @Test(arguments: StoreKind.available)
    func theSuppressedAmongSomeNumbersAreFoundInOneRead(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.suppress([8_613_800_138_000, 8_613_900_139_000])
            #expect(
                try await store.suppressed(among: [8_613_800_138_000, 8_613_800_138_001, 8_613_900_139_000])
                    == [8_613_800_138_000, 8_613_900_139_000])
            #expect(try await store.suppressed(among: [1]).isEmpty)
            #expect(try await store.suppressed(among: []).isEmpty)

        }
    }

    @Test(arguments: StoreKind.available)
    func unknownMessagesOpenAgainOnlyOnTheGivenGatewaysAndLeaveTheLedgerUntilRecorded(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
            _ = try await store.journal(campaign: "c1", messages: (1...3).map { entry($0) }, skipped: [])
            var elsewhere = submit(3, .unknown)
            elsewhere.gateway = "other"
            try await store.record([submit(1, .unknown), submit(2, .accepted, id: "g-2"), elsewhere])
            let since = Timestamp(secondsSince1970: 50)
            #expect(try await store.cappedNumbers(since: since, excluding: nil, sends: 1).count == 3)

            #expect(try await store.reopenUnknown(campaign: "c1", gateways: ["primary"]) == ["c1-1"])
            let unfinished = try await store.unfinished(
                campaign: "c1", dueBy: Timestamp(secondsSince1970: 0), afterLine: 0, limit: 10)
            #expect(unfinished.map(\.id) == ["c1-1"] && unfinished.map(\.state) == [.submitting])
            // Withdrawn until answered.
            #expect(try await store.cappedNumbers(since: since, excluding: nil, sends: 1).count == 2)
            try await store.record([submit(1, .accepted, id: "g-1")])
            #expect(try await store.cappedNumbers(since: since, excluding: nil, sends: 1).count == 3)
            #expect(try await store.figures(campaign: "c1").total.unknown == 1)  // the other gateway's stays unknown
            #expect(try await store.reopenUnknown(campaign: "c1", gateways: ["primary"]).isEmpty)

        }
    }

    @Test(arguments: StoreKind.available)
    func aRowKeepsItsFirstDecisionAndCountsOnceInTheFunnel(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
            let skipped = [
                SkippedRow(line: 2, status: .rejected, reason: "invalid-phone"),
                SkippedRow(line: 3, status: .suppressed, carrier: "china-mobile", gateway: "primary"),
            ]
            _ = try await store.journal(
                campaign: "c1", messages: [entry(1), entry(4, state: .deferred)], skipped: skipped)
            // Read again after the suppression list changed: line 1 is now suppressed, line 3 no longer is.
            let states = try await store.journal(
                campaign: "c1", messages: [entry(3), entry(4, state: .deferred)],
                skipped: [
                    SkippedRow(line: 1, status: .suppressed),
                    SkippedRow(line: 2, status: .rejected, reason: "invalid-phone"),
                ])
            #expect(states == [nil, .deferred])
            let figures = try await store.figures(campaign: "c1")
            var expected = Funnel()
            (expected.targeted, expected.rejected, expected.suppressed, expected.deferred, expected.pending) = (
                4, 1, 1, 1, 1
            )
            #expect(figures.total == expected)
            #expect(figures.byCarrier["china-mobile"]?.suppressed == 1)
            #expect(try await store.nextRelease(campaign: "c1") == Timestamp(secondsSince1970: 0))
            #expect(try await store.campaign(id: "c1")?.inputLines == nil)
            try await store.finishInput(campaign: "c1", lines: 4)
            #expect(try await store.campaign(id: "c1")?.inputLines == 4)

        }
    }

    @Test(arguments: StoreKind.available)
    func aNumberGetsOneMessagePerCampaignAndLaterRowsWithItAreDuplicates(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
            func sameNumber(_ line: Int, as first: Int, campaign: String = "c1") -> JournalEntry {
                var message = entry(line)
                (message.id, message.campaign, message.to) = ("\(campaign)-\(line)", campaign, entry(first).to)
                return message
            }
            // Within a batch, and across batches (line 4 repeats line 1).
            #expect(
                try await store.journal(
                    campaign: "c1", messages: [entry(1), sameNumber(2, as: 1), entry(3)], skipped: [])
                    == [.ready, nil, .ready])
            #expect(try await store.journal(campaign: "c1", messages: [sameNumber(4, as: 1)], skipped: []) == [nil])
            // Read again (resume): every row keeps its first decision, and counts once.
            let again = try await store.journal(
                campaign: "c1", messages: [entry(1), sameNumber(2, as: 1), entry(3), sameNumber(4, as: 1)], skipped: [])
            #expect(again == [.ready, nil, .ready, nil])
            var expected = Funnel()
            (expected.targeted, expected.duplicate, expected.pending) = (4, 2, 2)
            #expect(try await store.figures(campaign: "c1").total == expected)
            #expect(try await store.figures(campaign: "c1").byCarrier["china-mobile"]?.duplicate == 2)
            // Another campaign may message the number.
            try await store.beginCampaign(id: "c2", template: "hi", at: Timestamp(secondsSince1970: 0))
            #expect(
                try await store.journal(campaign: "c2", messages: [sameNumber(1, as: 1, campaign: "c2")], skipped: [])
                    == [
                        .ready
                    ])

        }
    }

    @Test(
        arguments: StoreKind.available,
        [
            ([MessageState.delivered, .delivered, .delivered], MessageState.delivered),
            ([.delivered, .expired, .delivered], .expired),
            ([.expired, .undelivered, .delivered], .undelivered),
        ])
    func aMessageInPartsSettlesWhenEveryPartHasItsReceipt(
        _ kind: StoreKind, _ example: (parts: [MessageState], settled: MessageState)
    ) async throws {
        let (parts, settled) = example
        try await withStore(kind) { store in
            try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
            _ = try await store.journal(campaign: "c1", messages: [entry(1)], skipped: [])
            var record = submit(1, .accepted, id: "p-1")
            record.partIDs = ["p-1", "p-2", "p-3"]
            try await store.record([record])
            let at = Timestamp(secondsSince1970: 200)
            var moved = 0
            for (index, state) in parts.enumerated().reversed() {  // out of order
                #expect(try await store.figures(campaign: "c1").total.pending == 1)
                moved += try await store.apply([
                    ReceiptRecord(gateway: nil, gatewayMessageID: "p-\(index + 1)", state: state, at: at)
                ])
            }
            #expect(moved == 1)  // the last part's receipt settles the message
            let total = try await store.figures(campaign: "c1").total
            #expect(total.pending == 0)
            #expect(settled == .delivered ? total.delivered == 1 : total.failed == 1)
            #expect(try await store.unfinished(campaign: "c1", dueBy: at, afterLine: 0, limit: 1).isEmpty)
            // A repeated part receipt changes nothing.
            #expect(
                try await store.apply([
                    ReceiptRecord(gateway: "primary", gatewayMessageID: "p-2", state: .delivered, at: at)
                ]) == 0)

        }
    }

    @Test(arguments: StoreKind.available)
    func anotherInputIsRefusedAtTheFirstLineThatDiffers(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
            _ = try await store.journal(campaign: "c1", messages: [entry(1), entry(2)], skipped: [])
            var shifted = entry(2)
            shifted.id = "c1-2-other-number"
            await #expect(throws: InputMismatch(line: 2)) {
                _ = try await store.journal(campaign: "c1", messages: [entry(1), shifted], skipped: [])
            }
            // An input that ends before the rows journaled from it is not the same input either.
            await #expect(throws: InputMismatch(line: 2)) { try await store.finishInput(campaign: "c1", lines: 1) }
            try await store.finishInput(campaign: "c1", lines: 2)

        }
    }

    @Test(arguments: StoreKind.available)
    func aReceiptThatOvertakesItsSubmitIsAppliedWhenTheSubmitIsRecorded(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
            _ = try await store.journal(campaign: "c1", messages: [entry(1), entry(2)], skipped: [])
            let at = Timestamp(secondsSince1970: 150)
            let early = try await store.apply([
                ReceiptRecord(gateway: nil, gatewayMessageID: "g-1", state: .delivered, at: at),
                ReceiptRecord(gateway: "primary", gatewayMessageID: "p-2", state: .expired, at: at),
                // Another gateway's.
                ReceiptRecord(gateway: "other", gatewayMessageID: "p-1", state: .delivered, at: at),
            ])
            #expect(early == 0)
            #expect(try await unmatchedReceipts(store).count == 3)
            var parts = submit(2, .accepted, id: "p-1")
            parts.partIDs = ["p-1", "p-2"]
            try await store.record([submit(1, .accepted, id: "g-1"), parts])
            var total = try await store.figures(campaign: "c1").total
            #expect(total.delivered == 1 && total.pending == 1)  // line 2's first part still awaits its receipt
            #expect(try await unmatchedReceipts(store) == ["other p-1 delivered"])  // applied ones are taken out
            _ = try await store.apply([
                ReceiptRecord(gateway: "primary", gatewayMessageID: "p-1", state: .delivered, at: at)
            ])
            total = try await store.figures(campaign: "c1").total
            #expect(total.delivered == 1 && total.failed == 1 && total.pending == 0)

        }
    }

    /// Nearest rank: the ceil(p × n)-th smallest, so p50 of 7 is the 4th and p99 of 7 the 7th.
    @Test(arguments: StoreKind.available, [(100, 50, 99), (7, 4, 7), (1, 1, 1)])
    func latencyPercentilesAreNearestRank(_ kind: StoreKind, _ example: (count: Int, p50: Int, p99: Int))
        async throws
    {
        let (count, p50, p99) = example
        try await withStore(kind) { store in
            try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
            _ = try await store.journal(campaign: "c1", messages: (1...count).map { entry($0) }, skipped: [])
            try await store.record(
                (1...count).reversed().map { line in
                    var record = submit(line, .accepted, id: "g-\(line)")
                    record.latency = .milliseconds(line)
                    return record
                })
            let figures = try await store.figures(campaign: "c1")
            #expect(figures.total.latencyP50 == .milliseconds(p50))
            #expect(figures.total.latencyP99 == .milliseconds(p99))
            #expect(figures.byGateway["primary"]?.latencyP99 == .milliseconds(p99))

        }
    }

    @Test(arguments: StoreKind.available)
    func latencyPercentilesOfEverySliceCountEqualLatenciesOneByOne(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
            // Lines 1–6 on china-mobile, all at 5 ms; lines 7–10 on china-unicom at 1, 2, 3 and 40 ms.
            let latencies = [5, 5, 5, 5, 5, 5, 1, 2, 3, 40]
            _ = try await store.journal(
                campaign: "c1",
                messages: (1...10).map { line in
                    var message = entry(line)
                    message.carrier = line <= 6 ? "china-mobile" : "china-unicom"
                    return message
                }, skipped: [])
            try await store.record(
                (1...10).map { line in
                    var record = submit(line, .accepted, id: "g-\(line)")
                    record.latency = .milliseconds(latencies[line - 1])
                    return record
                })
            let figures = try await store.figures(campaign: "c1")
            #expect(figures.total.latencyP50 == .milliseconds(5) && figures.total.latencyP99 == .milliseconds(40))
            let mobile = figures.byCarrier["china-mobile"], unicom = figures.byCarrier["china-unicom"]
            #expect(mobile?.latencyP50 == .milliseconds(5) && mobile?.latencyP99 == .milliseconds(5))
            #expect(unicom?.latencyP50 == .milliseconds(2) && unicom?.latencyP99 == .milliseconds(40))
            #expect(figures.byGateway["primary"]?.latencyP50 == .milliseconds(5))

        }
    }
}
