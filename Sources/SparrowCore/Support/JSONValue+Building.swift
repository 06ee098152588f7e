extension JSONValue {
    /// Sets the value at a dotted path (`messages.0.destinations`), creating what is missing on the way: an object
    /// for a name, an array for an index. An index may be at most the array's length (one past its end appends), and
    /// a scalar on the way is replaced.
    /// - Precondition: the path has no empty component.
    package mutating func set(_ value: JSONValue, at path: some StringProtocol) {
        let end = path.firstIndex(of: ".") ?? path.endIndex
        let component = path[..<end]
        precondition(!component.isEmpty, "an empty component in '\(path)'")
        let rest = end < path.endIndex ? path[path.index(after: end)...] : nil
        if let index = Int(component), index >= 0 {
            var elements: [JSONValue] = if case .array(let elements) = self { elements } else { [] }
            precondition(index <= elements.count, "index \(index) past the end of '\(path)'")
            var element = index < elements.count ? elements[index] : .null
            if let rest { element.set(value, at: rest) } else { element = value }
            if index < elements.count { elements[index] = element } else { elements.append(element) }
            self = .array(elements)
        } else {
            var members: [Member] = if case .object(let members) = self { members } else { [] }
            let position = members.firstIndex { $0.key == component }
            var member = position.map { members[$0].value } ?? .null
            if let rest { member.set(value, at: rest) } else { member = value }
            if let position {
                members[position].value = member
            } else {
                members.append(Member(key: String(component), value: member))
            }
            self = .object(members)
        }
    }
}
