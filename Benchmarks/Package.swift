// swift-tools-version:6.1
// The benchmarks live in a package of their own so that package-benchmark and its malloc interposer stay out of
// Sparrow's shipped build. Run: `cd Benchmarks && swift package benchmark`.
import PackageDescription

let package = Package(
    name: "sparrow-benchmarks",
    dependencies: [
        .package(name: "sparrow", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "SparrowBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SparrowCore", package: "sparrow"),
                .product(name: "SparrowConfig", package: "sparrow"),
                .product(name: "SparrowStore", package: "sparrow"),
                .product(name: "SparrowDispatch", package: "sparrow"),
                .product(name: "SparrowTransport", package: "sparrow"),
                .product(name: "SparrowGatewaySim", package: "sparrow"),
                .product(name: "SparrowTestSupport", package: "sparrow"),
            ],
            path: "SparrowBenchmarks",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Sparrow's CurlTransport against the bare C client in Peers/, through nginx: scripts/bench-transport.sh.
        // Not directly under Benchmarks/: package-benchmark's plugin runs every executable target whose folder sits
        // in a folder named "Benchmarks" as a benchmark suite, and `swift package benchmark` then fails on this one.
        .executableTarget(
            name: "TransportBench",
            dependencies: [
                .product(name: "SparrowTransport", package: "sparrow"),
                .product(name: "SparrowCore", package: "sparrow"),
            ],
            path: "Tools/TransportBench",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
    ]
)
