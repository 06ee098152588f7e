import Foundation
import SparrowCommandSupport
import SparrowDispatch

/// What standard input is, for the progress bar and for `resume`.
enum StandardInput {
    /// The size of standard input when it is a regular file.
    static var regularFileSize: Int? {
        if case .regularFile(let size) = InputSource(descriptor: 0) { size } else { nil }
    }

    /// Whether standard input may hold a campaign's rows again: not a terminal, not `/dev/null`, not an empty file
    /// (as cron and service managers start commands).
    static var mayHoldRows: Bool {
        switch InputSource(descriptor: 0) {
        case .regularFile(let size): size > 0
        case .stream: true
        case .terminal, .device: false
        }
    }

    /// Standard input as a file that can be read twice: itself when it is a regular file, else (a pipe) a copy in an
    /// unlinked temporary file, which disk holds instead of memory.
    /// - Returns: the descriptor and the offset to read it from, each time.
    static func rereadable() throws -> (descriptor: Int32, offset: off_t) {
        if case .regularFile = InputSource(descriptor: 0) { return (0, lseek(0, 0, SEEK_CUR)) }
        var template = Array((NSTemporaryDirectory() + "/sparrow-recipients-XXXXXX").utf8CString)
        let copy = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard copy >= 0 else {
            throw RuntimeFailure(
                message: "cannot copy standard input to \(NSTemporaryDirectory()): \(String(cString: strerror(errno)))")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let output = FileDescriptorOutput(descriptor: copy)
        var input = FileDescriptorInput(descriptor: 0)
        do {
            while let chunk = try input.next() { try output.write(chunk) }
            try output.flush()
        } catch {
            throw RuntimeFailure(message: "cannot copy standard input to \(NSTemporaryDirectory()): \(error)")
        }
        guard lseek(copy, 0, SEEK_SET) == 0 else {
            throw RuntimeFailure(message: "cannot read the copy of standard input: \(String(cString: strerror(errno)))")
        }
        return (copy, 0)
    }
}
