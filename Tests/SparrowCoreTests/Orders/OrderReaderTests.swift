import SparrowCore
import Testing

/// Reads `text` as one file, fed in chunks of `chunk` bytes: the orders and the rejects' lines and reasons.
func readOrders(_ text: String, chunk: Int = 1 << 20, offset: Int = 8 * 3600) throws -> (
    orders: [Order], rejects: [RowRejection], export: OrderExport?
) {
    var reader = OrderReader(offset: offset)
    var orders: [Order] = []
    var rejects: [RowRejection] = []
    let bytes = Array(text.utf8)
    var start = 0
    repeat {
        let end = min(start + chunk, bytes.count)
        try bytes[start..<end].withUnsafeBufferPointer { part in
            try reader.consume(part, isFinal: end == bytes.count) { input in
                switch input {
                case .order(let order): orders.append(order)
                case .rejected(let rejection, _): rejects.append(rejection)
                }
            }
        }
        start = end
    } while start < bytes.count
    return (orders, rejects, reader.export)
}

@Suite struct OrderReaderTests {
    static let taobao = """
        订单编号,买家会员名,买家实际支付金额,订单状态,收货人姓名,联系手机,订单创建时间,订单付款时间,宝贝标题
        ="1001",小王,120.00元,交易成功,王小明,'13800138000,2026-11-01 10:00:00,2026-11-01 10:05:00,女士羊毛外套
        ="1002",阿李,"1,300.50",交易关闭,李四,'13900139000,2026-10-01 10:00,2026-10-01 10:05,羽绒服
        ="1003",张三,99,等待买家付款,张三,'13700137000,2026-11-30 10:00:00,,

        """

    /// Taobao's report as exported: `="…"` ids, `'` phones, amounts with 元 and thousands separators, its status
    /// texts, and times in China's time; the buyer's member name is both the customer and the nickname.
    @Test func readsTaobaosOrderReport() throws {
        let read = try readOrders(Self.taobao)
        #expect(read.export == .taobao)
        #expect(read.rejects == [])
        #expect(
            read.orders == [
                Order(
                    id: "1001", customer: "小王", phone: "13800138000", name: "王小明", nickname: "小王",
                    created: Timestamp(rfc3339: "2026-11-01T02:00:00Z"),
                    paid: Timestamp(rfc3339: "2026-11-01T02:05:00Z"),
                    state: .completed, amount: Money(minorUnits: 12_000), items: ["女士羊毛外套"]),
                Order(
                    id: "1002", customer: "阿李", phone: "13900139000", name: "李四", nickname: "阿李",
                    created: Timestamp(rfc3339: "2026-10-01T02:00:00Z"),
                    paid: Timestamp(rfc3339: "2026-10-01T02:05:00Z"),
                    state: .refunded, amount: Money(minorUnits: 130_050), items: ["羽绒服"]),
                Order(
                    id: "1003", customer: "张三", phone: "13700137000", name: "张三", nickname: "张三",
                    created: Timestamp(rfc3339: "2026-11-30T02:00:00Z"), state: .unpaid,
                    amount: Money(minorUnits: 9_900)),
            ])
    }

    /// Shopify writes a row per line item, the order's columns on the first only; its times carry their offset.
    @Test func readsShopifysExportAnOrderAtATime() throws {
        let read = try readOrders(
            """
            Name,Email,Financial Status,Paid at,Fulfillment Status,Total,Created at,Lineitem name,Billing Name,Cancelled at,Phone
            #1001,ann@example.com,paid,2024-01-05 10:22:33 -0500,fulfilled,54.00,2024-01-05 10:20:00 -0500,Wool scarf,Ann Lee,,+1 650 253 0000
            #1001,,,,,,,Gloves,,,
            #1002,bob@example.com,refunded,2024-01-06 09:00:00 -0500,,20.00,2024-01-06 08:59:00 -0500,Hat,Bob,,
            #1003,cy@example.com,paid,,,,,Cap,,2024-01-07 10:00:00 -0500,
            #1003,,,,,,,Scarf,,,

            """)
        #expect(read.export == .shopify)
        #expect(read.rejects.map(\.reason) == [.invalidAmount])  // #1003 has no total; its second item goes with it
        #expect(read.orders.map(\.id) == ["#1001", "#1002"])
        #expect(read.orders[0].items == ["Wool scarf", "Gloves"])
        #expect(read.orders[0].state == .shipped)
        #expect(read.orders[0].paid == Timestamp(rfc3339: "2024-01-05T15:22:33Z"))
        #expect(read.orders[0].customer == "ann@example.com")
        #expect(read.orders[0].phone == "+1 650 253 0000")
        #expect(read.orders[1].state == .refunded)
    }

    /// The generic format, as CSV and as JSON Lines, reads the same orders; lists are separated by `|`.
    @Test func readsTheGenericFormatAsCSVAndJSONLines() throws {
        let csv = try readOrders(
            """
            order_id,customer_id,phone,name,nickname,created_at,paid_at,status,amount,items,categories
            A1,c1,13800138000,Ann,Annie,2026-11-01T10:00:00+08:00,2026-11-01T10:01:00+08:00,completed,88.5,Coat|Scarf,outerwear|accessories

            """)
        let jsonl = try readOrders(
            #"{"order_id":"A1","customer_id":"c1","phone":"13800138000","name":"Ann","nickname":"Annie","created_at":"2026-11-01T10:00:00+08:00","paid_at":"2026-11-01T10:01:00+08:00","status":"completed","amount":"88.5","items":"Coat|Scarf","categories":"outerwear|accessories"}"#
                + "\n")
        #expect(csv.export == .generic && jsonl.export == .generic)
        #expect(csv.orders == jsonl.orders)
        #expect(csv.orders.first?.nickname == "Annie")
        #expect(csv.orders.first?.items == ["Coat", "Scarf"])
        #expect(csv.orders.first?.categories == ["outerwear", "accessories"])
        #expect(csv.orders.first?.amount == Money(minorUnits: 8_850))
    }

    /// Each bad row is rejected with its line and reason, and the rows around it are read.
    @Test func badRowsAreRejectedWithTheirLineAndReason() throws {
        let read = try readOrders(
            """
            order_id,customer_id,phone,created_at,paid_at,status,amount
            ,c1,,2026-11-01,,paid,1
            A2,,,2026-11-01,,paid,1
            A3,c3,,yesterday,,paid,1
            A4,c4,,2026-11-01,,lost,1
            A5,c5,,2026-11-01,,paid,-3
            A6,c6,,2026-11-01,,paid,12.345
            A7,c7,,2026-11-01,2026-11-02,,7

            """)
        #expect(read.rejects.map(\.line) == [2, 3, 4, 5, 6, 7])
        #expect(
            read.rejects.map(\.reason) == [
                .missingOrderID, .missingCustomer, .invalidTime, .unknownStatus, .invalidAmount, .invalidAmount,
            ])
        #expect(read.orders.map(\.id) == ["A7"])
        #expect(read.orders.first?.state == .paid)  // no status: paid because it has a payment time
    }

    /// However the file is cut into chunks, the same orders come out (a Shopify order may span chunks).
    @Test(arguments: [1, 2, 3, 7, 64])
    func chunkingChangesNothing(chunk: Int) throws {
        let whole = try readOrders(Self.taobao)
        let cut = try readOrders(Self.taobao, chunk: chunk)
        #expect(cut.orders == whole.orders)
        #expect(cut.rejects == whole.rejects)
    }

    @Test func aFileThatIsNoOrderExportIsAnError() throws {
        #expect(throws: InputFileError.self) { try readOrders("phone,name\n13800138000,Ann\n") }
        #expect(throws: InputFileError.self) { try readOrders("") }
    }

    @Test func aRowWithInvalidUTF8IsRejected() throws {
        var reader = OrderReader(offset: 0)
        var reasons: [RejectReason] = []
        let bytes = Array("order_id,customer_id,amount\nA1,c".utf8) + [0xB9] + Array(",1\nA2,c2,1\n".utf8)
        try bytes.withUnsafeBufferPointer { buffer in
            try reader.consume(buffer, isFinal: true) { input in
                if case .rejected(let rejection, _) = input { reasons.append(rejection.reason) }
            }
        }
        #expect(reasons == [.invalidUTF8])
    }
}

