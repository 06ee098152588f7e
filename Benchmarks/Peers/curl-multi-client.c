// The baseline for scripts/bench-transport.sh and scripts/bench-e2e.sh: a C libcurl-multi client, no Swift, no locks,
// no threads.
// N POSTs of a ~200-byte form body (a different message number in each) to URL, K transfers in flight
// (closed loop: a finished transfer's handle is re-added at once with the next body), K easy handles reused
// for the whole run, keep-alive, and the same per-handle options Sparrow's EasySlot sets, so that the two
// differ only in what Sparrow adds around curl.
//
//   gcc -O2 -Wall -o curl-multi-client curl-multi-client.c -lcurl -lsqlite3
//   curl-multi-client [--journal DB] URL N K [BODIES]
//
// With BODIES (a file of request bodies, one per line, e.g. the bodies `sparrow gateway-sim --body-log` saw from
// `sparrow send`), request n posts line n instead, with the headers a gateway dialect sends: a JSON or form
// content type, a bearer token, and an `Idempotency-Key` of its own, so that each request builds its header list
// as Sparrow's does. A line that starts with '?' is a query string instead: request n is then a GET of URL with it
// (Kannel's sendsms interface). N is at most the number of lines.
//
// With --journal DB, it does the durable work Sparrow's crash contract asks of a sender, done plainly, in a SQLite
// file (WAL, synchronous=FULL, so every commit is on disk when it returns) with one table keyed by the message's id:
// - every message is inserted (id, line, body, state 'ready') before its request, in transactions of 512;
// - a message is marked 'submitting' before its request goes, 256 at a time in one transaction;
// - answers (state, the gateway's message_id read from the response body, the time) are committed when 512 are
//   waiting or 20 ms after the first of them came, whichever is first, and at the end.
// All of it on the one thread that drives curl, so a commit's fdatasync holds up the transfers, as it would in a
// plain client.
//
// Prints one line:
//   c-client: N requests, E errors, S seconds, R req/s, C CPU us/req
// An error is a transfer that did not end with CURLE_OK and an HTTP 2xx (Kannel's sendsms answers 202). Wall time runs from the first
// curl_multi_add_handle to the last completion; CPU is this process's user+system time (getrusage) over the same
// span, so it includes the kernel's loopback TCP work done on the client's syscalls.
#include <curl/curl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

// The body. Benchmarks/Tools/TransportBench/main.swift builds the same bytes.
#define BODY_FORMAT                                                                                                \
    "from=Sparrow&to=%%2B8613%09ld&coding=0&charset=UTF-8&dlr-mask=31&client-ref=sp-%010ld"                     \
    "&text=Your+verification+code+is+%06ld.+It+expires+in+10+minutes.+Do+not+share+it.+Reply+STOP+to+opt+out."
#define BODY_CAPACITY 256
#define ANSWER_CAPACITY 256

typedef struct {
    CURL *easy;
    long number;  // the message this slot's transfer carries
    char body[BODY_CAPACITY];
    size_t received;
    char answer[ANSWER_CAPACITY];  // with --journal: the response body's first bytes
    struct curl_slist *headers;  // with BODIES: this request's header lines
    char *url;                   // with query lines: URL and this request's query
} slot;

static const char *base_url;

// With BODIES: the whole file, and where each line starts and ends.
static char *bodies_text;
static long *line_start, *line_end;
static long line_count;

static long load_bodies(const char *path) {
    FILE *file = fopen(path, "rb");
    if (!file) return -1;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    bodies_text = malloc((size_t)size + 1);
    if (fread(bodies_text, 1, (size_t)size, file) != (size_t)size) return -1;
    fclose(file);
    long capacity = 1024;
    line_start = malloc(sizeof(long) * (size_t)capacity);
    line_end = malloc(sizeof(long) * (size_t)capacity);
    for (long at = 0; at < size;) {
        char *newline = memchr(bodies_text + at, '\n', (size_t)(size - at));
        long end = newline ? newline - bodies_text : size;
        if (line_count == capacity) {
            capacity *= 2;
            line_start = realloc(line_start, sizeof(long) * (size_t)capacity);
            line_end = realloc(line_end, sizeof(long) * (size_t)capacity);
        }
        line_start[line_count] = at;
        line_end[line_count++] = end;
        at = end + 1;
    }
    return line_count;
}

