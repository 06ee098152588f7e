// swift-tools-version:6.1
// Fuzz targets for the parsers that read untrusted bytes, in a package of their own so that libFuzzer's flags never
// reach Sparrow's own build. Build and run them with scripts/fuzz.sh; the corpus lives in Tests/Fuzz/. Each target
// hands its check, from FuzzHarness, to FuzzSupport.runFuzzer, which starts libFuzzer's driver from the target's own
// main. FuzzHarness is a link to Tests/SparrowFuzzReplayTests/Harnesses: `make test` replays the corpus through the
// very same checks.
import PackageDescription

let targets = ["FuzzRecipients", "FuzzTemplate", "FuzzConfig", "FuzzPhone", "FuzzWebhook", "FuzzOrders"]

let package = Package(
    name: "sparrow-fuzz",
    dependencies: [.package(name: "sparrow", path: "..")],
    targets: [
        .target(name: "FuzzDriver", path: "Targets/FuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["FuzzDriver"], path: "Targets/FuzzSupport"),
        .target(
            name: "FuzzHarness",
            dependencies: [
                .product(name: "SparrowCore", package: "sparrow"), .product(name: "SparrowConfig", package: "sparrow"),
            ],
            path: "Targets/FuzzHarness"
        ),
    ]
        + targets.map { name in
            .executableTarget(
                name: name,
                dependencies: ["FuzzSupport", "FuzzHarness"],
                path: "Targets/\(name)",
                // scripts/fuzz.sh compiles every Swift module with -sanitize=fuzzer,address, so that coverage guides
                // the fuzzer through Sparrow's code and not only through these thin targets. lld: gold fails on
                // the sanitizers' debug information.
                linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-use-ld=lld"])]
            )
        }
)
