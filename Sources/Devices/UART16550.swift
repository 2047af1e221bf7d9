/// The ns16550a UART at 0x1000_0000 on QEMU's virt board: eight byte-wide registers
/// (reg-shift 0), a 16-byte receive FIFO, output straight to a `ByteSink`.
///
/// Register and interrupt behaviour follow QEMU's hw/char/serial.c (and the TI PC16550D data
/// sheet it models), because Linux's 8250 driver relies on two of its quirks:
/// - transmission is instant: THR empties as soon as it is written, and the THR-empty interrupt
///   is pending again right away;
/// - the THR-empty interrupt is cleared by reading IIR while IIR reports it (or by writing THR),
///   and is re-raised when IER.ETBEI is turned on while THR is empty. Without the latter, Linux
///   never restarts output after its console code toggled IER.
/// Not modelled: baud rate timing, the receive trigger level and character timeout (data raises
/// "received data available" as soon as one byte is in the FIFO), transmit FIFO, break.
public final class UART16550: MMIODevice {
    public let name = "uart16550"

    // Register offsets (data sheet table 2). DLAB = LCR bit 7 swaps 0 and 1 for the divisor latch.
    private enum Register: UInt64 {
        case data = 0               // RBR (read) / THR (write) / DLL
        case interruptEnable = 1    // IER / DLM
        case interruptIdentify = 2  // IIR (read) / FCR (write)
        case lineControl = 3
        case modemControl = 4
        case lineStatus = 5
        case modemStatus = 6
        case scratch = 7
    }

    // IER bits.
    private static let ierReceivedData: UInt8 = 0x01
    private static let ierTransmitEmpty: UInt8 = 0x02
    private static let ierLineStatus: UInt8 = 0x04
    private static let ierModemStatus: UInt8 = 0x08
    // IIR interrupt IDs, highest priority first, and the "FIFOs enabled" bits.
    private static let iirNone: UInt8 = 0x01
    private static let iirLineStatus: UInt8 = 0x06
    private static let iirReceivedData: UInt8 = 0x04
    private static let iirTransmitEmpty: UInt8 = 0x02
    private static let iirModemStatus: UInt8 = 0x00
    private static let iirFIFOsEnabled: UInt8 = 0xC0
    // FCR bits.
    private static let fcrEnable: UInt8 = 0x01
    private static let fcrClearReceive: UInt8 = 0x02
    private static let fcrClearTransmit: UInt8 = 0x04
    // LCR, MCR, LSR, MSR bits.
    private static let lcrDLAB: UInt8 = 0x80
    private static let mcrOut2: UInt8 = 0x08
    private static let mcrLoopback: UInt8 = 0x10
    private static let lsrDataReady: UInt8 = 0x01
    private static let lsrOverrun: UInt8 = 0x02
    private static let lsrBreak: UInt8 = 0x10
    private static let lsrTransmitEmpty: UInt8 = 0x20     // THRE
    private static let lsrTransmitterIdle: UInt8 = 0x40   // TEMT
    private static let msrDeltas: UInt8 = 0x0F
    /// Carrier detect, data set ready and clear to send: a terminal is always attached.
    private static let msrConnected: UInt8 = 0xB0

    static let fifoSize = 16

    private let output: ByteSink
    private let interrupts: InterruptSink
    private let irq: Int

    private var ier: UInt8 = 0
    private var iir: UInt8 = iirNone
    private var fcr: UInt8 = 0
    private var lcr: UInt8 = 0
    private var mcr: UInt8 = mcrOut2
    private var lsr: UInt8 = lsrTransmitEmpty | lsrTransmitterIdle
    private var msr: UInt8 = msrConnected
    private var scratch: UInt8 = 0
    private var divisor: UInt16 = 0
    /// The THR-empty interrupt condition (QEMU's thr_ipending): set when THR empties or ETBEI is
    /// turned on with THR empty, cleared by an IIR read that reports it or a THR write.
    private var transmitEmptyPending = false
    private var lineHigh = false

