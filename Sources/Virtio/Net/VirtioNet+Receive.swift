import Synchronization

/// One receive chain out of the driver's hands: a checked buffer that waits for a frame from the
/// backend, and what went into it.
final class ReceiveRequest: ChainRequest {
    enum Outcome {
        /// A header and a frame went in: `written` bytes; `segment`: a TCP segment to take whole.
        case delivered(written: UInt32, frameLength: Int, segment: Bool)
        /// The frame that came did not fit or had offloads the guest did not accept: the buffer
        /// goes back empty and the frame is lost, as on a wire.
        case dropped
        /// The device reset or broke before a frame came: the buffer goes back unused.
        case givenUp
    }

    var chain = DescriptorChain(capacity: 4)
    var outcome = Outcome.givenUp
}

/// The receive queue (5.1.6.3, 5.1.6.4): the driver posts device-writable buffers, each of which
/// takes a header and one frame from the backend.
///
/// The device takes posted buffers when the driver notifies and between hart slices
/// (`pollReceive`), checks them and hands them to the receive side, which reads a frame from the
/// backend only for a buffer it holds, so frames wait in the backend (the TAP's queue), never in
/// the VMM. With a worker, the receive side is the worker's thread, which polls the backend's
/// descriptor while it holds buffers; without one, it runs in `pollReceive` and on notification.
extension VirtioNet {
    /// Takes every posted receive buffer a slot can hold, checks it and hands it to the receive
    /// side; without a worker, fills what it can at once and returns the frames delivered.
    /// Call it between hart slices: drivers may post buffers without notifying.
    @discardableResult
    public func pollReceive() -> Int {
        do {
            return try takeReceiveBuffers()
        } catch {
            fail(error)
            return 0
        }
    }

    /// The descriptor for the harts' thread to sleep on when it runs the receive side itself
    /// (no worker) and holds buffers or has some posted; nil otherwise, so that a frame nobody
    /// can take does not keep waking it.
    public var receiveReadinessDescriptor: Int32? {
        guard worker == nil, !failed, let queue = receiveq, !heldReceives.isEmpty || queue.pendingCount > 0 else {
            return nil
        }
        return backend.readinessDescriptor
    }

    @discardableResult
    func takeReceiveBuffers() throws(VirtioError) -> Int {
        guard !failed, let queue = receiveq, queue.isReady else { return 0 }
        var submitted = false
        while let slot = try receiveSlots.takeNext(from: queue, check: { request throws(VirtioError) in
            try checkReceiveChain(request.chain)
        }) {
            receivesUnexamined.add(1, ordering: .acquiringAndReleasing)
            receiveSlots.submit(slot)
            submitted = true
        }
        guard worker == nil else {
            if submitted { worker?.wake() }
            return 0
        }
        let delivered = performReceive()
        finishReceives()
        return delivered
    }

    /// The receive side: moves frames from the backend into the buffers it holds, oldest buffer
    /// first, at most `maxFramesPerPoll` at a time so one call stays bounded; gives every buffer
    /// up after a reset or a failure. Returns the buffers completed. Runs on the worker's thread
    /// (or the harts' without a worker): it touches the backend, `frame`, the held requests and
    /// their buffers, nothing else.
    func performReceive() -> Int {
        var examined = 0
        while let slot = receiveSlots.nextSubmitted() {
            heldReceives.push(slot)
            examined += 1
        }
        defer { if examined > 0 { receivesUnexamined.subtract(examined, ordering: .acquiringAndReleasing) } }
        var completed = 0
        if stopReceiving.load(ordering: .acquiring) {
            while let slot = heldReceives.pop() {
                receiveSlots.requests[slot].outcome = .givenUp
                receiveSlots.complete(slot)
                completed += 1
            }
            return completed
        }
        while completed < Self.maxFramesPerPoll, let slot = heldReceives.first, let received = backend.receive(into: frame) {
            let request = receiveSlots.requests[slot]
            let length = received - Self.headerLength
            if length > 0, length <= Self.maxFrameLength, UInt64(headerLength + length) <= request.chain.writableLength,
               let header = receiveHeader() {
                header.write(to: frame, buffers: 1)
                request.chain.copyToWritable(UnsafeRawBufferPointer(rebasing: frame[..<headerLength]), at: 0)
                request.chain.copyToWritable(UnsafeRawBufferPointer(rebasing: frame[Self.headerLength..<(Self.headerLength + length)]),
                                             at: UInt64(headerLength))
                request.outcome = .delivered(written: UInt32(headerLength + length), frameLength: length,
                                             segment: header.gsoType != 0)
            } else {
                request.outcome = .dropped
            }
            _ = heldReceives.pop()
            receiveSlots.complete(slot)
            completed += 1
        }
        return completed
    }

    /// Answers the receive buffers the receive side completed: counts the frames, returns the
    /// chains and interrupts the driver if it asked.
    func finishReceives() {
        receiveSlots.takeCompleted(into: &completedReceives)
        guard let queue = receiveq, !completedReceives.isEmpty else { return }
        for slot in completedReceives {
            let request = receiveSlots.requests[slot]
            switch request.outcome {
            case .delivered(let written, let frameLength, let segment):
                counters.received += 1
                counters.receivedBytes += frameLength
                if segment { counters.receivedSegments += 1 }
                queue.push(request.chain, written: written)
            case .dropped:
                counters.receiveDropped += 1
                queue.push(request.chain, written: 0)
            case .givenUp:
                queue.push(request.chain, written: 0)
            }
            receiveSlots.release(slot)
        }
        notifyIfNeeded(queue)
    }

    /// The header for the guest from the backend's (in `frame`): its checksum flags if the guest
    /// accepted GUEST_CSUM, else none, and its segmentation if the guest accepted that kind of
    /// segment. Nil for a frame the guest cannot take as it is: a segment of a kind it did not
    /// accept, or a checksum left to finish without GUEST_CSUM, which a backend told no offloads
    /// never sends.
    private func receiveHeader() -> VirtioNetHeader? {
        let host = VirtioNetHeader(UnsafeRawBufferPointer(frame))
        var header = VirtioNetHeader()
        if host.gsoType != 0 {
            let ecn = host.gsoType & VirtioNetHeader.ecnBit != 0
            let accepted: Bool
            switch VirtioNetHeader.SegmentationType(rawValue: host.gsoType & ~VirtioNetHeader.ecnBit) {
            case .tcp4: accepted = features.contains(.netGuestTSO4)
            case .tcp6: accepted = features.contains(.netGuestTSO6)
            default: accepted = false
            }
            guard accepted, !ecn || features.contains(.netGuestECN) else { return nil }
            header.gsoType = host.gsoType
            header.headerLength = host.headerLength
            header.segmentSize = host.segmentSize
        }
        if features.contains(.netGuestChecksum) {
            header.flags = host.flags.intersection([.needsChecksum, .dataValid])
            if header.flags.contains(.needsChecksum) {
                header.checksumStart = host.checksumStart
                header.checksumOffset = host.checksumOffset
            }
        } else if host.flags.contains(.needsChecksum) {
            return nil
        }
        return header
    }

    /// 5.1.6.3: receive buffers are device-writable and hold at least the header.
    private func checkReceiveChain(_ chain: DescriptorChain) throws(VirtioError) {
        guard chain.readableCount == 0 else {
            throw .malformedRequest("virtio-net receive chain with a device-readable buffer")
        }
        guard chain.writableLength >= UInt64(headerLength) else {
            throw .malformedRequest("virtio-net receive chain of \(chain.writableLength) bytes, shorter than the \(headerLength)-byte header")
        }
    }
}