static void prepare_query(slot *s, const char *query, long length) {
    size_t base = strlen(base_url);
    s->url = realloc(s->url, base + (size_t)length + 1);
    memcpy(s->url, base_url, base);
    memcpy(s->url + base, query, (size_t)length);
    s->url[base + (size_t)length] = 0;
    s->received = 0;
    curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
    curl_easy_setopt(s->easy, CURLOPT_HTTPGET, 1L);
}

static void prepare_from_bodies(slot *s, long number) {
    const char *body = bodies_text + line_start[number];
    long length = line_end[number] - line_start[number];
    if (length > 0 && body[0] == '?') {
        prepare_query(s, body, length);
        return;
    }
    char key[48];
    snprintf(key, sizeof key, "Idempotency-Key: c-%ld", number);
    curl_slist_free_all(s->headers);
    s->headers = curl_slist_append(NULL, "Expect:");
    s->headers = curl_slist_append(s->headers, body[0] == '{' ? "Content-Type: application/json"
                                                              : "Content-Type: application/x-www-form-urlencoded");
    s->headers = curl_slist_append(s->headers, "Accept: application/json");
    s->headers = curl_slist_append(s->headers, "Authorization: Bearer bench-token");
    s->headers = curl_slist_append(s->headers, key);
    s->received = 0;
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)length);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, body);  // the file stays in memory for the whole run
}

// --- the journal (--journal DB) ---------------------------------------------------------------------------------------

#define INSERT_BATCH 512
#define MARK_AHEAD 256
#define ANSWER_BATCH 512
#define ANSWER_WAIT_MS 20

static sqlite3 *journal;
static sqlite3_stmt *insert_row, *mark_row, *answer_row;
static long inserted, marked;  // messages [0, inserted) are in the journal, [0, marked) marked submitting
static long commits;

typedef struct {
    long number;
    int ok;
    char gateway_id[64];
} answer;
static answer pending[ANSWER_BATCH];
static int pending_count;
static double first_pending_at;  // monotonic seconds, when the oldest waiting answer came

static void check(int code, const char *what) {
    if (code == SQLITE_OK || code == SQLITE_DONE || code == SQLITE_ROW) return;
    fprintf(stderr, "c-client: journal: %s: %s\n", what, sqlite3_errmsg(journal));
    exit(1);
}

static void execute(const char *sql) { check(sqlite3_exec(journal, sql, NULL, NULL, NULL), sql); }

static void run(sqlite3_stmt *statement, const char *what) {
    check(sqlite3_step(statement), what);
    sqlite3_reset(statement);
}

static void open_journal(const char *path) {
    check(sqlite3_open(path, &journal), path);
    execute("PRAGMA journal_mode = WAL");
    execute("PRAGMA synchronous = FULL");
    execute("CREATE TABLE IF NOT EXISTS message (id TEXT PRIMARY KEY, line INTEGER NOT NULL, body TEXT NOT NULL, "
            "state TEXT NOT NULL, gateway_id TEXT, answered_at INTEGER)");
    check(sqlite3_prepare_v2(journal, "INSERT INTO message (id, line, body, state) VALUES (?1, ?2, ?3, 'ready')", -1,
                             &insert_row, NULL), "prepare insert");
    check(sqlite3_prepare_v2(journal, "UPDATE message SET state = 'submitting' WHERE id = ?1", -1, &mark_row, NULL),
          "prepare mark");
    check(sqlite3_prepare_v2(journal, "UPDATE message SET state = ?1, gateway_id = ?2, answered_at = ?3 WHERE id = ?4",
                             -1, &answer_row, NULL), "prepare answer");
}

static int message_id(char *buffer, size_t capacity, long number) {
    return snprintf(buffer, capacity, "c-%ld", number);
}

static void body_of(long number, char *scratch, const char **body, int *length);

// Inserts messages [inserted, up_to) in transactions of INSERT_BATCH.
static void insert_until(long up_to, long total) {
    char id[32], scratch[BODY_CAPACITY];
    while (inserted < up_to) {
        long end = inserted + INSERT_BATCH < total ? inserted + INSERT_BATCH : total;
        execute("BEGIN");
        for (long n = inserted; n < end; n++) {
            const char *body;
            int length;
            body_of(n, scratch, &body, &length);
            sqlite3_bind_text(insert_row, 1, id, message_id(id, sizeof id, n), SQLITE_STATIC);
            sqlite3_bind_int64(insert_row, 2, n);
            sqlite3_bind_text(insert_row, 3, body, length, SQLITE_STATIC);
            run(insert_row, "insert");
        }
        execute("COMMIT");
        commits++;
        inserted = end;
    }
}

