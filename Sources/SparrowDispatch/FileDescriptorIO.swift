import Glibc

/// Reads a file descriptor in large chunks (stdin, a file).
public struct FileDescriptorInput {
    public let descriptor: Int32
    private var buffer: [UInt8]

    public init(descriptor: Int32, chunkSize: Int = 256 * 1024) {
        self.descriptor = descriptor
        buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    /// The next chunk, or nil at end of file.
    /// - Throws: `IOError` when the read fails.
    public mutating func next() throws(IOError) -> ArraySlice<UInt8>? {
        let descriptor = descriptor
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 { return buffer[..<count] }
            if count == 0 { return nil }
            if errno != EINTR { throw IOError(operation: "read", errno: errno) }
        }
    }
}

/// Collects output bytes and writes them to a file descriptor in large writes.
public final class FileDescriptorOutput {
    public let descriptor: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private let flushThreshold: Int

    public init(descriptor: Int32, flushThreshold: Int = 256 * 1024) {
        self.descriptor = descriptor
        self.flushThreshold = flushThreshold
        ownsDescriptor = false
        buffer.reserveCapacity(flushThreshold + 4096)
    }

    /// Creates (or truncates) the file at `path`.
    public init(creating path: String, flushThreshold: Int = 64 * 1024) throws(IOError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw IOError(operation: "open \(path)", errno: errno) }
        self.descriptor = descriptor
        self.flushThreshold = flushThreshold
        ownsDescriptor = true
    }

    public func write(_ bytes: some Collection<UInt8>) throws(IOError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= flushThreshold { try flush() }
    }

    public func flush() throws(IOError) {
        var written = 0
        while written < buffer.count {
            let count = buffer.withUnsafeBytes {
                Glibc.write(descriptor, $0.baseAddress! + written, $0.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw IOError(operation: "write", errno: errno)
            }
            written += count
        }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
    }
}

@available(*, unavailable)
extension FileDescriptorOutput: Sendable {}

/// A failed system call, with its `errno` text.
public struct IOError: Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32
    public var description: String { "\(operation): \(String(cString: strerror(errno)))" }
}

/// What a file descriptor reads from: stdin may be a file, a pipe, a terminal or `/dev/null`.
public enum InputSource: Sendable, Hashable {
    case regularFile(size: Int)
    case terminal
    /// `/dev/null` and other character devices.
    case device
    /// A pipe or a socket.
    case stream

    public init(descriptor: Int32) {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            self = .stream
            return
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: self = .regularFile(size: Int(status.st_size))
        case S_IFCHR: self = isatty(descriptor) != 0 ? .terminal : .device
        default: self = .stream
        }
    }
}
