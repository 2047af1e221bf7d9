@testable import RISCV

/// Random cases: the program, the privilege and translation it runs under, and its initial
/// registers, memory and CSRs, all from one seed and index.
extension DifferentialCase {
    /// `virtualized`: a VS- or VU-mode program (V=1); `privilege` then picks VS or VU.
    static func random(seed: UInt64, index: Int, privilege forced: Privilege? = nil,
                       virtualized: Bool = false) -> DifferentialCase {
        var rng = SplitMix64(seed: seed ^ (UInt64(index) &* 0xd1b5_4a32_d192_ed03))
        let privilege = forced ?? (virtualized ? rng.pick([.supervisor, .user]) : rng.pick([.machine, .machine, .supervisor, .user]))
        // M-mode with MPRV: loads and stores translated as MPP (S or U) would see them.
        let dataPrivilege: Privilege? = privilege == .machine && rng.chance(20) ? rng.pick([.supervisor, .user]) : nil
        let paging = (privilege != .machine && rng.chance(85)) || dataPrivilege != nil
            ? randomPaging(&rng, dataPrivilege ?? privilege) : nil
        let fs = rng.pick([0, Mstatus.fsInitial, Mstatus.fsDirty, Mstatus.fsDirty])
        var medeleg: UInt64 = 0
        if privilege != .machine && rng.chance(40) {
            // Never the fetch faults (1, 12, 20): those end the program in the M-mode handler.
            // With V=1: ecall from VS (10), load/store guest-page faults, virtual instruction.
            let causes: [UInt64] = [2, 3, 4, 5, 6, 7, 8, 9, 13, 15] + (virtualized ? [10, 21, 22, 23] : [])
            for cause in causes where rng.chance(50) { medeleg |= 1 << cause }
        }
        var status = fs
        if let p = dataPrivilege { status |= Mstatus.mprv | UInt64(p.rawValue) << Mstatus.mppShift }
        if rng.chance(30) { status |= Mstatus.mxr }
        // The S-mode handler reads the trapping instruction, on a user page in U-mode programs.
        if rng.chance(40) || (privilege == .user && medeleg != 0) { status |= Mstatus.sum }
        let counters: [UInt64] = [0, 0x5, 0x7, 0xffff_ffff]
        var virtualization: Virtualization?
        if virtualized {
            var hedeleg: UInt64 = 0
            for cause in [2, 3, 4, 5, 6, 7, 8, 13, 15] as [UInt64] where medeleg & (1 << cause) != 0 && rng.chance(60) {
                hedeleg |= 1 << cause
            }
            var vsstatus = rng.chance(85) ? fs : rng.pick([0, Mstatus.fsInitial, Mstatus.fsDirty])
            if rng.chance(30) { vsstatus |= Mstatus.mxr }
            // The VS handler reads the trapping instruction, on a user page in VU-mode programs.
            if rng.chance(40) || (privilege == .user && hedeleg != 0) { vsstatus |= Mstatus.sum }
            virtualization = Virtualization(hedeleg: hedeleg, hcounteren: rng.pick(counters), vsstatus: vsstatus,
                                            gStage: rng.chance(75),
                                            gStageAccessedDirty: (rng.chance(60) ? PTE.a : 0) | (rng.chance(60) ? PTE.d : 0))
        }
        let mcounteren = rng.pick(counters), scounteren = rng.pick(counters)
        // Mostly round-to-nearest: inline FP in translated code needs frm = RNE.
        let frm = UInt8(rng.chance(10) ? rng.range(5...7) : rng.chance(60) ? 0 : rng.range(1...4))
        let x = randomRegisters(&rng)
        let f = (0..<32).map { _ in randomFloat(&rng) }
        let dataSeed = rng.next()
        let budgetChoices = [1, 1, 2, 3, 5, 7, 13, 33, 50, 64, 100, 250, 1000, 5000]
        let budgets = (0..<rng.range(4...9)).map { _ in rng.pick(budgetChoices) }
        // Start anywhere in page 1, often close to its end so blocks and 32-bit instructions
        // straddle the page boundary.
        let offset = rng.chance(40) ? UInt64(rng.range(0x780...0x7ff)) * 2 : UInt64(rng.range(0...0x7ff)) * 2
        let start = GuestLayout.codeStart + offset

        var segments = rng.range(3...12)
        while true {
            var generator = ProgramGenerator(rng: SplitMix64(seed: rng.next()), privilege: privilege, floatingPoint: fs != 0)
            let (pieces, halt) = generator.generate(segments: segments)
            if ProgramBuilder.bytes(pieces) < 0x3000 || segments == 1 {
                return DifferentialCase(seed: seed, index: index, pieces: pieces, start: start, haltLabel: halt,
                                        privilege: privilege, paging: paging, virtualization: virtualization,
                                        mstatus: status, medeleg: medeleg,
                                        mcounteren: mcounteren, scounteren: scounteren, frm: frm, x: x, f: f,
                                        dataSeed: dataSeed, budgets: budgets)
            }
            segments -= 1
        }
    }

