#if canImport(CMalloc)
import CMalloc
#endif

/// glibc gives each thread that allocates an arena of its own, up to eight per core, and what a thread frees stays
/// resident in its arena. Sparrow's threads hand batches to one another, so most arenas end up holding freed
/// batches. Two arenas keep a campaign's peak RSS 3–5 MiB lower at the same rate (BENCHMARKS.md).
enum MallocArenas {
    static func limit() {
        #if canImport(CMalloc)
        _ = mallopt(M_ARENA_MAX, 2)
        #endif
    }
}
