import Foundation

/// Writes `message` to standard error, with a newline unless it ends with one or `newline` is false.
package func printError(_ message: String, newline: Bool = true) {
    FileHandle.standardError.write(Data((newline && !message.hasSuffix("\n") ? message + "\n" : message).utf8))
}
