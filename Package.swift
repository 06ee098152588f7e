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
        .library(name: "SparrowCore", targets: ["SparrowCore"]),
        .library(name: "SparrowConfig", targets: ["SparrowConfig"]),
        .library(name: "SparrowDispatch", targets: ["SparrowDispatch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // Pure rules: no I/O, no clocks, no globals. Time comes in as `now:`.
        .target(
            name: "SparrowCore",
            dependencies: [.product(name: "Mustache", package: "swift-mustache")]
        ),
        // YAML → typed, validated configuration with located errors.
        .target(
            name: "SparrowConfig",
            dependencies: ["SparrowCore", .product(name: "Yams", package: "Yams")]
        ),
        // Drives the core over real input and output: `plan` today, `send` next.
        .target(
            name: "SparrowDispatch",
            dependencies: ["SparrowCore", "SparrowConfig"]
        ),
        .executableTarget(
            name: "sparrow",
            dependencies: [
                "SparrowCore", "SparrowConfig", "SparrowDispatch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SparrowCoreTests", dependencies: ["SparrowCore"], exclude: ["Fixtures"]),
        .testTarget(name: "SparrowConfigTests", dependencies: ["SparrowConfig"]),
        .testTarget(name: "SparrowCLITests", dependencies: ["sparrow", "SparrowCore"]),
    ]
)

for target in package.targets where [.regular, .test, .executable].contains(target.type) {
    target.swiftSettings = (target.swiftSettings ?? []) + swiftSettings
}
