import PostgresNIO
import Testing

@testable import SparrowPostgres

@Suite struct PostgresLocationTests {
    @Test func readsAURLAsLibpqDoes() throws {
        let location = try PostgresLocation("postgres://shop:s3cret@db.internal:6432/sparrow?sslmode=disable")
        #expect(location.configuration.host == "db.internal")
        #expect(location.configuration.port == 6432)
        #expect(location.configuration.username == "shop")
        #expect(location.configuration.password == "s3cret")
        #expect(location.configuration.database == "sparrow")
        #expect(location.description == "postgres://shop@db.internal:6432/sparrow")
        #expect(try PostgresLocation("postgresql://shop@localhost/sparrow").configuration.port == 5432)
    }

    @Test(arguments: [
        ("mysql://shop@db/sparrow", "not a postgres:// URL"),
        ("postgres://shop@db", "no database"),
        ("postgres://db/sparrow", "no user"),
        (
            "postgres://shop:hunter2@db/sparrow?sslmode=sometimes",
            "sslmode 'sometimes' is none of disable, prefer, require"
        ),
    ])
    func namesWhatIsWrongWithoutThePassword(url: String, reason: String) {
        #expect {
            try PostgresLocation(url)
        } throws: { error in
            let message = "\(error)"
            return message.hasSuffix(": " + reason) && !message.contains("hunter2")
        }
    }
}