// Before message n's request goes: it is in the journal, marked submitting (with the next MARK_AHEAD - 1 of them).
static void journal_before(long n, long total) {
    if (n < marked) return;
    long end = marked + MARK_AHEAD < total ? marked + MARK_AHEAD : total;
    insert_until(end, total);
    char id[32];
    execute("BEGIN");
    for (long m = marked; m < end; m++) {
        sqlite3_bind_text(mark_row, 1, id, message_id(id, sizeof id, m), SQLITE_STATIC);
        run(mark_row, "mark");
    }
    execute("COMMIT");
    commits++;
    marked = end;
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void commit_answers(void) {
    if (pending_count == 0) return;
    char id[32];
    sqlite3_int64 at = (sqlite3_int64)time(NULL);
    execute("BEGIN");
    for (int i = 0; i < pending_count; i++) {
        answer *a = &pending[i];
        sqlite3_bind_text(answer_row, 1, a->ok ? "accepted" : "failed", -1, SQLITE_STATIC);
        if (a->gateway_id[0])
            sqlite3_bind_text(answer_row, 2, a->gateway_id, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(answer_row, 2);
        sqlite3_bind_int64(answer_row, 3, at);
        sqlite3_bind_text(answer_row, 4, id, message_id(id, sizeof id, a->number), SQLITE_STATIC);
        run(answer_row, "answer");
    }
    execute("COMMIT");
    commits++;
    pending_count = 0;
}

// Keeps message n's answer: its outcome and the "message_id" of the gateway's JSON answer, if it has one.
static void keep_answer(const slot *s, int ok) {
    answer *a = &pending[pending_count];
    a->number = s->number;
    a->ok = ok;
    a->gateway_id[0] = 0;
    size_t length = s->received < ANSWER_CAPACITY ? s->received : ANSWER_CAPACITY - 1;
    char text[ANSWER_CAPACITY];
    memcpy(text, s->answer, length);
    text[length] = 0;
    const char *key = strstr(text, "\"message_id\":\"");
    if (key) {
        key += strlen("\"message_id\":\"");
        const char *end = strchr(key, '"');
        size_t size = end ? (size_t)(end - key) : 0;
        if (size < sizeof a->gateway_id) {
            memcpy(a->gateway_id, key, size);
            a->gateway_id[size] = 0;
        }
    }
    if (pending_count++ == 0) first_pending_at = now_seconds();
    if (pending_count == ANSWER_BATCH) commit_answers();
}

// How long curl may wait for sockets: until the oldest waiting answer is due for its commit, at most a second.
static int poll_timeout_ms(void) {
    if (pending_count == 0) return 1000;
    double left = first_pending_at + ANSWER_WAIT_MS / 1000.0 - now_seconds();
    return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

// --- requests ------------------------------------------------------------------------------------------------------

static size_t receive_body(char *data, size_t size, size_t count, void *context) {
    slot *s = context;
    size_t bytes = size * count;
    if (journal && s->received < ANSWER_CAPACITY) {
        size_t room = ANSWER_CAPACITY - s->received;
        memcpy(s->answer + s->received, data, bytes < room ? bytes : room);
    }
    s->received += bytes;
    return bytes;
}

// Message n's body, without BODIES: written into scratch.
static void body_of(long number, char *scratch, const char **body, int *length) {
    if (bodies_text) {
        *body = bodies_text + line_start[number];
        *length = (int)(line_end[number] - line_start[number]);
        return;
    }
    *length = snprintf(scratch, BODY_CAPACITY, BODY_FORMAT, number % 1000000000L, number,
                       (number * 7919L) % 1000000L);
    if (*length < 0 || *length >= BODY_CAPACITY) {
        fprintf(stderr, "body too long\n");
        exit(2);
    }
    *body = scratch;
}

static void prepare(slot *s, long number) {
    s->number = number;
    if (bodies_text) {
        prepare_from_bodies(s, number);
        return;
    }
    const char *body;
    int length;
    body_of(number, s->body, &body, &length);
    s->received = 0;
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)length);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);  // not copied: the slot owns it until done
}

static double seconds(const struct timespec *t) { return (double)t->tv_sec + (double)t->tv_nsec / 1e9; }

