// The baseline for scripts/bench-transport.sh: a bare C libcurl-multi client, no Swift, no locks, no threads.
// N POSTs of a ~200-byte form body (a different message number in each) to URL, K transfers in flight
// (closed loop: a finished transfer's handle is re-added at once with the next body), K easy handles reused
// for the whole run, keep-alive, and the same per-handle options Sparrow's EasySlot sets, so that the two
// differ only in what Sparrow adds around curl.
//
//   gcc -O2 -Wall -o curl-multi-client curl-multi-client.c -lcurl
//   curl-multi-client URL N K
//
// Prints one line:
//   c-client: N requests, E errors, S seconds, R req/s, C CPU us/req
// An error is a transfer that did not end with CURLE_OK and HTTP 200. Wall time runs from the first
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
} slot;

static size_t discard_body(char *data, size_t size, size_t count, void *context) {
    (void)data;
    ((slot *)context)->received += size * count;
    return size * count;
}

static void prepare(slot *s, long number) {
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
    if (argc != 4) {
        fprintf(stderr, "usage: %s URL N K\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    long total = atol(argv[2]);
    long in_flight = atol(argv[3]);
    if (total < 1 || in_flight < 1) {
        fprintf(stderr, "N and K must be positive\n");
        return 2;
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
            if (message->data.result != CURLE_OK || status != 200) {
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

    for (long i = 0; i < in_flight; i++) curl_easy_cleanup(slots[i].easy);
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    free(slots);
    return errors == 0 ? 0 : 1;
}
