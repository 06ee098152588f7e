import ArgumentParser
import Foundation
import SparrowCore

struct Segment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show how a text is sent as SMS: encoding, units, segments and parts.",
        discussion: "Reads the text from standard input when none is given (a trailing newline is dropped).")

    @Argument(help: "The text; use -- before text that starts with a dash.")
    var text: String?

    func run() throws {
        let text = try text ?? Self.readStandardInput()
        let count = Segmenter.count(text)
        var json = JSONWriter()
        json.object { object in
            object.field("encoding", count.encoding.rawValue)
            object.field("units", count.units)
            object.field("segments", count.segments)
            object.field("parts") { value in
                value.array { parts in
                    for part in Segmenter.split(text) { parts.element(String(part)) }
                }
            }
        }
        print(String(decoding: json.bytes, as: UTF8.self))
    }

    private static func readStandardInput() throws -> String {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard var text = String(data: data, encoding: .utf8) else {
            throw UsageError(message: "standard input is not valid UTF-8")
        }
        if text.hasSuffix("\r\n") {
            text.removeLast()  // "\r\n" is one Character
        } else if text.hasSuffix("\n") {
            text.removeLast()
        }
        return text
    }
}
