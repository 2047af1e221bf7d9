// swift-tools-version:6.1
import PackageDescription

// The hart's state lives in class properties touched on every guest instruction; Swift's
// dynamic exclusivity checks (swift_beginAccess) took ~45% of run time in a profile of the
// interpreter, so hot modules turn them off. Everything else is plain -O in release.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
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
        .target(name: "GuestMemory", dependencies: ["CShims"], swiftSettings: hotPath),
        .target(name: "Devices", dependencies: ["GuestMemory", "CShims"], swiftSettings: hotPath),
        .target(name: "Virtio", dependencies: ["Devices", "GuestMemory", "CShims"], swiftSettings: hotPath),
        .target(name: "RISCV", dependencies: ["GuestMemory", "Devices", "CShims"], swiftSettings: hotPath),
        .target(name: "JIT", dependencies: ["RISCV", "GuestMemory", "CShims"], swiftSettings: hotPath),
        .target(name: "VMM", dependencies: ["RISCV", "Devices", "GuestMemory", "CShims"], swiftSettings: hotPath),
        .target(name: "Machine", dependencies: ["VMM", "JIT", "RISCV", "Virtio", "Devices", "GuestMemory", "CShims"], swiftSettings: hotPath),
        .executableTarget(
            name: "trapeze",
            dependencies: ["Machine", "VMM", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Instruction encoders shared by the unit tests of the hart and of the JIT.
        .target(name: "RV64Encoding", path: "Tests/Support/RV64Encoding"),
        .testTarget(name: "RISCVTests", dependencies: ["RISCV", "Devices", "GuestMemory", "CShims", "RV64Encoding"], exclude: ["fpref"]),
        .testTarget(name: "DevicesTests", dependencies: ["Devices", "GuestMemory"]),
        .testTarget(name: "VirtioTests", dependencies: ["Virtio", "Devices", "GuestMemory"]),
        .testTarget(name: "MachineTests", dependencies: ["Machine", "VMM", "RISCV", "Devices", "GuestMemory", "Virtio"]),
        .testTarget(name: "JITTests", dependencies: ["JIT", "RISCV", "Devices", "GuestMemory", "RV64Encoding"]),
        .testTarget(name: "VMMTests", dependencies: ["VMM", "RISCV", "GuestMemory"]),
        .testTarget(name: "EndToEndTests", dependencies: []),
    ]
)
