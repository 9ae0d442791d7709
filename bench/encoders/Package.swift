// swift-tools-version:6.0
// Encoder benchmark (BENCHMARKS.md, issue 2): the server's own snapshot
// encoder (BpfleetServer's MapCodec and JSONWriter, through a path
// dependency on this repository) against Foundation. Its own package so the
// main one has no benchmark targets; build with `--scratch-path .build-bench`.
import PackageDescription

let package = Package(
    name: "bpfleet-bench-encoders",
    dependencies: [
        .package(name: "bpfleet", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
    ],
    targets: [
        .executableTarget(
            name: "encoders",
            dependencies: [
                .product(name: "BpfleetServer", package: "bpfleet"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/encoders"
        ),
    ]
)
