#include <sqlite3.h>

// sqlite3_config is variadic, which Swift cannot call. SQLite counts every allocation it makes under a global mutex,
// for sqlite3_memory_used and the soft heap limit, which Sparrow uses neither of. Turning the count off takes the
// mutex out of every allocation. It must come before SQLite initializes (the first connection opened): after that,
// it changes nothing and returns SQLITE_MISUSE.
static inline int sparrow_sqlite3_stop_counting_memory(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
