#include <curl/curl.h>
// The transfer loop waits on libcurl's sockets with epoll and is woken through an eventfd.
#include <sys/epoll.h>
#include <sys/eventfd.h>
