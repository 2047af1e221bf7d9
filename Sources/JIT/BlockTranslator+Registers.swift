@_spi(JIT) import RISCV

/// Guest register access for the emitters, through the register cache (RegisterCache.swift).
/// x0 is never cached: it reads as the register file's always-zero slot, and a write to it (the
/// decoder names slot 32) is dropped.
extension BlockTranslator {
    /// Where guest register `r` can be read now, caching it first (it will likely be read again).
    enum Operand {
        case register(GPR)
        case memory(Memory)
    }

    mutating func operand(_ r: UInt8) -> Operand {
        if r == 0 || r >= 32 { return .memory(Self.reg(r)) }
        if let s = cache.slot(of: r) {
            cache.touch(s)
            return .register(RegisterCache.hosts[s])
        }
        let s = takeSlot()
        a.mov(RegisterCache.hosts[s], Self.reg(r))
        cache.assign(s, to: r, dirty: false)
        return .register(RegisterCache.hosts[s])
    }

    /// dst = guest register `r` (the low 32 bits with `.dword`, zero-extended).
    mutating func loadGuest(_ dst: GPR, _ r: UInt8, _ size: OperandSize = .qword) {
        switch operand(r) {
        case .register(let h): a.mov(dst, h, size)
        case .memory(let m): a.mov(dst, m, size)
        }
    }

    /// dst = dst op guest register `r`.
    mutating func aluGuest(_ op: ALUOperation, _ dst: GPR, _ r: UInt8, _ size: OperandSize = .qword) {
        switch operand(r) {
        case .register(let h): a.alu(op, dst, h, size)
        case .memory(let m): a.alu(op, dst, m, size)
        }
    }

    /// Guest register `r` = src.
    mutating func writeGuest(_ r: UInt8, from src: GPR) {
        guard r != 0 && r < 32 else { return }
        let s = cache.slot(of: r) ?? takeSlot()
        a.mov(RegisterCache.hosts[s], src)
        cache.assign(s, to: r, dirty: true)
    }

    /// Guest register `r` = the sign-extended immediate.
    mutating func writeGuest(_ r: UInt8, immediate: Int64) {
        guard r != 0 && r < 32 else { return }
        let s = cache.slot(of: r) ?? takeSlot()
        a.mov(RegisterCache.hosts[s], imm: immediate)
        cache.assign(s, to: r, dirty: true)
    }

    /// A slot for a new guest register, writing back what it held if that was dirty.
    private mutating func takeSlot() -> Int {
        let s = cache.victim()
        if let old = cache.guest[s], cache.dirty[s] { a.mov(Self.reg(old), RegisterCache.hosts[s]) }
        cache.forget(s)
        return s
    }

    /// Writes every dirty cached register back; they stay cached (and clean).
    mutating func writeBackCache() {
        emitWriteBack(cache)
        for s in RegisterCache.hosts.indices { cache.markClean(s) }
    }

    /// Writes back and forgets everything: before a helper call, which reads and writes the
    /// register file and clobbers the cache registers.
    mutating func flushCache() {
        writeBackCache()
        cache.forgetAll()
    }

    /// The stores that write back `state`'s dirty registers (for cold paths, which must not
    /// change the translator's current state).
    mutating func emitWriteBack(_ state: RegisterCache) {
        for (s, g) in state.guest.enumerated() {
            if let g, state.dirty[s] { a.mov(Self.reg(g), RegisterCache.hosts[s]) }
        }
    }

    /// Reloads every register `state` caches from the register file (after a helper call).
    mutating func emitReload(_ state: RegisterCache) {
        for (s, g) in state.guest.enumerated() {
            if let g { a.mov(RegisterCache.hosts[s], Self.reg(g)) }
        }
    }
}