    // Receive FIFO: a ring of `fifoSize` bytes; only one is usable while FIFOs are off (16450 mode).
    private var fifo = [UInt8](repeating: 0, count: fifoSize)
    private var fifoHead = 0
    private var fifoCount = 0

    public init(output: ByteSink, interrupts: InterruptSink, irq: Int) {
        self.output = output
        self.interrupts = interrupts
        self.irq = irq
    }

    public func reset() {
        ier = 0; fcr = 0; lcr = 0; mcr = Self.mcrOut2; scratch = 0; divisor = 0
        lsr = Self.lsrTransmitEmpty | Self.lsrTransmitterIdle
        msr = Self.msrConnected
        iir = Self.iirNone
        transmitEmptyPending = false
        fifoHead = 0; fifoCount = 0
        updateInterrupt()
    }

    // MARK: Input from the host

    /// True when the receive FIFO can take a byte now.
    public var canReceive: Bool {
        // In loopback the receiver is wired to the transmitter, not the outside world.
        mcr & Self.mcrLoopback == 0 && fifoCount < fifoCapacity
    }

    /// Offers one byte typed on the console; false when it cannot be taken yet (the run loop
    /// keeps it and retries after the guest has drained the FIFO).
    public func receive(_ byte: UInt8) -> Bool {
        guard canReceive else { return false }
        push(byte)
        updateInterrupt()
        return true
    }

    private var fifoCapacity: Int { fcr & Self.fcrEnable != 0 ? Self.fifoSize : 1 }

    private func push(_ byte: UInt8) {
        fifo[(fifoHead + fifoCount) % Self.fifoSize] = byte
        fifoCount += 1
        lsr |= Self.lsrDataReady
    }

    private func clearReceiveFIFO() {
        fifoHead = 0
        fifoCount = 0
        lsr &= ~(Self.lsrDataReady | Self.lsrBreak)
    }

    // MARK: MMIO (any access size reaches the byte register at its offset)

    public func read(offset: UInt64, size: Int) -> UInt64 {
        guard let register = Register(rawValue: offset) else { return 0 }
        let dlab = lcr & Self.lcrDLAB != 0
        switch register {
        case .data:
            if dlab { return UInt64(divisor & 0xFF) }
            var byte: UInt8 = 0
            if fifoCount > 0 {
                byte = fifo[fifoHead]
                fifoHead = (fifoHead + 1) % Self.fifoSize
                fifoCount -= 1
            }
            if fifoCount == 0 { lsr &= ~(Self.lsrDataReady | Self.lsrBreak) }
            updateInterrupt()
            return UInt64(byte)
        case .interruptEnable:
            return UInt64(dlab ? UInt8(divisor >> 8) : ier)
        case .interruptIdentify:
            let value = iir
            // Reading IIR acknowledges a THR-empty interrupt (data sheet table 4, "reading IIR").
            if value & 0x0F == Self.iirTransmitEmpty {
                transmitEmptyPending = false
                updateInterrupt()
            }
            return UInt64(value)
        case .lineControl:
            return UInt64(lcr)
        case .modemControl:
            return UInt64(mcr)
        case .lineStatus:
            let value = lsr
            // Overrun and break are cleared by reading LSR.
            if lsr & (Self.lsrOverrun | Self.lsrBreak) != 0 {
                lsr &= ~(Self.lsrOverrun | Self.lsrBreak)
                updateInterrupt()
            }
            return UInt64(value)
        case .modemStatus:
            if mcr & Self.mcrLoopback != 0 {
                // Loopback wires the modem outputs to the inputs: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
                return UInt64((mcr & 0x0C) << 4 | (mcr & 0x02) << 3 | (mcr & 0x01) << 5)
            }
            let value = msr
            if msr & Self.msrDeltas != 0 {
                msr &= ~Self.msrDeltas
                updateInterrupt()
            }
            return UInt64(value)
        case .scratch:
            return UInt64(scratch)
        }
    }

