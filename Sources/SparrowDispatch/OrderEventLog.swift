package import SparrowCore

/// An event log in JSON Lines (`sparrow flows --stdin`), read on a thread of its own into a bounded queue of
/// batches: memory holds a few batches, however long the log.
package struct OrderEventLog: Sendable {
    /// A record that could not be read: its line and why. The record is skipped; the log goes on.
    package struct Refusal: Sendable, Hashable, CustomStringConvertible {
        package var line: Int
        package var reason: String
        package var description: String { "line \(line): \(reason)" }
    }

    /// The longest record taken; a longer one is refused without being held.
    package var maxRecordBytes = 1 << 20
    /// Seconds east of UTC of times written without an offset.
    package var zoneOffset: Int

    package init(zoneOffset: Int) { self.zoneOffset = zoneOffset }

    /// Reads `descriptor` to its end on a thread of its own, putting the events into `queue` in batches of up to 256,
    /// and closes it at the end.
    /// - Returns: the lines read, once the reading ends (at the end, or when the queue stops taking events).
    /// - Throws: `IOError` when the descriptor cannot be read.
    package func read(
        _ descriptor: Int32, into queue: BoundedQueue<[OrderEvent]>,
        refused: @escaping @Sendable (Refusal) -> Void
    ) async throws -> Int {
        let (maxRecordBytes, zoneOffset) = (maxRecordBytes, zoneOffset)
        return try await runOnOwnThread {
            defer { queue.close() }
            var input = FileDescriptorInput(descriptor: descriptor)
            var splitter = LineSplitter(maxLineBytes: maxRecordBytes)
            var batch: [OrderEvent] = []
            var lines = 0
            var open = true
            func take(_ line: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ overlong: Bool) {
                lines = line
                guard !overlong else {
                    return refused(Refusal(line: line, reason: "longer than \(maxRecordBytes) bytes"))
                }
                guard bytes.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return }  // a blank line
                do {
                    if let event = try OrderEvent.decode(record: bytes, zoneOffset: zoneOffset) { batch.append(event) }
                } catch {
                    refused(Refusal(line: line, reason: error.message))
                }
            }
            while open, let chunk = try input.next() {
                chunk.withUnsafeBufferPointer { splitter.consume($0, isFinal: false, emit: take) }
                if batch.count >= 256 {
                    open = queue.putBlocking(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if open {
                splitter.consume(UnsafeBufferPointer(start: nil, count: 0), isFinal: true, emit: take)
                if !batch.isEmpty { _ = queue.putBlocking(batch) }
            }
            return lines
        }
    }
}
