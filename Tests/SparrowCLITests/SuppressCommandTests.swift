import Foundation
import Testing

@Suite struct SuppressCommandTests {
    @Test func addImportRemoveExportAndCount() throws {
        let folder = try SparrowProcess.temporaryFolder()
        try "store: ./state/sparrow.sqlite\ngateways:\n  - { name: g, url: \"http://127.0.0.1:9/\", format: json }\n"
            .write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        func run(_ arguments: [String], stdin: String = "") throws -> SparrowProcess.Outcome {
            try SparrowProcess.run(
                ["suppress"] + arguments + ["-c", "sparrow.yaml"], stdin: Data(stdin.utf8), in: folder)
        }
        #expect(try run(["add", "138 0013 8000", "+1 (650) 253-0000"]).status == 0)
        let imported = try run(
            ["import"], stdin: "phone\r\n１９９１２３４５６７８\r\n0086 166-1234-5678,王芳\n\nnot a number\n138-0013-8000\n")
        #expect(imported.status == 0)
        #expect(imported.stderr == "imported 3 numbers; skipped 2 lines without a valid number (first: line 1)\n")
        #expect(try run(["remove", "+8619912345678"]).status == 0)
        #expect(try run(["export"]).stdout == "+16502530000\n+8613800138000\n+8616612345678\n")
        #expect(try run(["count"]).stdout == "3\n")
        let bad = try run(["add", "12"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("'12' is not a valid number"))
    }
}