    public func write(offset: UInt64, size: Int, value: UInt64) {
        guard let register = Register(rawValue: offset) else { return }
        let byte = UInt8(truncatingIfNeeded: value)
        let dlab = lcr & Self.lcrDLAB != 0
        switch register {
        case .data:
            if dlab { divisor = divisor & 0xFF00 | UInt16(byte); return }
            transmit(byte)
        case .interruptEnable:
            if dlab { divisor = divisor & 0x00FF | UInt16(byte) << 8; return }
            let new = byte & 0x0F
            let changed = ier ^ new
            ier = new
            // Turning ETBEI on while THR is empty raises the THR-empty interrupt even if an IIR read
            // had acknowledged it (not in the data sheet; QEMU and Bochs do it, and drivers rely on it).
            if changed & Self.ierTransmitEmpty != 0 {
                transmitEmptyPending = ier & Self.ierTransmitEmpty != 0 && lsr & Self.lsrTransmitEmpty != 0
            }
            if changed != 0 { updateInterrupt() }
        case .interruptIdentify:
            writeFIFOControl(byte)
        case .lineControl:
            lcr = byte
        case .modemControl:
            mcr = byte & 0x1F
        case .lineStatus, .modemStatus:
            return  // read-only (a factory test mode on some parts; QEMU ignores these writes too)
        case .scratch:
            scratch = byte
        }
    }

    /// Sends a byte at once: THR and the shift register are empty again when this returns.
    private func transmit(_ byte: UInt8) {
        if mcr & Self.mcrLoopback != 0 {
            // Loopback: the byte arrives at our own receiver; a full FIFO overruns (LSR.OE).
            if fifoCount < fifoCapacity { push(byte) } else { lsr |= Self.lsrOverrun }
        } else {
            output.write(byte: byte)
        }
        lsr |= Self.lsrTransmitEmpty | Self.lsrTransmitterIdle
        transmitEmptyPending = true
        updateInterrupt()
    }

    private func writeFIFOControl(_ value: UInt8) {
        var value = value
        // Changing the enable bit clears both FIFOs (data sheet, FCR bit 0).
        if (value ^ fcr) & Self.fcrEnable != 0 { value |= Self.fcrClearReceive | Self.fcrClearTransmit }
        if value & Self.fcrClearReceive != 0 { clearReceiveFIFO() }
        if value & Self.fcrClearTransmit != 0 {
            lsr |= Self.lsrTransmitEmpty
            transmitEmptyPending = true
        }
        // Keep enable, DMA mode and the trigger level; the clear bits are self-clearing.
        fcr = value & 0xC9
        updateInterrupt()
    }

    /// Recomputes IIR by priority (data sheet table 4) and drives the interrupt line. OUT2 gates
    /// the line on a PC, but QEMU (and so guests written for it) ignore OUT2; so do we.
    private func updateInterrupt() {
        var id = Self.iirNone
        if ier & Self.ierLineStatus != 0 && lsr & (Self.lsrOverrun | Self.lsrBreak) != 0 {
            id = Self.iirLineStatus
        } else if ier & Self.ierReceivedData != 0 && lsr & Self.lsrDataReady != 0 {
            id = Self.iirReceivedData
        } else if ier & Self.ierTransmitEmpty != 0 && transmitEmptyPending {
            id = Self.iirTransmitEmpty
        } else if ier & Self.ierModemStatus != 0 && msr & Self.msrDeltas != 0 {
            id = Self.iirModemStatus
        }
        iir = id | (fcr & Self.fcrEnable != 0 ? Self.iirFIFOsEnabled : 0)
        let high = id != Self.iirNone
        if high != lineHigh {
            lineHigh = high
            interrupts.setLevel(irq: irq, high: high)
        }
    }
}
