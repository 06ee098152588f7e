#if SPARROW_TSAN
import Glibc

/// A value guarded by a lock, for the few pieces of state too small for an actor: counters, tiny caches, the hand-off
/// points between threads. In builds for ThreadSanitizer (`-DSPARROW_TSAN`, `make test-tsan`) it is a pthread mutex,
/// which ThreadSanitizer sees; it cannot see the futex under `Synchronization.Mutex` on Linux, and would report every
/// access that mutex guards as a race.
///
/// `@unchecked Sendable` is sound: the value is read and written only inside `withLock`, with the mutex held.
package final class Lock<Value: ~Copyable>: @unchecked Sendable {
    /// The value lives apart from the object: as a stored property of no size (`Lock<Void>`) its accesses would be
    /// instrumented at the object's own address, which ThreadSanitizer would see read, unlocked, by every caller.
    private let value = UnsafeMutablePointer<Value>.allocate(capacity: 1)
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    package init(_ value: consuming Value) {
        self.value.initialize(to: value)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        value.deinitialize(count: 1)
        value.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    package func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value.pointee)
    }
}
#else
package import Synchronization

/// A value guarded by a lock, for the few pieces of state too small for an actor: counters, tiny caches, the hand-off
/// points between threads. `Synchronization.Mutex`, but in builds for ThreadSanitizer (`-DSPARROW_TSAN`), where it is
/// a pthread mutex that ThreadSanitizer can see.
package typealias Lock<Value: ~Copyable> = Mutex<Value>
#endif
