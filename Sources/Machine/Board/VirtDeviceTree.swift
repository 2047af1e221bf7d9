/// What the virt board's device tree describes that varies from VM to VM.
public struct DeviceTreeParameters: Sendable {
    public var memoryBase: UInt64
    public var memorySize: UInt64
    public var hartCount: Int
    /// Kernel command line (`/chosen/bootargs`); omitted when empty, as QEMU does without -append.
    public var bootargs: String
    /// Guest-physical range of the initial ramdisk, end exclusive (`linux,initrd-start/-end`).
    public var initrd: (start: UInt64, end: UInt64)?
    public var isa: String
    /// The widest satp mode the hart implements ("riscv,sv39", "riscv,sv48").
    public var mmuType: String
    public var timebaseFrequency: UInt64

    public init(memoryBase: UInt64 = VirtMemoryMap.dram, memorySize: UInt64, hartCount: Int,
                bootargs: String = "", initrd: (start: UInt64, end: UInt64)? = nil,
                isa: String = "rv64imafdc_zicsr_zifencei", mmuType: String = "riscv,sv48",
                timebaseFrequency: UInt64 = VirtMemoryMap.timebaseFrequency) {
        self.memoryBase = memoryBase
        self.memorySize = memorySize
        self.hartCount = hartCount
        self.bootargs = bootargs
        self.initrd = initrd
        self.isa = isa
        self.mmuType = mmuType
        self.timebaseFrequency = timebaseFrequency
    }
}

/// The device tree QEMU 7.2 generates for `-M virt` (hw/riscv/virt.c), restricted to the devices
/// Trapeze has: harts, RAM, CLINT, PLIC, one ns16550a, the sifive,test finisher with its
/// syscon-poweroff/-reboot nodes, and eight virtio-mmio slots. Left out: PCIe, the flash banks,
/// fw-cfg, the goldfish RTC, the PMU node, the platform bus and /chosen/rng-seed.
public func makeVirtDeviceTree(_ p: DeviceTreeParameters) -> [UInt8] {
    precondition(p.hartCount > 0, "a board needs at least one hart")
    var phandles = PhandleAllocator()
    let cpuPhandles = (0..<p.hartCount).map { _ in phandles.next() }
    let intcPhandles = (0..<p.hartCount).map { _ in phandles.next() }
    let plicPhandle = phandles.next()
    let testPhandle = phandles.next()

    var root = FDTNode("", [
        "#address-cells": .u32(2),
        "#size-cells": .u32(2),
        "compatible": .string("riscv-virtio"),
        "model": .string("riscv-virtio,qemu"),
    ])
    root.add(chosenNode(p))
    // Linux's generic syscon drivers power off and reboot through the test device's register.
    root.add(FDTNode("poweroff", [
        "value": .u32(0x5555), "offset": .u32(0), "regmap": .u32(testPhandle), "compatible": .string("syscon-poweroff"),
    ]))
    root.add(FDTNode("reboot", [
        "value": .u32(0x7777), "offset": .u32(0), "regmap": .u32(testPhandle), "compatible": .string("syscon-reboot"),
    ]))
    root.add(FDTNode("memory@\(unitAddress(p.memoryBase))", [
        "device_type": .string("memory"),
        "reg": .u64Array([p.memoryBase, p.memorySize]),
    ]))
    root.add(cpusNode(p, cpuPhandles: cpuPhandles, intcPhandles: intcPhandles))
    root.add(socNode(p, intcPhandles: intcPhandles, plicPhandle: plicPhandle, testPhandle: testPhandle))
    return FlattenedDeviceTree(root: root).encoded()
}

private func chosenNode(_ p: DeviceTreeParameters) -> FDTNode {
    var chosen = FDTNode("chosen")
    if !p.bootargs.isEmpty { chosen.set("bootargs", .string(p.bootargs)) }
    // The serial console Linux and OpenSBI pick when the command line names none.
    chosen.set("stdout-path", .string("/soc/serial@\(unitAddress(VirtMemoryMap.uart0))"))
    if let initrd = p.initrd {
        // 64-bit values, so an initrd above 4 GiB is describable (QEMU 8 also writes u64 here).
        chosen.set("linux,initrd-start", .u64(initrd.start))
        chosen.set("linux,initrd-end", .u64(initrd.end))
    }
    return chosen
}

