#include "httpclient.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "build_config.h"
#include "call.h"
#include "loader.h"
#include "log.h"
#include "netpolicy.h"
#include "strbuf.h"
#include "xalloc.h"

#define RESPONSE_MAX (16 * 1024 * 1024)
#define DEFAULT_TIMEOUT_MS 30000

static pthread_key_t handle_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void handle_free(void *h)
{
    curl_easy_cleanup(h);
}

static void make_key(void)
{
    pthread_key_create(&handle_key, handle_free);
}

int httpclient_global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return error("cannot initialise libcurl");
    pthread_once(&key_once, make_key);
    return 0;
}

void httpclient_global_cleanup(void)
{
    CURL *h = pthread_getspecific(handle_key);
    if (h) {
        curl_easy_cleanup(h);
        pthread_setspecific(handle_key, NULL);
    }
    curl_global_cleanup();
}

/* This thread's easy handle: kept across requests so connections are
 * reused (curl keeps a connection cache per handle). */
static CURL *thread_handle(void)
{
    pthread_once(&key_once, make_key);
    CURL *h = pthread_getspecific(handle_key);
    if (!h) {
        h = curl_easy_init();
        pthread_setspecific(handle_key, h);
    } else {
        curl_easy_reset(h);
    }
    return h;
}

struct collect {
    struct strbuf body;
    struct sb_header *headers;
    size_t n_headers;
    size_t cap_headers;
    bool too_big;
};

static void clear_headers(struct collect *c)
{
    for (size_t i = 0; i < c->n_headers; i++) {
        free((char *)(uintptr_t)c->headers[i].name);
        free((char *)(uintptr_t)c->headers[i].value);
    }
    c->n_headers = 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct collect *c = arg;
    size_t n = size * nmemb;
    if (c->body.len + n > RESPONSE_MAX) {
        c->too_big = true;
        return 0;
    }
    strbuf_add(&c->body, data, n);
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct collect *c = arg;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or 100 Continue): start over */
        clear_headers(c);
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon)
        return n;
    size_t vstart = (size_t)(colon - data) + 1;
    size_t vend = n;
    while (vstart < vend && (data[vstart] == ' ' || data[vstart] == '\t'))
        vstart++;
    while (vend > vstart && (data[vend - 1] == '\r' || data[vend - 1] == '\n' ||
                             data[vend - 1] == ' ' || data[vend - 1] == '\t'))
        vend--;
    XGROW(c->headers, c->cap_headers, c->n_headers + 1);
    c->headers[c->n_headers].name = xstrndup(data, (size_t)(colon - data));
    c->headers[c->n_headers].value = xstrndup(data + vstart, vend - vstart);
    c->n_headers++;
    return n;
}

int64_t httpclient_parse_retry_after(const char *value, int64_t now)
{
    if (!value || !*value)
        return -1;
    char *end;
    long long s = strtoll(value, &end, 10);
    if (end != value && *end == '\0')
        return s < 0 ? 0 : s;
    time_t t = curl_getdate(value, NULL);
    if (t < 0)
        return -1;
    return t > now ? (int64_t)(t - now) : 0;
}

static bool is_secret_header(const char *name)
{
    static const char *const names[] = {"authorization",          "proxy-authorization", "cookie",
                                        "x-shopify-access-token", "x-api-key",           "api-key"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i]) == 0)
            return true;
    return false;
}

/* Replace every occurrence of `value` (at least 4 bytes) in sb by ****. */
static void mask_value(struct strbuf *sb, const char *value)
{
    size_t n = strlen(value);
    if (n < 4 || !sb->len)
        return;
    struct strbuf out = STRBUF_INIT;
    const char *p = sb->buf, *hit;
    while ((hit = strstr(p, value)) != NULL) {
        strbuf_add(&out, p, (size_t)(hit - p));
        strbuf_addstr(&out, "****");
        p = hit + n;
    }
    strbuf_addstr(&out, p);
    strbuf_release(sb);
    *sb = out;
}

/* Mask the rendered values of the call's SECRET and SENSITIVE parameters
 * (a sensitive template, such as a response URL, is no reference, so the
 * log's registry does not know it). */
static void mask_sensitive(const struct sb_call *call, struct strbuf *sb)
{
    if (!call->table || !call->params)
        return;
    for (size_t i = 0; i < call->table->n; i++) {
        const struct sb_param *p = &call->table->params[i];
        if (p->type != SB_PARAM_SECRET && !(p->flags & SB_PARAM_SENSITIVE))
            continue;
        struct json_object *v;
        if (!json_object_object_get_ex(call->params, p->name, &v) || !v)
            continue;
        if (json_object_is_type(v, json_type_string)) {
            mask_value(sb, json_object_get_string(v));
        } else if (json_object_is_type(v, json_type_object)) {
            json_object_object_foreach(v, key, entry)
            {
                (void)key;
                if (json_object_is_type(entry, json_type_string))
                    mask_value(sb, json_object_get_string(entry));
            }
        }
    }
}