    static func randomPaging(_ rng: inout SplitMix64, _ privilege: Privilege) -> PagingSetup {
        let user = privilege == .user ? PTE.u : 0
        func accessedDirty() -> UInt64 {
            (rng.chance(70) ? PTE.a : 0) | (rng.chance(70) ? PTE.d : 0)
        }
        var flags: [Int: UInt64] = [0: PTE.v | PTE.r | PTE.x | PTE.a]
        for page in GuestLayout.codePages {
            flags[page] = PTE.v | PTE.r | PTE.w | PTE.x | user | accessedDirty()
            // Now and then a later code page is not executable: running into it ends the program.
            if page > 2 && rng.chance(5) { flags[page] = PTE.v | PTE.r | PTE.w | user | PTE.a | PTE.d }
        }
        for page in GuestLayout.dataPages {
            var pte = PTE.v | PTE.r | PTE.w | user | accessedDirty()
            switch rng.below(20) {
            case 0: pte = PTE.v | PTE.r | user | PTE.a                 // read-only
            case 1: pte = PTE.v | PTE.x | user | PTE.a                 // execute-only (loads need MXR)
            case 2: pte = 0                                            // not mapped
            case 3: pte = PTE.v | PTE.w | user                         // W without R: reserved
            case 4: pte ^= PTE.u                                       // the other privilege's page
            default: break
            }
            flags[page] = pte
        }
        return PagingSetup(leafFlags: flags, aliasTarget: rng.pick([0x10, 0x11, 0x12, 1, 2]), megapage: rng.chance(50),
                            devices: rng.chance(70), user: user != 0)
    }

    static func randomRegisters(_ rng: inout SplitMix64) -> [UInt64] {
        var x = [UInt64](repeating: 0, count: 32)
        for i in 1..<32 {
            switch rng.below(10) {
            case 0..<4: x[i] = rng.pick(ProgramGenerator.interesting)
            case 4, 5: x[i] = UInt64(bitPattern: Int64(rng.range(-100...100)))
            case 6: x[i] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: rng.next())))
            case 7: x[i] = GuestLayout.dataBase &+ UInt64(bitPattern: Int64(rng.range(-0x1000...0x4fff)))
            default: x[i] = rng.next()
            }
        }
        x[ProgramGenerator.dataBase] = GuestLayout.dataBase
        x[ProgramGenerator.loopCounter] = 0
        return x
    }

    /// NaN-boxed singles and doubles, special values included, and now and then an unboxed
    /// single (which reads as the canonical NaN).
    static func randomFloat(_ rng: inout SplitMix64) -> UInt64 {
        let box: UInt64 = 0xffff_ffff_0000_0000
        switch rng.below(8) {
        case 0:
            return box | UInt64(rng.pick([Float(1), -0.0, .infinity, -.infinity, .nan, .signalingNaN,
                                          .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1, -3.5, 2.5e9]).bitPattern)
        case 1:
            return rng.pick([Double(1), -0.0, .infinity, -.infinity, .nan, .signalingNaN, .leastNonzeroMagnitude,
                             .greatestFiniteMagnitude, 0.1, -3.5, 4.5e18, 9.3e18, -2.5e9, Double.leastNormalMagnitude / 5]).bitPattern
        case 2: return box | UInt64(Float(Int(rng.range(-1000...1000))).bitPattern)
        case 3: return Double(rng.range(-100_000...100_000)).bitPattern
        case 4: return box | (rng.next() & 0xffff_ffff)
        case 5: return rng.next() & 0x0000_ffff_ffff_ffff
        default: return rng.next()
        }
    }
}
