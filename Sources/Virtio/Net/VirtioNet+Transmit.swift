/// One transmit chain out of the driver's hands: its checked header and frame length, taken on
/// the harts' thread, and whether the backend took the frame, found out on the worker's.
final class TransmitRequest: ChainRequest {
    var chain = DescriptorChain(capacity: 4)
    /// The header for the backend (the driver's, checked, or a zero one).
    var header = VirtioNetHeader()
    var frameLength = 0
    /// The backend took the frame.
    var sent = false
}

/// The transmit queue (5.1.6.2): the driver sends a header and a frame in device-readable buffers.
extension VirtioNet {
    /// Pops every transmit chain a free slot can hold, checks it and sends its frame: inline
    /// without a worker, otherwise on the worker (answered later by `finishCompleted`).
    func takeTransmitRequests(from queue: Virtqueue) throws(VirtioError) {
        var submitted = false
        defer {
            if submitted { worker?.wake() }
            notifyIfNeeded(queue)
        }
        while let slot = try transmitSlots.takeNext(from: queue, check: { request throws(VirtioError) in
            request.frameLength = try transmitFrameLength(request.chain)
            request.header = try transmitHeader(request.chain, frameLength: request.frameLength)
        }) {
            let request = transmitSlots.requests[slot]
            if worker != nil {
                transmitSlots.submit(slot)
                submitted = true
            } else {
                send(request)
                answerTransmit(slot, on: queue)
            }
        }
    }

    /// Gathers the frame after the guest's header and hands it to the backend with the checked
    /// header. Runs on the worker's thread: it touches the backend, `transmitFrame`, this request
    /// and the chain's buffers, nothing else.
    func send(_ request: TransmitRequest) {
        request.sent = false
        guard request.frameLength > 0 else { return }
        var copied = Self.headerLength
        request.chain.withSegments(.readable, offset: UInt64(headerLength), count: UInt64(request.frameLength)) { p, n in
            (transmitFrame.baseAddress! + copied).copyMemory(from: p, byteCount: n)
            copied += n
            return true
        }
        request.header.write(to: transmitFrame, buffers: 0)
        request.sent = backend.send(UnsafeRawBufferPointer(rebasing: transmitFrame[..<copied]))
    }

    /// Counts a sent (or dropped) frame, returns its chain to the driver and frees its slot.
    /// The caller asks the queue whether the driver wants an interrupt.
    private func answerTransmit(_ slot: Int, on queue: Virtqueue) {
        let request = transmitSlots.requests[slot]
        if request.frameLength > 0 {
            if request.sent {
                counters.transmitted += 1
                counters.transmittedBytes += request.frameLength
                if request.header.gsoType != 0 { counters.transmittedSegments += 1 }
            } else {
                counters.transmitDropped += 1
            }
        }
        queue.push(request.chain, written: 0)
        transmitSlots.release(slot)
    }

    /// The header for the backend: the driver's, checked, when it accepted a transmit offload;
    /// otherwise a zero one, since a driver without offloads promises nothing in its header.
    private func transmitHeader(_ chain: DescriptorChain, frameLength: Int) throws(VirtioError) -> VirtioNetHeader {
        guard !features.isDisjoint(with: .netTransmitOffloads) else { return VirtioNetHeader() }
        // The guest's 12 (or legacy 10) bytes, read once: the guest cannot change the header
        // between its check and its use.
        var bytes = (UInt64(0), UInt32(0))
        return try withUnsafeMutableBytes(of: &bytes) { raw throws(VirtioError) in
            var copied = 0
            chain.withSegments(.readable, offset: 0, count: UInt64(headerLength)) { p, n in
                (raw.baseAddress! + copied).copyMemory(from: p, byteCount: n)
                copied += n
                return true
            }
            let header = VirtioNetHeader(UnsafeRawBufferPointer(raw))
            try header.checkTransmit(frameLength: frameLength, features: features)
            return header
        }
    }

    /// The frame's length after the header, once the chain is checked (5.1.6.2: the driver
    /// sends a header and a frame in device-readable buffers).
    private func transmitFrameLength(_ chain: DescriptorChain) throws(VirtioError) -> Int {
        guard chain.writableCount == 0 else {
            throw .malformedRequest("virtio-net transmit chain with a device-writable buffer")
        }
        guard chain.readableLength >= UInt64(headerLength) else {
            throw .malformedRequest("virtio-net transmit chain of \(chain.readableLength) bytes, shorter than the \(headerLength)-byte header")
        }
        let length = chain.readableLength - UInt64(headerLength)
        guard length <= UInt64(Self.maxFrameLength) else {
            throw .malformedRequest("virtio-net transmit frame of \(length) bytes, longer than \(Self.maxFrameLength)")
        }
        return Int(length)
    }

    /// Answers the transmit requests the worker completed, then takes the chains that waited
    /// for a free slot.
    func finishTransmits() {
        transmitSlots.takeCompleted(into: &completedTransmits)
        guard let queue = transmitq, !completedTransmits.isEmpty else { return }
        for slot in completedTransmits { answerTransmit(slot, on: queue) }
        notifyIfNeeded(queue)
        // The driver need not notify again for chains that found every slot taken.
        guard !failed else { return }
        do {
            try takeTransmitRequests(from: queue)
        } catch {
            fail(error)
        }
    }
}
