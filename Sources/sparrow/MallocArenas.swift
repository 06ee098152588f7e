#if canImport(CMalloc)
import CMalloc
#endif

/// glibc gives each thread that allocates an arena of its own, up to eight per core, and what a thread frees stays
/// resident in its arena. A campaign's threads hand batches to one another, so most arenas end up holding freed
/// batches: two arenas keep its peak RSS 3–5 MiB lower at the same rate (BENCHMARKS.md). `plan` keeps glibc's
/// default: its planner threads allocate at once, and sharing two arenas made it about 7 % slower.
enum MallocArenas {
    static func limit() {
        #if canImport(CMalloc)
        _ = mallopt(M_ARENA_MAX, 2)
        #endif
    }
}
