import Devices

/// A clock the test moves by hand, so timer behaviour is deterministic.
final class ManualClock: MachineClock {
    var ticks: UInt64 = 0
}

final class RecordingByteSink: ByteSink {
    var bytes: [UInt8] = []
    func write(byte: UInt8) { bytes.append(byte) }
}

/// Records the current level of each line and every change.
final class RecordingInterruptSink: InterruptSink {
    var levels: [Int: Bool] = [:]
    var changes: [(irq: Int, high: Bool)] = []
    func setLevel(irq: Int, high: Bool) {
        levels[irq] = high
        changes.append((irq, high))
    }
    func isHigh(_ irq: Int) -> Bool { levels[irq] ?? false }
}

final class RecordingPowerControl: PowerControl {
    var requests: [PowerRequest] = []
    func request(_ request: PowerRequest) { requests.append(request) }
}

/// A device that remembers its last access and answers reads with `base + offset`.
final class EchoDevice: MMIODevice {
    let name: String
    let answer: UInt64
    var lastWrite: (offset: UInt64, size: Int, value: UInt64)?
    var lastRead: (offset: UInt64, size: Int)?
    init(name: String, answer: UInt64) {
        self.name = name
        self.answer = answer
    }
    func read(offset: UInt64, size: Int) -> UInt64 {
        lastRead = (offset, size)
        return answer &+ offset
    }
    func write(offset: UInt64, size: Int, value: UInt64) {
        lastWrite = (offset, size, value)
    }
}
