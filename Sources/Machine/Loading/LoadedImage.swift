/// What a loader put in guest RAM and where execution starts.
public struct LoadedImage: Equatable, Sendable {
    /// Guest-physical address to jump to.
    public var entry: UInt64
    /// Guest-physical range the image occupies, bss and the kernel's declared size included:
    /// nothing else may be placed in `start..<end`.
    public var start: UInt64
    public var end: UInt64
    /// Guest-physical addresses of the HTIF `tohost`/`fromhost` symbols (ELF with a symbol table only).
    public var tohost: UInt64?
    public var fromhost: UInt64?
    /// Which format the file was recognised as.
    public var kind: BootImage

    public init(entry: UInt64, start: UInt64, end: UInt64, tohost: UInt64? = nil, fromhost: UInt64? = nil,
                kind: BootImage) {
        self.entry = entry
        self.start = start
        self.end = end
        self.tohost = tohost
        self.fromhost = fromhost
        self.kind = kind
    }
}
