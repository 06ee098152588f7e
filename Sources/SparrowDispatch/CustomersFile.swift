import Foundation
import SparrowCore

/// A customers file (CSV with a header, or JSON Lines), read in bounded memory for a birthday rule's daily pass.
enum CustomersFile {
    /// The values `pick` makes of the file's rows, in order; rows it cannot read are skipped.
    /// - Throws: `IOError` when the file cannot be opened or read, `InputFileError` when it has no header.
    static func read<Value>(_ path: String, pick: (RecipientRow) -> Value?) throws -> [Value] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw IOError(operation: "open \(path)", errno: errno) }
        defer { close(descriptor) }
        var input = FileDescriptorInput(descriptor: descriptor)
        var reader = RecipientReader()
        var picked: [Value] = []
        func take(_ input: RecipientInput) {
            if case .row(let row, _) = input, let value = pick(row) { picked.append(value) }
        }
        while let chunk = try input.next() { try reader.consume(chunk, isFinal: false, emit: take) }
        try reader.consume(ArraySlice(), isFinal: true, emit: take)
        return picked
    }
}
