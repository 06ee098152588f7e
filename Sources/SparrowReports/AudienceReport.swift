package import SparrowCore

/// An audience as recipients for `plan` and `send` (CSV or JSON Lines, one customer a row, with the phone and the
/// variables a template may use), and its grid as a table.
package enum AudienceReport {
    package enum Format: String, CaseIterable, Sendable {
        case csv, jsonl
    }

    /// The columns of a row, in order.
    package static let columns = [
        "phone", "name", "nickname", "customer", "segment", "r_score", "f_score", "m_score", "recency_days",
        "frequency",
        "monetary", "aov", "first_purchase", "last_purchase", "last_item", "categories", "grid_recency",
        "grid_frequency", "grid_value", "action",
    ]

    /// The CSV header line, with its line break; nothing for JSON Lines.
    package static func header(_ format: Format) -> String {
        format == .csv ? columns.joined(separator: ",") + "\n" : ""
    }

    /// `member`'s row in UTF-8, with its line break; `phone` as it should be sent to.
    package static func row(_ member: AudienceMember, phone: String, format: Format) -> [UInt8] {
        let history = member.history
        let values: [String?] = [
            phone, history.name, history.nickname, history.customer, member.segment.rawValue,
            String(member.scores.recency),
            String(member.scores.frequency), String(member.scores.monetary), String(member.recencyDays),
            String(history.purchases), history.spent.description, history.averageOrderValue.description,
            history.firstPurchase?.description,
            history.lastPurchase?.description, history.lastItem,
            history.categories.isEmpty ? nil : history.categories.joined(separator: "|"),
            member.cell.recency.label, member.cell.frequencyLabel, member.cell.highValue ? "high" : "mid",
            member.cell.action.rawValue,
        ]
        switch format {
        case .csv:
            var row: [UInt8] = []
            row.reserveCapacity(256)
            for (index, value) in values.enumerated() {
                if index > 0 { row.append(UInt8(ascii: ",")) }
                guard var value else { continue }
                value.withUTF8 { bytes in
                    // Most values need no quotes: their bytes go as they are.
                    if bytes.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) {
                        row.append(contentsOf: CSVField.escape(String(decoding: bytes, as: UTF8.self)).utf8)
                    } else {
                        row.append(contentsOf: bytes)
                    }
                }
            }
            row.append(UInt8(ascii: "\n"))
            return row
        case .jsonl:
            var json = JSONWriter()
            json.object { object in
                for (name, value) in zip(columns, values) {
                    if let value { object.field(named: name, value) }
                }
            }
            json.newline()
            return json.bytes
        }
    }

    /// The grid as a table: recency bands down, purchases across, each cell `high/mid` customers by average order
    /// value, then each band's actions.
    package static func matrix(_ members: [AudienceMember], aovThreshold: Money) -> String {
        let counts = Audience.grid(of: members)
        let bands = GridCell.Recency.allCases
        var lines = [
            "customers by days since the last purchase (rows) and purchases (columns), as high/mid average order "
                + "value (threshold \(aovThreshold))"
        ]
        let header = ["", "1", "2", "3", "4", "5+"]
        var table = [header]
        for band in bands {
            var cells = [band.label]
            for frequency in 1...5 {
                let cell = { (high: Bool) in
                    counts[GridCell(recency: band, purchases: frequency, highValue: high)] ?? 0
                }
                cells.append("\(cell(true))/\(cell(false))")
            }
            table.append(cells)
        }
        lines.append(TextTable.render(table) + "actions:")
        for band in bands {
            let actions = (1...5).map { GridCell(recency: band, purchases: $0, highValue: true).action.rawValue }
            lines.append(
                "  \(band.label): " + zip(header.dropFirst(), actions).map { "\($0) \($1)" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
