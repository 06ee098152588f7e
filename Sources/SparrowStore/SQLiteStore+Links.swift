import Foundation
import GRDB
public import SparrowCore

// Tracked links: the key that tags their codes, the campaigns' targets, and the clicks.
extension SQLiteStore {
    public func setLinkTarget(campaign: String, _ target: String) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE campaign SET linkTarget = ? WHERE id = ? AND linkTarget IS NULL",
                arguments: [target, campaign])
        }
    }

    public func linkKey() async throws -> [UInt8] {
        try await write { db in
            if let key = try Data.fetchOne(db, sql: "SELECT value FROM secret WHERE name = 'link-key'") {
                return Array(key)
            }
            var generator = SystemRandomNumberGenerator()
            let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try db.execute(sql: "INSERT INTO secret (name, value) VALUES ('link-key', ?)", arguments: [Data(key)])
            return key
        }
    }

    public func recordClick(campaignNumber number: Int, line: Int, at: Timestamp) async throws -> (
        campaign: String, target: String?
    )? {
        try await write { db in
            guard
                let campaign = try Row.fetchOne(
                    db, sql: "SELECT id, linkTarget FROM campaign WHERE rowid = ?", arguments: [number]),
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM message WHERE campaignID = ? AND line = ?",
                    arguments: [campaign["id"] as String, line]) == true
            else { return nil }
            try db.execute(
                sql: "INSERT INTO click (campaignID, line, at) VALUES (?, ?, ?)",
                arguments: [campaign["id"] as String, line, at.secondsSince1970])
            return (campaign["id"], campaign["linkTarget"])
        }
    }
}
