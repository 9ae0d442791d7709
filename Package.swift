// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "bpfleet",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "bpfleetd", targets: ["bpfleetd"]),
        .executable(name: "bpfleet", targets: ["bpfleet"]),
        .library(name: "BpfleetClient", targets: ["BpfleetClient"]),
        // For bench/encoders, which measures the server's own snapshot encoder.
        .library(name: "BpfleetServer", targets: ["BpfleetServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // libbpf + libelf from Debian's libbpf-dev / libelf-dev.
        .systemLibrary(
            name: "CLibBPF",
            path: "Sources/CLibBPF",
            pkgConfig: "libbpf",
            providers: [.apt(["libbpf-dev", "libelf-dev", "zlib1g-dev"])]
        ),
        // What Swift cannot express over libbpf: a varargs print callback.
        .target(
            name: "CBPFSupport",
            dependencies: ["CLibBPF"],
            path: "Sources/CBPFSupport"
        ),
        // The wire protocol: touches neither the kernel nor a socket.
        .target(
            name: "BpfleetShared",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/Shared"
        ),
        // bpfleetd: transports, dispatch, object store, probe registry, libbpf.
        .target(
            name: "BpfleetServer",
            dependencies: [
                "BpfleetShared",
                "CLibBPF",
                "CBPFSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/Server"
        ),
        // Client library and the bpfleet command line.
        .target(
            name: "BpfleetClient",
            dependencies: [
                "BpfleetShared",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/Client"
        ),
        .executableTarget(
            name: "bpfleetd",
            dependencies: [
                "BpfleetServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/bpfleetd"
        ),
        .executableTarget(
            name: "bpfleet",
            dependencies: ["BpfleetClient"],
            path: "Sources/bpfleet"
        ),
        // What the test targets share (Tests/Support): the kernel, server
        // and root requirements, the one `bpfleet` runner, the end-to-end
        // PKI, the bpfleetd fixture. A plain target, since a test target
        // cannot depend on another; it imports Testing from the toolchain.
        // A plain target is built by `swift build -c release` too, so
        // nothing here may use `@testable` (the client tests' TestPKI does,
        // and stays in ClientTests).
        .target(
            name: "TestSupport",
            dependencies: ["BpfleetShared"],
            path: "Tests/Support"
        ),
        .testTarget(
            name: "SharedTests",
            dependencies: [
                "BpfleetShared",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Tests/SharedTests"
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: ["BpfleetServer", "BpfleetShared", "TestSupport"],
            path: "Tests/ServerTests"
        ),
        .testTarget(
            name: "ClientTests",
            dependencies: [
                "BpfleetClient",
                "BpfleetShared",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                "TestSupport",
            ],
            path: "Tests/ClientTests"
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["BpfleetShared", "TestSupport", .product(name: "Yams", package: "Yams")],
            path: "Tests/EndToEndTests"
        ),
    ]
)

// The fuzz targets (docs/fuzzing.md): one libFuzzer executable per parser,
// declared only for `make fuzz`, which sets BPFLEET_FUZZ=1 and builds them
// in their own scratch path with the fuzzer and address sanitizers. The
// ordinary build never sees them: an executable that hands its input loop
// to libFuzzer cannot link without the sanitizer flags.
if Context.environment["BPFLEET_FUZZ"] == "1" {
    // libFuzzer's driver, for a Swift @main to hand the input loop to.
    package.targets.append(.target(name: "CFuzzDriver", path: "Sources/Fuzz/CFuzzDriver"))
    let fuzzTargets: [(name: String, library: Target.Dependency)] = [
        ("jsonrpc", "BpfleetServer"), ("values", "BpfleetServer"), ("btf", "BpfleetServer"),
        ("object", "BpfleetServer"), ("roles", "BpfleetServer"), ("policy", "BpfleetServer"), ("usdt", "BpfleetServer"), ("symbols", "BpfleetServer"),
        ("manifest", "BpfleetClient"),
    ]
    for target in fuzzTargets {
        package.targets.append(.executableTarget(
            name: "fuzz-\(target.name)", dependencies: [target.library, "CFuzzDriver"], path: "Sources/Fuzz/\(target.name)"))
        package.products.append(.executable(name: "fuzz-\(target.name)", targets: ["fuzz-\(target.name)"]))
    }
}


// A warning is a defect: every target of ours (sources, tests, fuzz
// targets) fails to build on one; dependencies keep their own settings.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.treatAllWarnings(as: .error)]
    target.cSettings = (target.cSettings ?? []) + [.treatAllWarnings(as: .error)]
}
