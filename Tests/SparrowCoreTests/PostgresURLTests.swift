import Testing

@testable import SparrowCore

@Suite struct PostgresURLTests {
    @Test func readsAURLAsLibpqDoes() throws {
        let url = try PostgresURL(
            "postgres://shop:s%40cr%3At@db.internal:6432/sparrow?application_name=x&sslmode=require")
        #expect(url.user == "shop")
        #expect(url.password == "s@cr:t")
        #expect(url.host == "db.internal")
        #expect(url.port == 6432)
        #expect(url.database == "sparrow")
        #expect(url.tls == .require)
        #expect(url.description == "postgres://shop@db.internal:6432/sparrow")
        let plain = try PostgresURL("postgresql://shop@[::1]/orders%2Fsms")
        #expect(plain.host == "::1" && plain.port == 5432 && plain.database == "orders/sms" && plain.password == nil)
        #expect(plain.tls == .prefer)
        #expect(plain.description == "postgres://shop@[::1]:5432/orders/sms")
        let verified = try PostgresURL("postgres://shop@db/sparrow?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem")
        #expect(verified.tls == .verifyFull && verified.rootCertificates == "/etc/ca.pem")
        #expect(try PostgresURL("postgres://shop@db/sparrow?sslmode=allow").tls == .prefer)
    }

    @Test(arguments: [
        ("mysql://shop@db/sparrow", "mysql://shop@db/sparrow: not a postgres:// URL"),
        ("postgres://shop@db", "postgres://shop@db: no database"),
        ("postgres://shop@db/", "postgres://shop@db/: no database"),
        ("postgres://db/sparrow", "postgres://db/sparrow: no user"),
        ("postgres://shop:hunter2@/sparrow", "postgres://shop:…@/sparrow: no host"),
        (
            "postgres://shop:hunter2@db:99999/sparrow",
            "postgres://shop:…@db:99999/sparrow: port '99999' is not a number from 1 to 65535"
        ),
        (
            "postgres://shop:hunter2@db/sparrow?sslmode=sometimes",
            "postgres://shop:…@db/sparrow?sslmode=sometimes: sslmode 'sometimes' is none of disable, prefer, require, "
                + "verify-ca, verify-full"
        ),
        ("postgres:/shop:hunter2@db/sparrow", "postgres:…@db/sparrow: not a postgres:// URL"),
        ("postgres://shop:hun%zzter@db/sparrow", "postgres://shop:…@db/sparrow: the password is not percent-encoded"),
        ("postgres://shop@[::1/sparrow", "postgres://shop@[::1/sparrow: an IPv6 host without its ']'"),
    ])
    func namesWhatIsWrongWithoutThePassword(url: String, message: String) {
        #expect(throws: PostgresURL.Invalid.self) { try PostgresURL(url) }
        do {
            _ = try PostgresURL(url)
        } catch {
            #expect(error.description == message)
        }
    }
}