/* Print the request a dry run would send, with secrets masked. */
static void print_dry_run(struct sb_call *call, const struct sb_http_request *req)
{
    struct strbuf sb = STRBUF_INIT;
    char *masked = xmalloc(strlen(req->url) * 2 + 64);
    log_redact(req->url, masked, strlen(req->url) * 2 + 64);
    strbuf_addf(&sb, "%s %s\n", req->method ? req->method : "GET", masked);
    free(masked);
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *v = req->headers[i].value ? req->headers[i].value : "";
        if (is_secret_header(req->headers[i].name)) {
            /* keep the scheme word ("Bearer", "Basic", "OAuth") for clarity */
            const char *sp = strchr(v, ' ');
            strbuf_addf(&sb, "%s: %.*s****\n", req->headers[i].name, sp ? (int)(sp - v + 1) : 0, v);
        } else {
            char buf[2048];
            log_redact(v, buf, sizeof(buf));
            strbuf_addf(&sb, "%s: %s\n", req->headers[i].name, buf);
        }
    }
    if (req->body && req->body_len) {
        char *body = xstrndup(req->body, req->body_len);
        size_t cap = req->body_len * 2 + 64;
        char *red = xmalloc(cap);
        log_redact(body, red, cap);
        strbuf_addf(&sb, "\n%s\n", red);
        free(red);
        free(body);
    }
    mask_sensitive(call, &sb);
    if (call->dry_out)
        strbuf_add(call->dry_out, sb.buf, sb.len);
    else
        fwrite(sb.buf, 1, sb.len, stdout);
    strbuf_release(&sb);
}

/* --- where requests may go ------------------------------------------------ */

static atomic_bool allow_private_networks;

void httpclient_set_allow_private_networks(bool allow)
{
    atomic_store(&allow_private_networks, allow);
}

/* The address check of one request whose host came from data. */
struct address_guard {
    bool refused;
    char why[256];
};

static void guard_refuse(struct address_guard *g, const char *ip, const char *kind)
{
    g->refused = true;
    snprintf(g->why, sizeof(g->why),
             "refused to connect to %s (%s address): this step's host comes from data "
             "(dynamic_host = true), and such addresses need [engine] allow_private_networks = "
             "true",
             ip, kind);
}

/* CURLOPT_OPENSOCKETFUNCTION: every new connection, on the address DNS
 * gave, before anything is sent to it. */
static curl_socket_t guarded_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct address_guard *g = arg;
    (void)purpose;
    const char *kind = netpolicy_special(&a->addr, a->addrlen);
    if (kind) {
        char ip[INET6_ADDRSTRLEN] = "?";
        if (a->family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)&a->addr)->sin_addr, ip,
                      sizeof(ip));
        else if (a->family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)&a->addr)->sin6_addr,
                      ip, sizeof(ip));
        guard_refuse(g, ip, kind);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

#if LIBCURL_VERSION_NUM >= 0x075000
/* CURLOPT_PREREQFUNCTION (curl 7.80): before each request, also on a
 * connection kept alive from an earlier request that was not checked. */
static int guarded_prereq(void *arg, char *primary_ip, char *local_ip, int primary_port,
                          int local_port)
{
    struct address_guard *g = arg;
    (void)local_ip, (void)primary_port, (void)local_port;
    const char *kind = netpolicy_special_text(primary_ip);
    if (kind) {
        guard_refuse(g, primary_ip, kind);
        return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
}
#endif

/* A step that set dynamic_host = true: its URLs' hosts may come from data. */
static bool call_has_dynamic_host(const struct sb_call *call)
{
    struct json_object *v;
    return call && call->kind == CALL_RUN && call->params &&
           json_object_object_get_ex(call->params, "dynamic_host", &v) &&
           json_object_get_boolean(v);
}

/*
 * What the client enforces about where a request goes, set on the handle
 * before each request (set or cleared, whatever the handle held before).
 * The path is sent as built: curl would otherwise resolve "/v1/users/../x"
 * to "/v1/x" itself, and a value that rendered to ".." would move the
 * request (templates and sb->url_encode also encode such values as
 * %2E%2E). For a step whose host comes from data, every address it
 * connects to is checked after DNS (see netpolicy.h), and no proxy is used
 * (the proxy's address is not the one that matters). `g` must outlive the
 * request.
 */
static void apply_outbound_policy(CURL *h, const struct sb_call *call, struct address_guard *g)
{
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    bool guarded = call_has_dynamic_host(call) && !atomic_load(&allow_private_networks);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, guarded ? guarded_socket : NULL);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, guarded ? g : NULL);
#if LIBCURL_VERSION_NUM >= 0x075000
    curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, guarded ? guarded_prereq : NULL);
    curl_easy_setopt(h, CURLOPT_PREREQDATA, guarded ? g : NULL);
