// swift-tools-version:6.0
// Encoder benchmark (BENCHMARKS.md, issue 2): the snapshot path's direct
// UTF-8 writer against Foundation. Its own package so that the main
// Package.swift stays as it is; build with `--scratch-path .build-bench`.
// NIOCore is the same swift-nio the server uses (bench.sh copies the main
// Package.resolved here so that the same version is picked).
import PackageDescription

let package = Package(
    name: "bpfleet-bench-encoders",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
    ],
    targets: [
        .executableTarget(
            name: "encoders",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/encoders"
        ),
    ]
)
