// The recipient reader (CSV or JSON Lines, detected), fed the input in two chunks split where the first byte says,
// with a small row limit so that over-long rows are exercised too. Every row must come out as a row or a reject.
import FuzzSupport
import SparrowCore

runFuzzer { input in
    let bytes = Array(input)
    let split = bytes.first.map { Int($0) % (bytes.count + 1) } ?? 0
    var reader = RecipientReader(maxRowBytes: 256)
    var rows = 0
    do {
        try reader.consume(bytes[..<split], isFinal: false) { _ in rows += 1 }
        try reader.consume(bytes[split...], isFinal: true) { _ in rows += 1 }
    } catch is RecipientFileError {
        // a clear refusal of the whole file: fine
    } catch {
        fatalError("unexpected error: \(error)")
    }
}
