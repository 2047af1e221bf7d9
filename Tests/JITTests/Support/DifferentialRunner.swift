import JIT
@testable import RISCV

/// Where the JIT and the interpreter first disagreed in a case.
struct Mismatch {
    /// Which `run(budget:)` call (0-based), with what budget (0: the comparison of all of RAM
    /// at the end), after how many earlier steps.
    let slice: Int
    let budget: Int
    let stepsBefore: Int
    let differences: [String]

    var description: String {
        (budget == 0 ? "at the end (\(stepsBefore) steps):\n    " : "after run(budget: \(budget)) #\(slice) (\(stepsBefore) steps before it):\n    ")
            + differences.joined(separator: "\n    ")
    }
}

/// Runs a case on a JIT machine and an interpreting one in lockstep: the JIT runs a slice of
/// the case's next budget (it may overshoot by up to a block), then the interpreter runs
/// exactly as many steps as the JIT reports, and the two must then agree on every register,
/// CSR, the step count and the compared memory.
final class DifferentialRunner {
    let jit: DifferentialMachine
    let reference: DifferentialMachine
    /// A case that has not halted after this many steps is compared where it is and dropped.
    var stepLimit = 20_000

    private(set) var cases = 0
    private(set) var steps = 0
    private(set) var slices = 0
    private(set) var halted = 0

    init(codeBytes: Int = 1 << 20) throws {
        jit = try DifferentialMachine(jit: true, codeBytes: codeBytes)
        reference = try DifferentialMachine(jit: false, codeBytes: 0)
    }

    func run(_ c: DifferentialCase) -> Mismatch? {
        let program = c.program
        jit.load(c, program)
        reference.load(c, program)
        cases += 1
        var done = 0, slice = 0
        while true {
            let budget = c.budgets[slice % c.budgets.count]
            let executed = jit.hart.run(budget: budget)
            let referenceExecuted = reference.hart.run(budget: executed)
            var differences: [String] = []
            if executed != referenceExecuted {
                differences.append("steps: jit \(executed), interpreter \(referenceExecuted) (given \(executed))")
            }
            differences += HartSnapshot.differences(jit: HartSnapshot(jit.hart), reference: HartSnapshot(reference.hart))
            differences += memoryDifferences(jit.memory, reference.memory, bytes: GuestLayout.comparedBytes)
            if jit.device.bytes != reference.device.bytes { differences.append("mailbox device registers") }
            if jit.watchedStores != reference.watchedStores {
                differences.append("stores to the watched page: jit \(jit.watchedStores.count), interpreter \(reference.watchedStores.count)")
            }
            if !differences.isEmpty {
                return Mismatch(slice: slice, budget: budget, stepsBefore: done, differences: differences)
            }
            done += executed
            slice += 1
            slices += 1
            if jit.hart.runState != .running || done >= stepLimit || executed == 0 { break }
        }
        steps += done
        if jit.hart.runState == .waitingForInterrupt { halted += 1 }
        let rest = memoryDifferences(jit.memory, reference.memory, bytes: Int(GuestLayout.ramSize))
        return rest.isEmpty ? nil : Mismatch(slice: slice, budget: 0, stepsBefore: done, differences: rest)
    }

    /// Replaces instructions by no-ops of the same size (so nothing moves) for as long as the
    /// case still mismatches: what is left is the part of the program the bug needs.
    func minimize(_ c: DifferentialCase, attempts: Int = 1500) -> (DifferentialCase, Mismatch?) {
        var current = c
        var last = run(c)
        var tries = 0
        var changed = true
        while changed && tries < attempts {
            changed = false
            for i in current.pieces.indices.reversed() where tries < attempts {
                guard case .instruction(let instruction) = current.pieces[i],
                      instruction.text != "nop", instruction.text != "c.nop" else { continue }
                var trial = current
                trial.pieces[i] = .instruction(instruction.nop)
                tries += 1
                if let m = run(trial) {
                    current = trial
                    last = m
                    changed = true
                }
            }
        }
        return (current, last)
    }

    var statistics: String {
        let s = jit.engine!.statistics
        return "\(cases) programs, \(steps) guest steps in \(slices) slices, \(halted) halted normally; JIT: "
            + "\(s.blocksTranslated) blocks (\(s.guestInstructionsTranslated) instructions), "
            + "\(s.chainedJumps) chained jumps, \(s.pageInvalidations) page invalidations, \(s.cacheFlushes) cache flushes, "
            + "\(s.interpreterCallouts) interpreter callouts, \(s.memoryCallouts) memory callouts, "
            + "\(s.interpretedSteps) page-straddling steps"
    }
}
