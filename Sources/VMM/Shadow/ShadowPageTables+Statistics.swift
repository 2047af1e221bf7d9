extension ShadowPageTables {
    /// Fills the shadow-paging fields of `s`.
    func report(into s: inout VMMStatistics) {
        s.shadowBuilds = builds
        s.shadowCacheHits = cacheHits
        s.shadowFills = fills
        s.shadowInvalidations = invalidations
        s.shadowResets = resets
        s.unsyncedTables = unsyncs
        s.unshadowedTables = unshadowed
        s.resyncedEntries = resyncedEntries
        s.protectedPageTables = UInt64(protectedPageTables)
        s.guestWalks = walker.walks
        s.guestWalkReferences = walker.references
    }
}
