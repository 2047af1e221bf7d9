// swift-tools-version:6.1
import PackageDescription

// Hot modules are compiled with -Ounchecked-like settings only where measured to matter;
// everything here builds with plain -O in release.
let package = Package(
    name: "Trapeze",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "trapeze", targets: ["trapeze"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "CShims",
            cSettings: [.unsafeFlags(["-O2", "-frounding-math", "-fno-fast-math"])]
        ),
        .target(name: "GuestMemory", dependencies: ["CShims"]),
        .target(name: "Devices", dependencies: ["GuestMemory", "CShims"]),
        .target(name: "Virtio", dependencies: ["Devices", "GuestMemory"]),
        .target(name: "RISCV", dependencies: ["GuestMemory", "Devices", "CShims"]),
        .target(name: "VMM", dependencies: ["RISCV", "Devices", "GuestMemory"]),
        .target(name: "Machine", dependencies: ["VMM", "RISCV", "Virtio", "Devices", "GuestMemory", "CShims"]),
        .executableTarget(
            name: "trapeze",
            dependencies: ["Machine", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "RISCVTests", dependencies: ["RISCV", "Devices", "GuestMemory", "CShims"], exclude: ["fpref"]),
        .testTarget(name: "DevicesTests", dependencies: ["Devices", "GuestMemory"]),
        .testTarget(name: "MachineTests", dependencies: ["Machine", "VMM", "RISCV", "Devices", "GuestMemory"]),
        .testTarget(name: "EndToEndTests", dependencies: []),
    ]
)
