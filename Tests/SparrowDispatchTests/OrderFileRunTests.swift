import Foundation
import SparrowCore
import Testing

@testable import SparrowDispatch

/// Taobao's order report as the seller centre exports it: GBK, CRLF, `="…"` ids, `'` phones, amounts with 元.
let taobaoExport = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/taobao-orders-gbk.csv")

@Suite struct OrderFileRunTests {
    /// GBK is detected, decoded, and read: the orders and customers the file holds, its bad row in the rejects file.
    @Test func readsAGBKExportFromTaobao() throws {
        let rejects = FileManager.default.temporaryDirectory.appendingPathComponent("rejects-\(UUID()).jsonl").path
        let (book, summary) = try OrderFileRun(options: .init(path: taobaoExport.path, rejectsPath: rejects)).run()
        #expect(summary == .init(export: .taobao, encoding: .gbk, orders: 7, rejected: 1))
        #expect(book.histories.count == 5)  // the rejected row's customer has no other order
        let wang = try #require(book.histories["小王"])
        #expect(wang.purchases == 2)
        #expect(wang.spent == Money(minorUnits: 20_000))
        #expect(wang.name == "王小明")
        #expect(wang.lastItem == "羊绒围巾")
        let rejected = try String(contentsOfFile: rejects, encoding: .utf8)
        #expect(rejected.contains(#""line":7,"reason":"invalid-amount""#))
        #expect(rejected.contains("赵六"))  // the raw row, decoded
    }

    /// However the GBK bytes are cut, the decoder gives the same UTF-8: a character cut in two waits for its rest.
    @Test func aCharacterCutBetweenChunksIsDecodedWhole() throws {
        let bytes = Array(try Data(contentsOf: taobaoExport))
        let whole = try GB18030Decoder().decode(bytes[...], isFinal: true)
        #expect(String(validating: whole, as: UTF8.self)?.contains("买家已付款，等待卖家发货") == true)
        for cut in [1, 17, 18, 19, 300, bytes.count - 1] {
            let decoder = try GB18030Decoder()
            let parts = decoder.decode(bytes[..<cut], isFinal: false) + decoder.decode(bytes[cut...], isFinal: true)
            #expect(parts == whole, "cut at \(cut)")
        }
    }

    /// A byte that starts no GB18030 character comes out as it was, invalid UTF-8, for its row to be rejected.
    @Test func aByteThatIsNoCharacterIsPassedOnAsItIs() throws {
        let decoded = try GB18030Decoder().decode([0x41, 0xFF, 0x42, 0xC4, 0xE3][...], isFinal: true)
        #expect(decoded == [0x41, 0xFF, 0x42] + Array("你".utf8))
    }
}
