import Glibc

/// Converts a stream from GB18030 (which holds GBK and GB2312) to UTF-8 with the C library's iconv, chunk by chunk:
/// a character cut by a chunk's end waits for the next chunk. A byte that starts no character is passed on as it is,
/// so that it stays invalid UTF-8 and the row holding it is rejected, never silently altered.
final class GB18030Decoder {
    private let converter: iconv_t
    /// The start of a character cut by the last chunk's end.
    private var pending: [UInt8] = []

    init() throws(IOError) {
        converter = iconv_open("UTF-8", "GB18030")
        guard converter != iconv_t(bitPattern: -1) else { throw IOError(operation: "iconv_open GB18030", errno: errno) }
    }

    deinit {
        iconv_close(converter)
    }

    /// The UTF-8 of `bytes`, after what the last call held back.
    func decode(_ bytes: ArraySlice<UInt8>, isFinal: Bool) -> [UInt8] {
        var input = pending + bytes
        pending = []
        var output = [UInt8](repeating: 0, count: input.count * 2 + 16)  // GB18030 → UTF-8 at most doubles
        var produced = 0
        var consumed = 0
        input.withUnsafeMutableBytes { inputBytes in
            output.withUnsafeMutableBytes { outputBytes in
                while consumed < inputBytes.count {
                    var inPointer: UnsafeMutablePointer<CChar>? =
                        inputBytes.baseAddress!.advanced(by: consumed).assumingMemoryBound(to: CChar.self)
                    var inLeft = inputBytes.count - consumed
                    var outPointer: UnsafeMutablePointer<CChar>? =
                        outputBytes.baseAddress!.advanced(by: produced).assumingMemoryBound(to: CChar.self)
                    var outLeft = outputBytes.count - produced
                    let result = iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                    let failure = errno
                    consumed = inputBytes.count - inLeft
                    produced = outputBytes.count - outLeft
                    guard result == -1 else { break }
                    precondition(failure != E2BIG, "the output holds twice the input")
                    if failure == EINVAL, !isFinal { break }  // a character cut at the end: wait for the rest
                    // EILSEQ, or a cut character at the very end: pass the byte on, invalid as UTF-8.
                    outputBytes[produced] = inputBytes[consumed]
                    produced += 1
                    consumed += 1
                }
            }
        }
        pending = Array(input[consumed...])
        return Array(output[..<produced])
    }
}
