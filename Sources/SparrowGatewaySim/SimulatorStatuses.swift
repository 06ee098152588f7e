import SparrowCore
import Synchronization

/// What the simulator keeps of the messages Tencent Cloud and Alibaba Cloud clients sent it, for their status
/// queries. Tencent's reports wait in a queue each pull takes from, when receipts are not pushed (Tencent hands a
/// report out once, one way or the other); Alibaba keeps a record per number and day, which every query may read.
/// Every message is reported delivered.
final class ProviderStatusBook: Sendable {
    struct TencentReport: Hashable {
        var serialNo: String
        var number: String
        var context: String
    }

    struct AlibabaRecord: Hashable {
        var bizID: String
        var outID: String
        var templateCode: String
        /// China's date it was taken on, `yyyyMMdd`.
        var date: String
    }

    private struct Book {
        var tencent: [TencentReport] = []
        var aliyun: [String: [AlibabaRecord]] = [:]
    }

    private let book = Lock(Book())

    func took(tencent reports: [TencentReport]) {
        book.withLock { $0.tencent += reports }
    }

    /// Takes the next `limit` reports off the queue.
    func pullTencent(limit: Int) -> [TencentReport] {
        book.withLock { book in
            let taken = Array(book.tencent.prefix(limit))
            book.tencent.removeFirst(taken.count)
            return taken
        }
    }

    func took(aliyun record: AlibabaRecord, numbers: [String]) {
        book.withLock { book in
            for number in numbers { book.aliyun[number, default: []].append(record) }
        }
    }

    /// The records of `number` on `date`, of request `bizID` only when given, in the order they were taken.
    func aliyunRecords(number: String, date: String, bizID: String?) -> [AlibabaRecord] {
        book.withLock { book in
            (book.aliyun[number] ?? []).filter { $0.date == date && (bizID == nil || $0.bizID == bizID) }
        }
    }
}