@Suite struct MoneyTests {
    @Test(
        arguments: [
            ("120", 12_000), ("120.5", 12_050), ("120.05", 12_005), ("1,234.50", 123_450), ("120.00元", 12_000),
            ("¥88", 8_800), ("$12.50", 1_250), ("'0.01", 1),
        ] as [(String, Int64)])
    func readsAmountsAsExportsWriteThem(_ text: String, minorUnits: Int64) {
        #expect(Money(text) == Money(minorUnits: minorUnits))
    }

    @Test(arguments: ["", "abc", "-3", "1.234", "1.2.3", ".5", "12,34.5,6", "元"])
    func refusesWhatIsNoAmount(_ text: String) {
        #expect(Money(text) == nil)
    }

    @Test func printsTwoDecimals() {
        #expect("\(Money(minorUnits: 123_405))" == "1234.05")
        #expect("\(Money(minorUnits: 7))" == "0.07")
    }
}

@Suite struct ExportedTimeTests {
    @Test(arguments: [
        ("2019-05-15 16:50:00", "2019-05-15T08:50:00Z"),  // Taobao: China's time
        ("2019-05-15 16:50", "2019-05-15T08:50:00Z"),
        ("2019-05-15", "2019-05-14T16:00:00Z"),  // local midnight
        ("2024-01-05 10:22:33 -0500", "2024-01-05T15:22:33Z"),  // Shopify
        ("2024-01-05T10:22:33+08:00", "2024-01-05T02:22:33Z"),
        (" 2024-01-05T10:22:33Z ", "2024-01-05T10:22:33Z"),
    ])
    func readsTheTimesExportsWrite(_ text: String, expected: String) {
        #expect(Timestamp(exported: text, offset: 8 * 3600) == Timestamp(rfc3339: expected))
    }

    @Test(arguments: ["yesterday", "2019-13-01", "2019-05-15 25:00", "2024-01-05 10:22:33 -05"])
    func refusesWhatIsNoTime(_ text: String) {
        #expect(Timestamp(exported: text, offset: 0) == nil)
    }
}
