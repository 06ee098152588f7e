/// The named values a template renders from: a recipient row's columns, or a gateway request's fields.
///
/// Names and values are kept side by side, and the rows of a CSV file share one array of names (its header), so
/// building a row hashes nothing. A lookup scans the names from the last: for the handful of columns a row has,
/// that costs less than hashing the name. Empty values count as absent, as they do in templates.
public struct TemplateValues: Sendable, ExpressibleByDictionaryLiteral {
    private var names: [String]
    private var values: [String]

    /// Values by position: `values[i]` is named `names[i]`. A name given twice yields its last non-empty value.
    public init(names: [String], values: [String]) {
        precondition(names.count == values.count, "a value for every name")
        self.names = names
        self.values = values
    }

    public init(_ dictionary: [String: String]) {
        names = Array(dictionary.keys)
        values = Array(dictionary.values)
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        names = elements.map(\.0)
        values = elements.map(\.1)
    }

    /// Makes room for `count` more values, so that adding them does not grow the storage.
    public mutating func reserveCapacity(adding count: Int) {
        names.reserveCapacity(names.count + count)
        values.reserveCapacity(values.count + count)
    }

    /// The last non-empty value named `name`, or nil. Setting replaces every value of that name; nil removes them.
    public subscript(name: String) -> String? {
        get {
            var index = names.count
            while index > 0 {
                index -= 1
                if names[index] == name, !values[index].isEmpty { return values[index] }
            }
            return nil
        }
        set {
            while let index = names.lastIndex(of: name) {
                names.remove(at: index)
                values.remove(at: index)
            }
            if let newValue {
                names.append(name)
                values.append(newValue)
            }
        }
    }

    /// The non-empty values by name.
    public var dictionary: [String: String] {
        var dictionary: [String: String] = [:]
        for (name, value) in zip(names, values) where !value.isEmpty { dictionary[name] = value }
        return dictionary
    }
}
