/// The CSRs the hypervisor extension adds (privileged spec 8.2 and 8.4, version 1.0 of
/// 20211203), as the hart stores them. hie, hip, hvip, vsie and vsip have no storage of their
/// own: they are views of mie and mip (see Hart+HypervisorCSR.swift).
public struct HypervisorCSRs: Sendable, Equatable {
    public var hstatus: UInt64 = Hstatus.vsxl64
    public var hedeleg: UInt64 = 0
    public var hideleg: UInt64 = 0
    public var hcounteren: UInt64 = 0
    public var henvcfg: UInt64 = 0
    public var htimedelta: UInt64 = 0
    public var htval: UInt64 = 0
    public var htinst: UInt64 = 0
    public var hgatp: UInt64 = 0
    public var vsstatus: UInt64 = Hstatus.vsstatusUXL
    public var vstvec: UInt64 = 0
    public var vsscratch: UInt64 = 0
    public var vsepc: UInt64 = 0
    public var vscause: UInt64 = 0
    public var vstval: UInt64 = 0
    public var vsatp: UInt64 = 0
    /// Machine-level CSRs the extension adds (8.4.4, 8.4.5).
    public var mtval2: UInt64 = 0
    public var mtinst: UInt64 = 0

    public init() {}

    /// Every stored CSR with its number, for the public accessor's write-back through the
    /// CSR write path (so WARL fields and flushes apply).
    static var numbered: [(UInt16, WritableKeyPath<HypervisorCSRs, UInt64>)] { [
        (CSR.hstatus, \.hstatus), (CSR.hedeleg, \.hedeleg), (CSR.hideleg, \.hideleg),
        (CSR.hcounteren, \.hcounteren), (CSR.henvcfg, \.henvcfg), (CSR.htimedelta, \.htimedelta),
        (CSR.htval, \.htval), (CSR.htinst, \.htinst), (CSR.hgatp, \.hgatp),
        (CSR.vsstatus, \.vsstatus), (CSR.vstvec, \.vstvec), (CSR.vsscratch, \.vsscratch),
        (CSR.vsepc, \.vsepc), (CSR.vscause, \.vscause), (CSR.vstval, \.vstval), (CSR.vsatp, \.vsatp),
        (CSR.mtval2, \.mtval2), (CSR.mtinst, \.mtinst),
    ] }
}

extension CSR {
    // Hypervisor CSRs (privileged spec table 2.3).
    public static let hstatus: UInt16 = 0x600, hedeleg: UInt16 = 0x602, hideleg: UInt16 = 0x603
    public static let hie: UInt16 = 0x604, htimedelta: UInt16 = 0x605, hcounteren: UInt16 = 0x606
    public static let hgeie: UInt16 = 0x607, henvcfg: UInt16 = 0x60A
    public static let htval: UInt16 = 0x643, hip: UInt16 = 0x644, hvip: UInt16 = 0x645, htinst: UInt16 = 0x64A
    public static let hgatp: UInt16 = 0x680, hgeip: UInt16 = 0xE12
    // Virtual supervisor CSRs.
    public static let vsstatus: UInt16 = 0x200, vsie: UInt16 = 0x204, vstvec: UInt16 = 0x205
    public static let vsscratch: UInt16 = 0x240, vsepc: UInt16 = 0x241, vscause: UInt16 = 0x242
    public static let vstval: UInt16 = 0x243, vsip: UInt16 = 0x244, vsatp: UInt16 = 0x280
    // Machine CSRs added by the hypervisor extension.
    public static let mtinst: UInt16 = 0x34A, mtval2: UInt16 = 0x34B

    /// The VS CSR that an S CSR number reaches when V=1 (privileged spec 8.2: "instructions that
    /// normally read or modify a supervisor CSR shall instead access the corresponding VS CSR").
    /// S CSRs without a VS counterpart (scounteren, senvcfg) keep their own number.
    static func virtualSupervisorAlias(_ csr: UInt16) -> UInt16 {
        switch csr {
        case sstatus, sie, stvec, sscratch, sepc, scause, stval, sip, satp: return csr + 0x100
        default: return csr
        }
    }
}

/// hstatus fields (privileged spec 8.2.1).
public enum Hstatus {
    public static let gva: UInt64 = 1 << 6
    public static let spv: UInt64 = 1 << 7
    public static let spvp: UInt64 = 1 << 8
    public static let hu: UInt64 = 1 << 9
    public static let vtvm: UInt64 = 1 << 20
    public static let vtw: UInt64 = 1 << 21
    public static let vtsr: UInt64 = 1 << 22
    /// VSXL = 2 (VS-mode is RV64), read-only. VSBE is read-only 0 (little-endian) and VGEIN
    /// read-only 0, since GEILEN = 0.
    public static let vsxl64: UInt64 = 2 << 32
    static let writable: UInt64 = gva | spv | spvp | hu | vtvm | vtw | vtsr
    /// vsstatus.UXL = 2, read-only (8.2.11: "may be a read-only copy of VSXL").
    static let vsstatusUXL: UInt64 = 2 << 32
}

/// hgatp fields (privileged spec 8.2.10): MODE, a 14-bit VMID and the root PPN, whose two low
/// bits read as zero since the paged modes' root table is 16 KiB.
public enum GuestTranslationMode: UInt64, Sendable {
    case bare = 0
    case sv39x4 = 8
    case sv48x4 = 9

    var levels: Int { self == .sv39x4 ? 3 : 4 }
    /// Width of a guest-physical address: Sv39/Sv48 widened by 2 bits.
    var addressBits: Int { 12 + 9 * levels + 2 }
}

extension Delegation {
    /// VS-level interrupts (VSSI, VSTI, VSEI): mideleg's read-only ones (8.4.2), hideleg's
    /// writable bits (8.2.2), and the bits of hie, hip and hvip.
    static let virtualSupervisorInterrupts: UInt64 = 0x444
    /// hedeleg: every exception VS-mode can take. Ecalls from HS, VS and M, guest-page faults and
    /// virtual-instruction exceptions are read-only zero (privileged spec 8.2.2).
    static let hedelegWritable: UInt64 = 0xB1FF
}
