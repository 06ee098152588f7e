import ArgumentParser
import Foundation
import SparrowCommandSupport
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowStore

struct Suppress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the unsubscribe (suppression) list.",
        subcommands: [Add.self, Remove.self, Import.self, Export.self, Count.self])

    struct StoreOptions: ParsableArguments {
        @OptionGroup var config: ConfigOption

        @Option(help: "Region for numbers written without a country code (default: the configuration's).")
        var region: String?

        /// Runs `body` with the configured store and the region of numbers without a country code.
        func withStore(_ body: (any CampaignStore, _ region: String?) async throws -> Void) async throws {
            let configuration = try config.load()
            try await sparrow.withStore(configuration) { store in
                try await body(store, region?.uppercased() ?? configuration.defaultRegion)
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add numbers to the list.")
        @OptionGroup var options: StoreOptions
        @Argument(help: "Numbers, in any common format.") var numbers: [String]

        func run() async throws {
            try await options.withStore { store, region in
                try await store.suppress(try Suppress.parse(numbers, region: region).map(\.e164Value))
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take numbers off the list.")
        @OptionGroup var options: StoreOptions
        @Argument(help: "Numbers, in any common format.") var numbers: [String]

        func run() async throws {
            try await options.withStore { store, region in
                try await store.unsuppress(try Suppress.parse(numbers, region: region).map(\.e164Value))
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a file of numbers, one a line (or the first column of a CSV), in any common format.",
            discussion: "Lines that hold no valid number are counted and reported on stderr; the rest are imported.")
        @OptionGroup var options: StoreOptions
        @Argument(help: "The file; standard input when omitted or '-'.") var file: String?

        func run() async throws {
            try await options.withStore { store, region in
                let descriptor = file == nil || file == "-" ? 0 : open(file!, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else { throw UsageError(message: "\(file!): cannot open the file") }
                defer { if descriptor > 0 { close(descriptor) } }
                var input = FileDescriptorInput(descriptor: descriptor)
                var lines = LineSplitter(maxLineBytes: 4096)
                var batch: [UInt64] = []
                var imported = 0
                var skipped = (count: 0, first: 0)
                func handle(line: Int, bytes: UnsafeBufferPointer<UInt8>, overlong: Bool) {
                    let field = bytes.prefix { $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "\t") }
                    guard !overlong,
                        case .success(let info) = PhoneNumberParser.parse(utf8: field, defaultRegion: region)
                    else {
                        if !field.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) {
                            if skipped.count == 0 { skipped.first = line }
                            skipped.count += 1
                        }
                        return
                    }
                    batch.append(info.number.e164Value)
                }
                while let chunk = try input.next() {
                    chunk.withUnsafeBufferPointer { lines.consume($0, isFinal: false, emit: handle) }
                    if batch.count >= 1_000_000 {  // 8 MB: few large transactions write each page of the list rarely
                        try await store.suppress(batch)
                        imported += batch.count
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                [UInt8]().withUnsafeBufferPointer { lines.consume($0, isFinal: true, emit: handle) }
                try await store.suppress(batch)
                imported += batch.count
                var report = "imported \(imported) numbers"
                if skipped.count > 0 {
                    report += "; skipped \(skipped.count) lines without a valid number (first: line \(skipped.first))"
                }
                printError(report)
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the list, one E.164 number a line.")
        @OptionGroup var options: StoreOptions

        func run() async throws {
            try await options.withStore { store, _ in
                let output = FileDescriptorOutput(descriptor: 1)
                for number in try await store.suppressedNumbers() {
                    try output.write(Array("+\(number)\n".utf8))
                }
                try output.flush()
            }
        }
    }

    struct Count: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print how many numbers the list holds.")
        @OptionGroup var options: StoreOptions

        func run() async throws {
            try await options.withStore { store, _ in
                print(try await store.suppressedNumbers().count)
            }
        }
    }

    /// Every number normalised, or a usage error naming the first that is not a number.
    static func parse(_ numbers: [String], region: String?) throws -> [PhoneNumber] {
        try numbers.map { text in
            switch PhoneNumberParser.parse(text, defaultRegion: region) {
            case .success(let info): return info.number
            case .failure(let error): throw UsageError(message: "'\(text)' is not a valid number: \(error)")
            }
        }
    }
}
