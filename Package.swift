// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "sparrow",
    products: [
        .executable(name: "sparrow", targets: ["sparrow"]),
        .executable(name: "sparrow-gateway-sim", targets: ["sparrow-gateway-sim"]),
        .library(name: "SparrowCore", targets: ["SparrowCore"]),
        .library(name: "SparrowConfig", targets: ["SparrowConfig"]),
        .library(name: "SparrowTransport", targets: ["SparrowTransport"]),
        .library(name: "SparrowStore", targets: ["SparrowStore"]),
        .library(name: "SparrowDispatch", targets: ["SparrowDispatch"]),
        .library(name: "SparrowPostgres", targets: ["SparrowPostgres"]),
        .library(name: "SparrowReceipts", targets: ["SparrowReceipts"]),
        // The gateway simulator and its loopback fixtures, for the benchmarks' end-to-end cases.
        .library(name: "SparrowGatewaySim", targets: ["SparrowGatewaySim"]),
        .library(name: "SparrowTestSupport", targets: ["SparrowTestSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Pure rules: no I/O, no clocks, no globals. Time comes in as `now:`.
        .target(
            name: "SparrowCore",
            dependencies: [
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),  // HMAC-SHA256 request signatures
                .product(name: "HeapModule", package: "swift-collections"),  // a campaign's most valuable messages
                .product(name: "DequeModule", package: "swift-collections"),  // a shared rate's leased units
            ]
        ),
        // YAML → typed, validated configuration with located errors.
        .target(
            name: "SparrowConfig",
            dependencies: ["SparrowCore", .product(name: "Yams", package: "Yams")]
        ),
        // libcurl: the system library and the typed wrappers around its variadic calls.
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]),
        .target(name: "CCurlShim", dependencies: ["CCurl"]),
        // glibc's malloc tuning (`mallopt`), which its Swift module leaves out.
        .systemLibrary(name: "CMalloc"),
        // SQLite's process-wide configuration (`sqlite3_config`), variadic in C.
        .systemLibrary(name: "CSQLiteConfig"),
        // HTTP to the gateways: one curl multi handle on a thread of its own.
        .target(
            name: "SparrowTransport",
            dependencies: [
                "SparrowCore", "CCurl", "CCurlShim", .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // The journal: campaigns, messages, receipts, unsubscribes and sends in one SQLite file (GRDB, WAL).
        .target(
            name: "SparrowStore",
            dependencies: [
                "SparrowCore", "CSQLiteConfig", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),  // hot statements bind through the C API
            ]
        ),
        // What several workers share through PostgreSQL: one rate per carrier (GCRA, leased in tokens).
        .target(
            name: "SparrowPostgres",
            dependencies: [
                "SparrowCore", "SparrowStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),  // libpq's sslmode as TLS settings
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // A local HTTP SMS gateway with fault injection, for demos, tests and benchmarks; it posts receipts through
        // async-http-client, not Sparrow's own transport.
        .target(
            name: "SparrowGatewaySim",
            dependencies: [
                "SparrowCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),  // the pipeline's HTTP parts
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // `sparrow receipts`: the DLR/MO webhook; receipts reach the store in batches.
        .target(
            name: "SparrowReceipts",
            dependencies: [
                "SparrowCore", "SparrowStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // posix_spawn with its GNU extensions, for the tests' child processes.
        .target(name: "CSpawn"),
        // What tests share: the gateway simulator and the receipts webhook on free ports, certificates, child
        // processes.
        .target(
            name: "SparrowTestSupport",
            dependencies: [
                "SparrowCore", "SparrowGatewaySim", "SparrowReceipts", "SparrowPostgres", "CSpawn",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),  // a database of its own for each test
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Drives the core over real input, the gateways and the store: `plan`, `send`, `resume`, `report`.
        .target(
            name: "SparrowDispatch",
            dependencies: [
                "SparrowCore", "SparrowTransport", "SparrowStore", "SparrowPostgres",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // What the two command-line tools share: --log-level and --log-format, HOST:PORT arguments, running services
        // under one group that stops gracefully on the first signal and at once on the second.
        .target(
            name: "SparrowCommandSupport",
            dependencies: [
                "SparrowCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // Reports of plans and campaigns: the text summary, and a campaign's table, JSON, CSV and HTML.
        .target(name: "SparrowReports", dependencies: ["SparrowCore"]),
        .executableTarget(
            name: "sparrow",
            dependencies: [
                "SparrowCommandSupport", "SparrowCore", "SparrowConfig", "SparrowDispatch", "SparrowPostgres",
                "SparrowReceipts", "SparrowReports", "SparrowStore", "SparrowTransport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),  // the metrics endpoint
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .target(name: "CMalloc", condition: .when(platforms: [.linux])),
            ]
        ),
        // The gateway simulator's command line, an executable apart from Sparrow's.
        .executableTarget(
            name: "sparrow-gateway-sim",
            dependencies: [
                "SparrowCommandSupport", "SparrowGatewaySim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SparrowCoreTests", dependencies: ["SparrowCore"], exclude: ["Fixtures"]),
        .testTarget(name: "SparrowConfigTests", dependencies: ["SparrowConfig"]),
        .testTarget(name: "SparrowReportsTests", dependencies: ["SparrowReports", "SparrowCore"]),
        // The fuzzers' corpus (Tests/Fuzz/) replayed through their checks, which Fuzz/ links to in Harnesses/.
        .testTarget(name: "SparrowFuzzReplayTests", dependencies: ["SparrowCore", "SparrowConfig"]),
        .testTarget(
            name: "SparrowTransportTests",
            dependencies: ["SparrowCore", "SparrowTransport", "SparrowGatewaySim", "SparrowTestSupport"]
        ),
        .testTarget(
            name: "SparrowStoreTests",
            dependencies: [
                "SparrowStore", "SparrowCore", "SparrowPostgres", "SparrowTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),  // to read PostgreSQL's store in a test
                .product(name: "GRDB", package: "GRDB.swift"),  // to read the store's query plans in a test
                .product(name: "GRDBSQLite", package: "GRDB.swift"),  // to lower SQLite's limits in a test
            ]
        ),
        .testTarget(
            name: "SparrowPostgresTests",
            dependencies: [
                "SparrowPostgres", "SparrowCore", "SparrowDispatch", "SparrowStore", "SparrowTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "SparrowReceiptsTests",
            dependencies: [
                "SparrowReceipts", "SparrowConfig", "SparrowCore", "SparrowStore", "SparrowTransport",
                "SparrowTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),  // to fill the store's disk in a test
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),  // to see a redirect's Location
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SparrowCLITests",
            dependencies: [
                "sparrow", "sparrow-gateway-sim", "SparrowCore", "SparrowStore", "SparrowGatewaySim",
                "SparrowTestSupport",
                "SparrowTransport",
            ]
        ),
        .testTarget(
            name: "SparrowDispatchTests",
            dependencies: [
                "SparrowDispatch", "SparrowConfig", "SparrowCore", "SparrowTransport", "SparrowGatewaySim",
                "SparrowTestSupport", "SparrowStore", "SparrowReceipts",
                .product(name: "GRDB", package: "GRDB.swift"),  // to fill the store's disk in a test
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)

for target in package.targets where [.regular, .test, .executable].contains(target.type) {
    target.swiftSettings = (target.swiftSettings ?? []) + swiftSettings
}
