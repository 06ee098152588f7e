/// Splits a byte stream into lines (LF or CRLF), never holding more than `maxLineBytes` of one line: a longer
/// line is reported as over-long, cut, and skipped to its end.
public struct LineSplitter {
    public let maxLineBytes: Int
    private var buffer: [UInt8] = []
    private var overlong = false
    private var line = 1

    public init(maxLineBytes: Int = 64 * 1024) {
        self.maxLineBytes = maxLineBytes
    }

    /// Calls `emit` with each complete line's number, bytes (without the line break; valid only during the call)
    /// and whether it was cut.
    public mutating func consume(
        _ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool,
        emit: (_ line: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ isOverlong: Bool) throws -> Void
    ) rethrows {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                try flush(emit: emit)
            } else if buffer.count < maxLineBytes {
                buffer.append(byte)
            } else {
                overlong = true
            }
        }
        if isFinal, !buffer.isEmpty || overlong {
            try flush(emit: emit)
        }
    }

    private mutating func flush(emit: (Int, UnsafeBufferPointer<UInt8>, Bool) throws -> Void) rethrows {
        defer {
            buffer.removeAll(keepingCapacity: true)
            overlong = false
            line += 1
        }
        var end = buffer.endIndex
        if !overlong, end > 0, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        try buffer.withUnsafeBufferPointer { try emit(line, UnsafeBufferPointer(rebasing: $0[..<end]), overlong) }
    }
}
