import Foundation
import SparrowCore
import Testing

@testable import SparrowConfig

/// The repository's root, for the shipped example files.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// Writes `yaml` to a fresh temporary file and loads it.
func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigError) -> SparrowConfiguration {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-config-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let path = folder.appendingPathComponent("sparrow.yaml").path
    try! yaml.write(toFile: path, atomically: true, encoding: .utf8)
    return try SparrowConfiguration.load(path: path, environment: environment)
}

/// The message of a load that must fail, with the temporary folder cut off the path.
func failure(_ yaml: String, environment: [String: String] = [:]) -> String {
    do {
        _ = try load(yaml, environment: environment)
        return "loaded"
    } catch {
        return "\(error)".replacing(/^.*\/sparrow\.yaml/, with: "sparrow.yaml")
    }
}

let minimal = """
    store: ./sparrow.sqlite
    gateways:
      - { name: primary, url: "https://sms.example.com/v1/send", format: json }
    """

@Suite struct ConfigurationTests {
    @Test func aMinimalConfigurationHasDefaults() throws {
        let configuration = try load(minimal)
        guard case .file(let path) = configuration.store else {
            Issue.record("store: \(configuration.store)")
            return
        }
        #expect(path.hasSuffix("/sparrow.sqlite") && path.hasPrefix("/"))
        #expect(configuration.defaultRegion == "CN")
        #expect(configuration.defaultTimeZone == "Asia/Shanghai")
        #expect(configuration.quietHours == QuietHours(start: WallTime("21:00")!, end: WallTime("08:00")!))
        #expect(
            configuration.carriers.map(\.id) == ["china-mobile", "china-unicom", "china-telecom", "china-broadnet"])
        #expect(configuration.gateways.first?.maxInFlight == 16)
        #expect(configuration.gateways.first?.timeout == .seconds(10))
        #expect(configuration.circuitBreaker == CircuitBreaker.Configuration())
    }

    @Test func theCircuitBreakerIsConfigurable() throws {
        let configuration = try load(minimal + "\ncircuit_breaker: { failures: 3, cool_down: 2s, max_cool_down: 10s }")
        #expect(
            configuration.circuitBreaker == .init(failureThreshold: 3, coolDown: .seconds(2), maxCoolDown: .seconds(10))
        )
        // A cool-down past the default cap raises the cap with it.
        let long = try load(minimal + "\ncircuit_breaker: { cool_down: 10m }").circuitBreaker
        #expect(long.coolDown == .seconds(600) && long.maxCoolDown == .seconds(600))
    }

    @Test func sharedRatesNameTheirDatabaseWithThePasswordFromTheEnvironment() throws {
        let configuration = try load(
            minimal + "\nshared_rates: postgres://sparrow:${PG_PASSWORD}@db.internal/sparrow",
            environment: ["PG_PASSWORD": "s3cret"])
        #expect(configuration.sharedRates?.password == "s3cret")
        #expect(configuration.sharedRates?.description == "postgres://sparrow@db.internal:5432/sparrow")
        #expect(try load(minimal).sharedRates == nil)
        #expect(
            failure(minimal + "\nshared_rates: postgres://sparrow:hunter2@db.internal")
                == "sparrow.yaml:4:15: shared_rates: no database")
    }

    @Test func aStoreIsAFileOrAPostgresDatabase() throws {
        let gateways = minimal.drop { $0 != "\n" }
        let database = try load(
            "store: postgresql://sparrow:${PG_PASSWORD}@db.internal/crm" + gateways,
            environment: ["PG_PASSWORD": "s3cret"]
        ).store
        guard case .postgres(let url) = database else {
            Issue.record("store: \(database)")
            return
        }
        #expect(url.password == "s3cret" && url.database == "crm")
        #expect(database.description == "postgres://sparrow@db.internal:5432/crm")
        #expect(
            failure("store: postgres://sparrow:hunter2@db.internal" + gateways)
                == "sparrow.yaml:1:8: store: no database")
        // Anything else is a file's path, resolved against the configuration's folder.
        guard case .file(let path) = try load("store: data/postgres.sqlite" + gateways).store else {
            Issue.record("not a file")
            return
        }
        #expect(path.hasSuffix("/data/postgres.sqlite"))
    }

    @Test func theExampleConfigurationLoads() throws {
        let configuration = try SparrowConfiguration.load(
            path: repositoryRoot + "/config/sparrow.yaml", environment: [:])
        #expect(configuration.gateways.map(\.name) == ["primary", "fallback"])
        #expect(configuration.frequencyCap == .init(max: 1, window: .seconds(86_400)))
        #expect(configuration.carriers.first { $0.id == "china-broadnet" }?.rate == 100)
        #expect(configuration.receipts?.token?.value == "demo-token")
        #expect("\(configuration.receipts!.token!)" == "<redacted>")
    }

    @Test func theBuiltInCarrierTableIsTheShippedFile() throws {
        let shipped = try String(contentsOfFile: repositoryRoot + "/config/carriers/cn.yaml", encoding: .utf8)
        #expect(BuiltinCarriers.china == shipped)
        let directory = CarrierDirectory(try SparrowConfiguration.builtinCarriers())
        let expected = [
            "8613800138000": "china-mobile", "8613412345678": "china-mobile", "8613491234567": "china-telecom",
            "8619812345678": "china-mobile", "8616612345678": "china-unicom", "8619912345678": "china-telecom",
            "8619212345678": "china-broadnet", "8617001234567": "china-telecom", "8617031234567": "china-mobile",
            "8617041234567": "china-unicom", "8616212345678": "china-telecom", "8619612345678": "china-unicom",
        ]
        for (number, carrier) in expected {
            #expect(directory.carrier(forE164Digits: number.utf8)?.id == carrier, "\(number)")
        }
    }

    @Test func environmentInterpolation() throws {
        let yaml = minimal + "\nreceipts: { token: \"${DLR_TOKEN}\", listen: \"${HOST:-127.0.0.1}:8089\" }"
        let configuration = try load(yaml, environment: ["DLR_TOKEN": "s3cret"])
        #expect(configuration.receipts?.token?.value == "s3cret")
        #expect(configuration.receipts?.listen == "127.0.0.1:8089")
        #expect(failure(yaml) == "sparrow.yaml:4:20: environment variable 'DLR_TOKEN' is not set")
    }

    @Test(arguments: [
        (minimal + "\nrate_limt: 5", "sparrow.yaml:4:1: unknown key 'rate_limt'"),  // nothing close enough to suggest
        (minimal + "\nsignatrue: x", "sparrow.yaml:4:1: unknown key 'signatrue' (did you mean 'signature'?)"),
        (
            minimal + "\ndefault_timezone: Mars/Olympus",
            "sparrow.yaml:4:19: 'Mars/Olympus' is not an IANA time zone (is tzdata installed?)"
        ),
        (
            minimal + "\nfrequency_cap: { max: 1, per: 24 hours }",
            "sparrow.yaml:4:31: invalid duration '24 hours' (write e.g. 500ms, 30s, 5m, 24h)"
        ),
        (
            minimal + "\nquiet_hours: { start: \"21:00\", end: \"25:00\" }",
            "sparrow.yaml:4:37: '25:00' is not a time (HH:MM)"
        ),
        (minimal + "\ndefault_region: XX", "sparrow.yaml:4:17: 'XX' is not a region code (ISO 3166, e.g. CN)"),
        (
            minimal + "\ncircuit_breaker: { cool_down: 10s, max_cool_down: 5s }",
            "sparrow.yaml:4:51: max_cool_down must be at least cool_down"
        ),
        (minimal + "\ncircuit_breaker: { failures: 0 }", "sparrow.yaml:4:30: "),
        ("store: x\n", "sparrow.yaml:1:1: missing key 'gateways'"),
        (
            "store: x\ngateways:\n  - { name: a, url: ftp://x, format: json }",
            "sparrow.yaml:3:21: expected an http:// or https:// URL"
        ),
        (
            "store: x\ngateways:\n  - { name: a, url: http://x, format: xml }",
            "sparrow.yaml:3:39: 'xml' is not one of json, form, query"
        ),
        (
            "store: x\ngateways:\n  - { name: a, url: http://x, format: json, backup: b }",
            "sparrow.yaml:3:53: backup 'b' is not another gateway of this file"
        ),
        (
            "store: x\ngateways:\n  - { name: a, url: http://x, format: json, carriers: [china-mobil] }",
            "sparrow.yaml:3:56: unknown carrier 'china-mobil' (did you mean 'china-mobile'?)"
        ),
        ("store: x\ngateways: [\n", "sparrow.yaml:3:1: did not find expected node content while parsing a flow node"),
        (minimal + "\ncarriers: { include: nowhere.yaml }", "sparrow.yaml:4:22: cannot read carrier table"),
        (
            "store: x\ngateways:\n  - { name: a, url: http://x, format: json, retry: { base_delay: 0s } }",
            "sparrow.yaml:3:66: base_delay must be longer than 0"
        ),
        (
            "store: x\ngateways:\n  - { name: a, url: http://x, format: json, retry: { base_delay: 2s, max_delay: 1s } }",
            "sparrow.yaml:3:81: max_delay must be at least base_delay"
        ),
        (
            "store: x\ngateways:\n  - { name: a, url: http://x, format: json, retry: { base_delay: 1m } }",
            "sparrow.yaml:3:66: base_delay must be at most max_delay (30.0 seconds unless set)"
        ),
    ])
    func errorsNameFileLineAndColumn(_ yaml: String, expected: String) {
        let message = failure(yaml)
        #expect(message.hasPrefix(expected), "\(message)")
    }

    @Test func inlineCarriersAndOverrides() throws {
        let configuration = try load(
            minimal + """

                carriers:
                  list:
                    - { id: sg-singtel, country_code: 65, prefixes: [81, 82], rate: 20, unit: segments }
                """)
        #expect(
            configuration.carriers == [
                Carrier(
                    id: "sg-singtel", name: "sg-singtel", prefixes: ["6581", "6582"], rate: 20, burst: 2,
                    unit: .segments)
            ])
    }

    @Test func overridesAloneApplyToTheBuiltInTable() throws {
        let configuration = try load(
            minimal + """

                carriers:
                  overrides:
                    china-mobile: { rate: 300, burst: 10 }
                """)
        #expect(
            configuration.carriers.map(\.id) == ["china-mobile", "china-unicom", "china-telecom", "china-broadnet"])
        #expect(configuration.carriers[0].rate == 300 && configuration.carriers[0].burst == 10)
    }

    @Test func quietHoursOff() throws {
        #expect(try load(minimal + "\nquiet_hours: off").quietHours == nil)
    }
}

