// The configuration loader over arbitrary YAML: it either loads or names a place in the file, never crashes.
import FuzzSupport
import SparrowConfig

runFuzzer { input in
    let yaml = String(decoding: input, as: UTF8.self)
    do {
        _ = try SparrowConfiguration.parse(yaml: yaml, path: "/fuzz/sparrow.yaml", environment: ["TOKEN": "t"])
    } catch {
        precondition("\(error)".hasPrefix("/fuzz/sparrow.yaml:"), "an error without its place: \(error)")
    }
}