static double cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec +
           (double)usage.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
    const char *journal_path = NULL;
    if (argc > 2 && strcmp(argv[1], "--journal") == 0) {
        journal_path = argv[2];
        argc -= 2;
        argv += 2;
    }
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s [--journal DB] URL N K [BODIES]\n", argv[0]);
        return 2;
    }
    const char *url = base_url = argv[1];
    long total = atol(argv[2]);
    long in_flight = atol(argv[3]);
    if (total < 1 || in_flight < 1) {
        fprintf(stderr, "N and K must be positive\n");
        return 2;
    }
    if (argc == 5) {
        long lines = load_bodies(argv[4]);
        if (lines < 1) {
            fprintf(stderr, "cannot read bodies from %s\n", argv[4]);
            return 2;
        }
        if (total > lines) total = lines;
    }
    if (in_flight > total) in_flight = total;

    signal(SIGPIPE, SIG_IGN);  // NOSIGNAL leaves SIGPIPE to the program
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 1;
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, in_flight);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, in_flight);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, in_flight);

    struct curl_slist *headers = curl_slist_append(NULL, "Expect:");  // no 100-continue round trip
    slot *slots = calloc((size_t)in_flight, sizeof *slots);
    for (long i = 0; i < in_flight; i++) {
        CURL *e = curl_easy_init();
        slots[i].easy = e;
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_PRIVATE, &slots[i]);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, receive_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &slots[i]);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(e, CURLOPT_PROXY, "");  // no environment proxy, and no getenv per transfer
        curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);  // Sparrow's default request timeout
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    }

    long started = 0, done = 0, errors = 0, connects = 0;
    struct timespec t0, t1;
    double cpu0 = cpu_seconds();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (journal_path) open_journal(journal_path);
    for (long i = 0; i < in_flight; i++) {
        if (journal) journal_before(started, total);
        prepare(&slots[i], started++);
        curl_multi_add_handle(multi, slots[i].easy);
    }
    while (done < total) {
        int running = 0;
        if (curl_multi_perform(multi, &running) != CURLM_OK) {
            fprintf(stderr, "curl_multi_perform failed\n");
            return 1;
        }
        CURLMsg *message;
        int left = 0;
        while ((message = curl_multi_info_read(multi, &left)) != NULL) {
            if (message->msg != CURLMSG_DONE) continue;
            CURL *e = message->easy_handle;
            slot *s = NULL;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s);
            long status = 0, new_connections = 0;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
            curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &new_connections);
            connects += new_connections;
            int ok = message->data.result == CURLE_OK && status >= 200 && status <= 299;
            if (!ok) {
                if (errors < 5)
                    fprintf(stderr, "c-client: transfer failed: %s, HTTP %ld\n",
                            curl_easy_strerror(message->data.result), status);
                errors++;
            }
            if (journal) keep_answer(s, ok);
            done++;
            curl_multi_remove_handle(multi, e);
            if (started < total) {
                if (journal) journal_before(started, total);
                prepare(s, started++);
                curl_multi_add_handle(multi, e);
            }
        }
        if (journal && pending_count > 0 && poll_timeout_ms() == 0) commit_answers();
        if (done < total) curl_multi_poll(multi, NULL, 0, journal ? poll_timeout_ms() : 1000, NULL);
    }
    if (journal) commit_answers();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double cpu = cpu_seconds() - cpu0;
    double wall = seconds(&t1) - seconds(&t0);

    printf("c-client: %ld requests, %ld errors, %.3f seconds, %.0f req/s, %.1f CPU us/req\n", total, errors, wall,
           (double)total / wall, cpu * 1e6 / (double)total);
    if (journal) fprintf(stderr, "c-client: journal: %ld messages in %ld commits\n", total, commits);
    if (connects != in_flight)
        fprintf(stderr, "c-client: %ld connections opened for %ld in flight\n", connects, in_flight);

    for (long i = 0; i < in_flight; i++) {
        curl_easy_cleanup(slots[i].easy);
        curl_slist_free_all(slots[i].headers);
        free(slots[i].url);
    }
    free(bodies_text);
    free(line_start);
    free(line_end);
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    free(slots);
    if (journal) {
        sqlite3_finalize(insert_row);
        sqlite3_finalize(mark_row);
        sqlite3_finalize(answer_row);
        sqlite3_close(journal);
    }
    return errors == 0 ? 0 : 1;
}