@Suite struct GatewayConfigurationTests {
    @Test func theExampleDialectsLoad() throws {
        let configuration = try SparrowConfiguration.load(
            path: repositoryRoot + "/config/sparrow.yaml", environment: [:])
        let primary = try #require(configuration.gateways.first)
        #expect(primary.dialect.format == .json)
        #expect(primary.dialect.fields.map(\.name) == ["to", "text", "client_ref"])
        #expect(primary.dialect.auth == .bearer(token: "demo-token"))
        #expect(primary.retry.honoursIdempotencyKey)
        #expect(primary.maxInFlight == 32)
        let fallback = configuration.gateways[1]
        #expect(fallback.dialect.format == .form)
        #expect(fallback.dialect.reading.messageIDPath == "sid")
        #expect(fallback.dialect.auth == .basic(username: "demo", password: "demo"))
        #expect(fallback.dialect.idempotency.header == "I-Twilio-Idempotency-Token")
    }

    @Test func theKannelDialectSplitsWithUDHAndHonoursNoKey() throws {
        let configuration = try load(
            """
            store: x
            gateways:
              - include: \(repositoryRoot)/config/gateways/kannel-query.yaml
                name: kannel
                url: "http://127.0.0.1:13013/cgi-bin/sendsms"
            """)
        let kannel = try #require(configuration.gateways.first)
        #expect(kannel.dialect.splitting == .bySparrow(udhField: "udh"))
        #expect(kannel.dialect.idempotency.header == nil)
        #expect(!kannel.retry.honoursIdempotencyKey)
        let request = try kannel.dialect.request(
            for: SubmitContent(to: "+8613800138000", text: "hi", id: "k", udh: "050003A70201"),
            now: Timestamp(secondsSince1970: 0)
        ).get()
        #expect(
            request.url
                == "http://127.0.0.1:13013/cgi-bin/sendsms?username=sparrow&password=sparrow&from=10690&to=%2B8613800138000&text=hi&udh=050003A70201"
        )
    }

    @Test func turningTLSVerificationOffIsWarnedAbout() throws {
        let configuration = try load(
            "store: x\ngateways:\n  - { name: a, url: \"https://a\", format: json, tls: { verify: false } }")
        #expect(configuration.warnings.count == 1)
        #expect(
            configuration.warnings[0].hasSuffix("sparrow.yaml:3:5: warning: TLS verification is off for gateway 'a'"))
        #expect(try load(minimal).warnings.isEmpty)
    }

    static let twoGateways = """
        store: x
        gateways:
          - { name: a, url: "http://a", format: json, backup: b }
          - { name: b, url: "http://b", format: json, backup: a }
        """

    @Test(arguments: [
        (twoGateways, "sparrow.yaml:3:55: backups form a cycle: a → b → a"),
        (
            "store: x\ngateways:\n  - { name: a, url: http://a, format: json, fields: { to: \"{{phone}}\" } }",
            "sparrow.yaml:3:59: field 'to' uses 'phone'; a request has id, text, to"
        ),
        (
            "store: x\ngateways:\n  - { name: a, url: http://a, format: json, auth: { type: digest } }",
            "sparrow.yaml:3:59: 'digest' is not one of basic, bearer, hmac"
        ),
        (
            "store: x\ngateways:\n  - { name: a, url: http://a, format: json, response: { success_status: 2xx } }",
            "sparrow.yaml:3:73: expected a status or a range, e.g. 200 or 200-299"
        ),
        (
            "store: x\ngateways:\n  - { include: nowhere.yaml, name: a, url: http://a }",
            "sparrow.yaml:3:16: cannot read gateway file"
        ),
    ])
    func dialectErrorsNameTheirPlace(_ yaml: String, expected: String) {
        let message = failure(yaml)
        #expect(message.hasPrefix(expected), "\(message)")
    }
}
