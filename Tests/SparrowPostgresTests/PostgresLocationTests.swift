import PostgresNIO
import SparrowPostgres
import Testing

@Suite struct PostgresLocationTests {
    @Test func connectsWhereTheURLSays() throws {
        let location = try PostgresLocation("postgres://shop:s3cret@db.internal:6432/sparrow?sslmode=disable")
        #expect(location.configuration.host == "db.internal")
        #expect(location.configuration.port == 6432)
        #expect(location.configuration.username == "shop")
        #expect(location.configuration.password == "s3cret")
        #expect(location.configuration.database == "sparrow")
        #expect(location.description == "postgres://shop@db.internal:6432/sparrow")
    }
}
