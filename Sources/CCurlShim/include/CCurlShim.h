// Typed, non-variadic wrappers around libcurl's variadic calls (Swift cannot call C variadics), and the few
// macros and calls Swift cannot import. One wrapper per argument type; no logic here: all policy stays in Swift.
#ifndef SPARROW_CCURL_SHIM_H
#define SPARROW_CCURL_SHIM_H

#include <curl/curl.h>

CURLcode sparrow_easy_setopt_long(CURL *_Nonnull handle, CURLoption option, long value);
CURLcode sparrow_easy_setopt_off_t(CURL *_Nonnull handle, CURLoption option, curl_off_t value);
// Strings (libcurl copies them), slists, userdata pointers and buffers that outlive the transfer.
CURLcode sparrow_easy_setopt_ptr(CURL *_Nonnull handle, CURLoption option, const void *_Nullable value);
// CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION.
CURLcode sparrow_easy_setopt_write_callback(CURL *_Nonnull handle, CURLoption option,
                                            curl_write_callback _Nullable callback);
// CURLOPT_PREREQFUNCTION.
CURLcode sparrow_easy_setopt_prereq_callback(CURL *_Nonnull handle, curl_prereq_callback _Nullable callback);

CURLcode sparrow_easy_getinfo_long(CURL *_Nonnull handle, CURLINFO info, long *_Nonnull value);
CURLcode sparrow_easy_getinfo_off_t(CURL *_Nonnull handle, CURLINFO info, curl_off_t *_Nonnull value);
CURLcode sparrow_easy_getinfo_ptr(CURL *_Nonnull handle, CURLINFO info, void *_Nullable *_Nonnull value);

CURLMcode sparrow_multi_setopt_long(CURLM *_Nonnull multi, CURLMoption option, long value);
// CURLMOPT_SOCKETDATA and CURLMOPT_TIMERDATA.
CURLMcode sparrow_multi_setopt_ptr(CURLM *_Nonnull multi, CURLMoption option, void *_Nullable value);
CURLMcode sparrow_multi_setopt_socket_callback(CURLM *_Nonnull multi, curl_socket_callback _Nullable callback);
CURLMcode sparrow_multi_setopt_timer_callback(CURLM *_Nonnull multi, curl_multi_timer_callback _Nullable callback);

// CURLMsg holds a union Swift cannot read; this is the part a transfer loop needs.
typedef struct {
    CURL *_Nullable easy;
    CURLcode result;
    int done;
} sparrow_multi_message;
sparrow_multi_message sparrow_multi_info_read(CURLM *_Nonnull multi, int *_Nonnull remaining);

// Names the calling thread (top -H, perf): Swift's Glibc module leaves out pthread_setname_np, a GNU extension.
int sparrow_name_current_thread(const char *_Nonnull name);

static inline long sparrow_global_default(void) { return CURL_GLOBAL_DEFAULT; }
static inline curl_socket_t sparrow_socket_timeout(void) { return CURL_SOCKET_TIMEOUT; }
static inline int sparrow_prereq_ok(void) { return CURL_PREREQFUNC_OK; }
static inline int sparrow_prereq_abort(void) { return CURL_PREREQFUNC_ABORT; }
static inline const curl_version_info_data *_Nonnull sparrow_version_info(void) {
    return curl_version_info(CURLVERSION_NOW);
}

#endif
