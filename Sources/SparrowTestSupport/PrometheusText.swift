/// The value of the sample `name` (labels included) in Prometheus text, when it is a whole number (counters print
/// as integers, gauges as decimals).
public func metric(_ text: String, _ name: String) -> Int? {
    for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
        return Double(line.dropFirst(name.count + 1)).flatMap { Int(exactly: $0) }
    }
    return nil
}