private func cpusNode(_ p: DeviceTreeParameters, cpuPhandles: [UInt32], intcPhandles: [UInt32]) -> FDTNode {
    var cpus = FDTNode("cpus", [
        "#address-cells": .u32(1),
        "#size-cells": .u32(0),
        "timebase-frequency": .u32(UInt32(truncatingIfNeeded: p.timebaseFrequency)),
    ])
    for hart in 0..<p.hartCount {
        var cpu = FDTNode("cpu@\(hart)")
        cpu.setPhandle(cpuPhandles[hart])
        cpu.set("device_type", .string("cpu"))
        cpu.set("reg", .u32(UInt32(hart)))  // the hart ID
        cpu.set("status", .string("okay"))
        cpu.set("compatible", .string("riscv"))
        cpu.set("riscv,isa", .string(p.isa))
        cpu.set("mmu-type", .string(p.mmuType))
        // Each hart's local interrupt controller: the mip/mie bits, named by cause number
        // (3 = M software, 7 = M timer, 9 = S external, 11 = M external).
        var intc = FDTNode("interrupt-controller", [
            "#interrupt-cells": .u32(1),
            "interrupt-controller": .empty,
            "compatible": .string("riscv,cpu-intc"),
        ])
        intc.setPhandle(intcPhandles[hart])
        cpu.add(intc)
        cpus.add(cpu)
    }
    // One cluster of single-thread cores, as QEMU describes a flat -smp.
    var cluster = FDTNode("cluster0")
    for hart in 0..<p.hartCount {
        cluster.add(FDTNode("core\(hart)", ["cpu": .u32(cpuPhandles[hart])]))
    }
    cpus.add(FDTNode("cpu-map", children: [cluster]))
    return cpus
}

private func socNode(_ p: DeviceTreeParameters, intcPhandles: [UInt32], plicPhandle: UInt32,
                     testPhandle: UInt32) -> FDTNode {
    var soc = FDTNode("soc", [
        "#address-cells": .u32(2),
        "#size-cells": .u32(2),
        "compatible": .string("simple-bus"),
        "ranges": .empty,
    ])
    soc.add(FDTNode("serial@\(unitAddress(VirtMemoryMap.uart0))", [
        "interrupts": .u32(UInt32(VirtMemoryMap.uart0IRQ)),
        "interrupt-parent": .u32(plicPhandle),
        "clock-frequency": .u32(0x38_4000),  // 3.6864 MHz, QEMU's value
        "reg": .u64Array([VirtMemoryMap.uart0, VirtMemoryMap.uart0Size]),
        "compatible": .string("ns16550a"),
    ]))
    var test = FDTNode("test@\(unitAddress(VirtMemoryMap.test))", [
        "reg": .u64Array([VirtMemoryMap.test, VirtMemoryMap.testSize]),
        "compatible": .strings(["sifive,test1", "sifive,test0", "syscon"]),
    ])
    test.setPhandle(testPhandle)
    soc.add(test)
    // Highest address first, as in QEMU's tree: Linux probes in tree order, so this keeps the
    // numbering of virtio devices (vda, eth0, ...) the same as under QEMU.
    for slot in (0..<VirtMemoryMap.virtioCount).reversed() {
        let base = VirtMemoryMap.virtio + UInt64(slot) * VirtMemoryMap.virtioSize
        soc.add(FDTNode("virtio_mmio@\(unitAddress(base))", [
            "interrupts": .u32(UInt32(VirtMemoryMap.virtioFirstIRQ + slot)),
            "interrupt-parent": .u32(plicPhandle),
            "reg": .u64Array([base, VirtMemoryMap.virtioSize]),
            "compatible": .string("virtio,mmio"),
        ]))
    }
    var plic = FDTNode("plic@\(unitAddress(VirtMemoryMap.plic))")
    plic.setPhandle(plicPhandle)
    plic.set("riscv,ndev", .u32(UInt32(VirtMemoryMap.plicSources)))
    plic.set("reg", .u64Array([VirtMemoryMap.plic, VirtMemoryMap.plicSize]))
    // Contexts in order: hart 0 M-mode (cause 11), hart 0 S-mode (cause 9), hart 1 M-mode, ...
    plic.set("interrupts-extended", .u32Array(intcPhandles.flatMap { [$0, 11, $0, 9] }))
    plic.set("interrupt-controller", .empty)
    plic.set("compatible", .strings(["sifive,plic-1.0.0", "riscv,plic0"]))
    plic.set("#address-cells", .u32(0))
    plic.set("#interrupt-cells", .u32(1))
    soc.add(plic)
    soc.add(FDTNode("clint@\(unitAddress(VirtMemoryMap.clint))", [
        // Per hart: machine software (cause 3) and machine timer (cause 7) interrupts.
        "interrupts-extended": .u32Array(intcPhandles.flatMap { [$0, 3, $0, 7] }),
        "reg": .u64Array([VirtMemoryMap.clint, VirtMemoryMap.clintSize]),
        "compatible": .strings(["sifive,clint0", "riscv,clint0"]),
    ]))
    return soc
}

/// Unit addresses are lower-case hex without leading zeros (Devicetree Specification 2.2.1).
private func unitAddress(_ value: UInt64) -> String {
    String(value, radix: 16)
}