#endif
    curl_easy_setopt(h, CURLOPT_PROXY, guarded ? "" : NULL);
}

int httpclient_host_request(struct sb_call *call, const struct sb_http_request *req,
                            struct sb_http_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    resp->size = sizeof(*resp);
    resp->retry_after_s = -1;
    resp->body = xstrdup("");
    if (!req || req->size < offsetof(struct sb_http_request, flags) || !req->url) {
        snprintf(resp->error, sizeof(resp->error),
                 "bad request descriptor (use SB_HTTP_REQUEST_INIT)");
        return SB_HTTP_ERROR;
    }
    if (call && call->dry_run) {
        print_dry_run(call, req);
        return SB_HTTP_DRY_RUN;
    }
    const char *method = req->method ? req->method : "GET";
    CURL *h = thread_handle();
    if (!h) {
        snprintf(resp->error, sizeof(resp->error), "cannot create an HTTP handle");
        return SB_HTTP_ERROR;
    }
    struct collect col = {0};
    struct curl_slist *hdrs = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    bool has_ua = false;
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *name = req->headers[i].name, *value = req->headers[i].value;
        if (!name || strpbrk(name, "\r\n:") || (value && strpbrk(value, "\r\n"))) {
            snprintf(resp->error, sizeof(resp->error), "header '%s' contains a line break or colon",
                     name ? name : "(null)");
            curl_slist_free_all(hdrs);
            return SB_HTTP_ERROR;
        }
        has_ua |= strcasecmp(name, "user-agent") == 0;
        char *line = value && *value ? xasprintf("%s: %s", name, value) : xasprintf("%s;", name);
        hdrs = curl_slist_append(hdrs, line);
        free(line);
    }
    if (!has_ua)
        hdrs = curl_slist_append(hdrs, "User-Agent: switchboard/" SB_VERSION);
    hdrs = curl_slist_append(hdrs, "Expect:");
    int64_t timeout = req->timeout_ms > 0            ? req->timeout_ms
                      : call && call->timeout_ms > 0 ? call->timeout_ms
                                                     : DEFAULT_TIMEOUT_MS;
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout < 10000 ? timeout : 10000));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &col);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &col);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    struct address_guard guard = {0};
    apply_outbound_policy(h, call, &guard);
    if (req->flags & SB_HTTP_FOLLOW_REDIRECTS) {
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    }
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (req->body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
            strcmp(method, "PATCH") == 0) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        }
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CURLcode rc = curl_easy_perform(h);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
    curl_slist_free_all(hdrs);
    char url[512];
    log_redact(req->url, url, sizeof(url));
    int result;
    if (rc != CURLE_OK) {
        if (guard.refused)
            snprintf(resp->error, sizeof(resp->error), "%s", guard.why);
        else if (col.too_big)
            snprintf(resp->error, sizeof(resp->error), "response larger than %d bytes",
                     RESPONSE_MAX);
        else
            snprintf(resp->error, sizeof(resp->error), "%s",
                     errbuf[0] ? errbuf : curl_easy_strerror(rc));
        char red[256];
        log_redact(resp->error, red, sizeof(red));
        snprintf(resp->error, sizeof(resp->error), "%s", red);
        log_write(SB_LOG_DEBUG, call ? call->context : NULL, "%s %s failed after %ld ms: %s",
                  method, url, ms, resp->error);
        clear_headers(&col);
        free(col.headers);
        strbuf_release(&col.body);
        return SB_HTTP_ERROR;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
    resp->headers = col.headers;
    resp->n_headers = col.n_headers;
    free(resp->body);
    resp->body_len = col.body.len;
    resp->body = strbuf_detach(&col.body, NULL);
    for (size_t i = 0; i < resp->n_headers; i++)
        if (strcasecmp(resp->headers[i].name, "retry-after") == 0)
            resp->retry_after_s =
                httpclient_parse_retry_after(resp->headers[i].value, (int64_t)time(NULL));
    log_write(SB_LOG_DEBUG, call ? call->context : NULL, "%s %s -> %ld (%ld ms)", method, url,
              status, ms);
    result = SB_HTTP_SENT;
    return result;
}

void httpclient_response_release(struct sb_http_response *resp)
{
    if (!resp)
        return;
    for (size_t i = 0; i < resp->n_headers; i++) {
        free((char *)(uintptr_t)resp->headers[i].name);
        free((char *)(uintptr_t)resp->headers[i].value);
    }
    free(resp->headers);
    free(resp->body);
    resp->headers = NULL;
    resp->n_headers = 0;
    resp->body = NULL;
    resp->body_len = 0;
}
