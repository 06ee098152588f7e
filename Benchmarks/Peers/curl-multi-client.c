// The baseline for scripts/bench-transport.sh: a bare C libcurl-multi client, no Swift, no locks, no threads.
// N POSTs of a ~200-byte form body (a different message number in each) to URL, K transfers in flight
// (closed loop: a finished transfer's handle is re-added at once with the next body), K easy handles reused
// for the whole run, keep-alive, and the same per-handle options Sparrow's EasySlot sets, so that the two
// differ only in what Sparrow adds around curl.
//
//   gcc -O2 -Wall -o curl-multi-client curl-multi-client.c -lcurl
//   curl-multi-client URL N K [BODIES]
//
// With BODIES (a file of request bodies, one per line, e.g. the bodies `sparrow gateway-sim --body-log` saw from
// `sparrow send`), request n posts line n instead, with the headers a gateway dialect sends: a JSON or form
// content type, a bearer token, and an `Idempotency-Key` of its own, so that each request builds its header list
// as Sparrow's does. A line that starts with '?' is a query string instead: request n is then a GET of URL with it
// (Kannel's sendsms interface). N is at most the number of lines.
//
// Prints one line:
//   c-client: N requests, E errors, S seconds, R req/s, C CPU us/req
// An error is a transfer that did not end with CURLE_OK and an HTTP 2xx (Kannel's sendsms answers 202). Wall time runs from the first
// curl_multi_add_handle to the last completion; CPU is this process's user+system time (getrusage) over the same
// span, so it includes the kernel's loopback TCP work done on the client's syscalls.
#include <curl/curl.h>
#include <signal.h>
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

typedef struct {
    CURL *easy;
    char body[BODY_CAPACITY];
    size_t received;
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

static size_t discard_body(char *data, size_t size, size_t count, void *context) {
    (void)data;
    ((slot *)context)->received += size * count;
    return size * count;
}

static void prepare(slot *s, long number) {
    if (bodies_text) {
        prepare_from_bodies(s, number);
        return;
    }
    int length = snprintf(s->body, sizeof s->body, BODY_FORMAT, number % 1000000000L, number,
                          (number * 7919L) % 1000000L);
    if (length < 0 || length >= (int)sizeof s->body) {
        fprintf(stderr, "body too long\n");
        exit(2);
    }
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
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s URL N K [BODIES]\n", argv[0]);
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
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
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
    for (long i = 0; i < in_flight; i++) {
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
            if (message->data.result != CURLE_OK || status < 200 || status > 299) {
                if (errors < 5)
                    fprintf(stderr, "c-client: transfer failed: %s, HTTP %ld\n",
                            curl_easy_strerror(message->data.result), status);
                errors++;
            }
            done++;
            curl_multi_remove_handle(multi, e);
            if (started < total) {
                prepare(s, started++);
                curl_multi_add_handle(multi, e);
            }
        }
        if (done < total) curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double cpu = cpu_seconds() - cpu0;
    double wall = seconds(&t1) - seconds(&t0);

    printf("c-client: %ld requests, %ld errors, %.3f seconds, %.0f req/s, %.1f CPU us/req\n", total, errors, wall,
           (double)total / wall, cpu * 1e6 / (double)total);
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
    return errors == 0 ? 0 : 1;
}
