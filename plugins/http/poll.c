/*
 * http.poll: fetch a URL every interval and turn each item of the response
 * into an event. Items are deduplicated by an id field (or a hash of the
 * item) through the store, so an item seen before never fires again; the
 * first poll only records what exists (unless emit_existing = true); a
 * cursor from the response can be remembered in the store and sent back;
 * pages are followed by a next-page path or a Link header, and only on the
 * origin (scheme, host, port) the poll started from, so the poll's headers
 * never go to an address a response chose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "http.h"

#define MAX_HEADERS 64

static const char *const poll_methods[] = {"GET", "POST", NULL};

const struct sb_param http_poll_params[] = {
    {.name = "url",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED,
     .help = "the URL to fetch"},
    {.name = "method",
     .type = SB_PARAM_ENUM,
     .def = "GET",
     .values = poll_methods,
     .help = "GET, or POST with body"},
    {.name = "header",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_MULTI,
     .help = "request headers, one line each (secrets by reference): header.Authorization = "
             "Bearer ${env:TOKEN}"},
    {.name = "body", .type = SB_PARAM_STRING, .help = "a JSON body for POST"},
    {.name = "interval",
     .type = SB_PARAM_DURATION,
     .def = "1m",
     .min = 1000,
     .max = 86400000,
     .help = "time between polls (failures back off, up to 5 minutes)"},
    {.name = "timeout",
     .type = SB_PARAM_DURATION,
     .def = "30s",
     .min = 100,
     .max = 600000,
     .help = "time limit of each request"},
    {.name = "items",
     .type = SB_PARAM_STRING,
     .help = "dotted path of the array of items in the response (empty: the response is the "
             "array), e.g. data or result.items"},
    {.name = "id",
     .type = SB_PARAM_STRING,
     .help = "dotted path of an item's id, which deduplicates it (default: a hash of the item)"},
    {.name = "type",
     .type = SB_PARAM_STRING,
     .help = "dotted path of an item's event type (default: http.poll.item)"},
    {.name = "emit_existing",
     .type = SB_PARAM_BOOL,
     .def = "false",
     .help = "fire for the items found by the very first poll (default: only record them)"},
    {.name = "cursor",
     .type = SB_PARAM_STRING,
     .help = "dotted path of a value in the response to remember (in the store) and send back "
             "on the next poll, e.g. next_since"},
    {.name = "cursor_param",
     .type = SB_PARAM_STRING,
     .help = "the query parameter that sends the remembered cursor, e.g. since"},
    {.name = "next",
     .type = SB_PARAM_STRING,
     .help = "dotted path of the next page in the response: a URL, or a value sent in "
             "page_param"},
    {.name = "page_param",
     .type = SB_PARAM_STRING,
     .help = "the query parameter that asks for the page named by `next`"},
    {.name = "link_header",
     .type = SB_PARAM_BOOL,
     .def = "false",
     .help = "follow Link: <...>; rel=\"next\" headers to further pages"},
    {.name = "max_pages",
     .type = SB_PARAM_INT,
     .def = "10",
     .min = 1,
     .max = 1000,
     .help = "pages fetched at most per poll"},
    {.name = "events",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_EVENT_TYPES,
     .help = "only these item types start this workflow (globs)"},
    SB_END,
};

static bool scalar(struct json_object *v)
{
    return v && !json_object_is_type(v, json_type_object) &&
           !json_object_is_type(v, json_type_array) && !json_object_is_type(v, json_type_null);
}

/* url + ("?" or "&") + name=value, percent-encoded. Caller frees. */
static char *with_param(const struct sb_host *sb, const char *url, const char *name,
                        const char *value)
{
    size_t cap = strlen(url) + 3 * (strlen(name) + strlen(value)) + 4;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    int n = snprintf(out, cap, "%s%c", url, strchr(url, '?') ? '&' : '?');
    int k = sb->url_encode(name, strlen(name), out + n, cap - (size_t)n);
    n += k > 0 ? k : 0;
    out[n++] = '=';
    sb->url_encode(value, strlen(value), out + n, cap - (size_t)n);
    return out;
}

/* The URL of rel="next" in a Link header, or NULL. Caller frees. */
static char *link_next(const char *link)
{
    const char *p = link;
    while (p && *p) {
        const char *lt = strchr(p, '<');
        const char *gt = lt ? strchr(lt, '>') : NULL;
        if (!gt)
            return NULL;
        const char *end = strchr(gt, ',');
        size_t params = end ? (size_t)(end - gt) : strlen(gt);
        char buf[256];
        snprintf(buf, sizeof(buf), "%.*s", (int)(params < 255 ? params : 255), gt);
        if (strstr(buf, "rel=\"next\"") || strstr(buf, "rel=next"))
            return strndup(lt + 1, (size_t)(gt - lt - 1));
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

/* --- next pages: only on the origin the poll started from ------------------ */

/*
 * The origin of an absolute http(s) URL, "scheme://host:port" (scheme and
 * host lower-case, the default port written out), into out; -1 when the
 * URL is not absolute http(s), or its authority holds userinfo or a
 * backslash (which parsers disagree about).
 */
static int url_origin(const char *url, char *out, size_t outlen)
{
    const char *scheme;
    const char *p;
    if (strncasecmp(url, "https://", 8) == 0) {
        scheme = "https";
        p = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        scheme = "http";
        p = url + 7;
    } else {
        return -1;
    }
    size_t alen = strcspn(p, "/?#");
    if (alen == 0 || memchr(p, '@', alen) || memchr(p, '\\', alen))
        return -1;
    const char *host = p, *port = NULL;
    size_t hlen;
    if (*p == '[') {
        const char *close = memchr(p, ']', alen);
        if (!close)
            return -1;
        hlen = (size_t)(close - p) + 1;
        if (hlen < alen) {
            if (p[hlen] != ':')
                return -1;
            port = p + hlen + 1;
        }
    } else {
        const char *colon = memchr(p, ':', alen);
        hlen = colon ? (size_t)(colon - p) : alen;
        port = colon ? colon + 1 : NULL;
    }
    size_t plen = port ? alen - (size_t)(port - p) : 0;
    if (hlen == 0 || plen > 5)
        return -1;
    for (size_t i = 0; i < plen; i++)
        if (port[i] < '0' || port[i] > '9')
            return -1;
    int n = snprintf(out, outlen, "%s://", scheme);
    for (size_t i = 0; i < hlen && (size_t)n + 1 < outlen; i++) {
        char c = host[i];
        out[n++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = '\0';
    long num = plen ? strtol(port, NULL, 10) : strcmp(scheme, "https") == 0 ? 443 : 80;
    int k = snprintf(out + n, outlen - (size_t)n, ":%ld", num);
    return k < 0 || (size_t)k >= outlen - (size_t)n ? -1 : 0;
}

/*
 * The next page `next` (absolute, or relative to `current` as a Link header
 * may give it) as an absolute URL, when it is on `origin`; NULL otherwise
 * (logged), so the poll's headers, its credentials, go nowhere else.
 * Caller frees.
 */
static char *same_origin_next(const struct sb_host *sb, struct sb_call *call, const char *origin,
                              const char *current, const char *next)
{
    char *url = NULL;
    if (strncmp(next, "//", 2) == 0) {
        const char *colon = strchr(current, ':');
        size_t slen = colon ? (size_t)(colon - current) : 0;
        url = malloc(slen + 1 + strlen(next) + 1);
        if (url)
            snprintf(url, slen + 1 + strlen(next) + 1, "%.*s:%s", (int)slen, current, next);
    } else if (next[0] == '/') {
        url = malloc(strlen(origin) + strlen(next) + 1);
        if (url)
            snprintf(url, strlen(origin) + strlen(next) + 1, "%s%s", origin, next);
    } else {
        url = strdup(next);
    }
    if (!url)
        return NULL;
    char there[300];
    if (url_origin(url, there, sizeof(there)) < 0 || strcmp(there, origin) != 0) {
        sb->log(call, SB_LOG_WARN,
                "not following a next page outside %s (it points to %s): paging stops here", origin,
                url_origin(url, there, sizeof(there)) < 0 ? "an unusable address" : there);
        free(url);
        return NULL;
    }
    return url;
}

enum sb_status http_poll_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool bad = false;
    if (sb->param_string(call, "cursor") && !sb->param_string(call, "cursor_param")) {
        sb->config_error(call, "cursor", "a remembered cursor needs cursor_param to send it");
        bad = true;
    }
    const char *url = sb->param_string(call, "url");
    char origin[300];
    if (url && url_origin(url, origin, sizeof(origin)) < 0) {
        sb->config_error(call, "url", "'%s' is not an http:// or https:// URL", url);
        bad = true;
    }
    static const char *const paths[] = {"items", "id", "type", "cursor", "next"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        bad |= http_check_path(sb, call, paths[i]) != SB_OK;
    return bad ? SB_FAIL : SB_OK;
}

/* An item's dedupe id: the id field, or a hash of the item. */
static void item_id(const struct sb_host *sb, struct json_object *item, const char *path, char *out,
                    size_t outlen)
{
    struct json_object *v = path ? http_json_path(sb, item, path) : NULL;
    if (scalar(v)) {
        snprintf(out, outlen, "%s", json_object_get_string(v));
        return;
    }
    const char *text = json_object_to_json_string_ext(item, JSON_C_TO_STRING_PLAIN);
    unsigned char d[SB_HASH_MAX_SIZE];
    struct sb_bytes part = {text, strlen(text)};
    int n = sb->digest(SB_HASH_SHA256, &part, 1, d);
    char hex[65] = "";
    sb->hex_encode(d, n > 0 ? (size_t)n : 0, hex, sizeof(hex));
    snprintf(out, outlen, "sha256:%.40s", hex);
}

enum sb_status http_poll_poll(const struct sb_host *sb, struct sb_call *call)
{
    char *initialized = NULL, *cursor = NULL;
    if (sb->kv_get(call, "initialized", &initialized) < 0 ||
        sb->kv_get(call, "cursor", &cursor) < 0)
        return sb->retry(call, -1, "the store is unavailable");
    bool first = initialized == NULL;
    sb->free(initialized);
    bool emit_existing = sb->param_bool(call, "emit_existing", false);
    const char *cursor_param = sb->param_string(call, "cursor_param");
    const char *base = sb->param_string(call, "url");
    char origin[300] = "";
    if (url_origin(base, origin, sizeof(origin)) < 0) {
        sb->free(cursor);
        return sb->fail(call, "'%s' is not an http:// or https:// URL", base);
    }
    char *url = cursor && cursor_param ? with_param(sb, base, cursor_param, cursor) : strdup(base);
    sb->free(cursor);
    struct sb_header headers[MAX_HEADERS + 1];
    size_t nh = 0;
    struct json_object *hmap = sb->param_json(call, "header");
    if (hmap && json_object_is_type(hmap, json_type_object)) {
        json_object_object_foreach(hmap, k, v)
        {
            if (nh < MAX_HEADERS)
                headers[nh++] = (struct sb_header){k, json_object_get_string(v)};
        }
    }
    const char *body = sb->param_string(call, "body");
    if (body)
        headers[nh++] = (struct sb_header){"Content-Type", "application/json"};
    const char *method = sb->param_string(call, "method");
    int64_t max_pages = sb->param_int(call, "max_pages", 10);
    char *new_cursor = NULL;
    size_t fresh = 0, items_seen = 0;
    enum sb_status st = SB_OK;
    for (int64_t page = 0; url && page < max_pages; page++) {
        struct sb_http_request req = SB_HTTP_REQUEST_INIT;
        req.method = method;
        req.url = url;
        req.headers = headers;
        req.n_headers = nh;
        req.body = body;
        req.body_len = body ? strlen(body) : 0;
        req.timeout_ms = sb->param_int(call, "timeout", 30000);
        struct sb_http_response resp;
        int rc = sb->http(call, &req, &resp);
        if (rc != SB_HTTP_SENT) {
            st = rc == SB_HTTP_DRY_RUN ? SB_OK : sb->retry(call, -1, "GET failed: %s", resp.error);
            sb->http_release(&resp);
            break;
        }
        if (resp.status < 200 || resp.status >= 300) {
            st = sb->retry(call, resp.retry_after_s, "HTTP %ld from the polled URL: %.200s",
                           resp.status, resp.body);
            sb->http_release(&resp);
            break;
        }
        struct json_object *doc = json_tokener_parse(resp.body);
        char *link = NULL;
        if (sb->param_bool(call, "link_header", false) && sb->http_header(&resp, "Link"))
            link = link_next(sb->http_header(&resp, "Link"));
        sb->http_release(&resp);
        if (!doc) {
            free(link);
            st = sb->retry(call, -1, "the response is not JSON");
            break;
        }
        struct json_object *arr = http_json_path(sb, doc, sb->param_string(call, "items"));
        if (!arr || !json_object_is_type(arr, json_type_array)) {
            json_object_put(doc);
            free(link);
            st = sb->fail(call, "no array at items path '%s' in the response",
                          sb->param_string(call, "items") ? sb->param_string(call, "items") : "");
            break;
        }
        const char *id_path = sb->param_string(call, "id");
        const char *type_path = sb->param_string(call, "type");
        for (size_t i = 0; i < json_object_array_length(arr) && st == SB_OK; i++) {
            struct json_object *item = json_object_array_get_idx(arr, i);
            char id[256], type[128] = "http.poll.item";
            item_id(sb, item, id_path, id, sizeof(id));
            struct json_object *tv = type_path ? http_json_path(sb, item, type_path) : NULL;
            if (scalar(tv))
                snprintf(type, sizeof(type), "%s", json_object_get_string(tv));
            struct sb_event ev = SB_EVENT_INIT;
            ev.id = id;
            ev.type = type;
            ev.payload = json_object_get(item);
            ev.record_only = first && !emit_existing;
            st = sb->emit(call, &ev);
            items_seen++;
            fresh += !ev.record_only;
        }
        const char *cpath = sb->param_string(call, "cursor");
        struct json_object *cv = cpath ? http_json_path(sb, doc, cpath) : NULL;
        if (scalar(cv)) {
            free(new_cursor);
            new_cursor = strdup(json_object_get_string(cv));
        }
        /* the next page: a Link header, or a URL or cursor in the body;
         * a URL only while it stays on the origin the poll started from */
        char *next_url = NULL;
        if (link) {
            next_url = same_origin_next(sb, call, origin, url, link);
            free(link);
        } else if (sb->param_string(call, "next")) {
            struct json_object *nv = http_json_path(sb, doc, sb->param_string(call, "next"));
            const char *v = scalar(nv) ? json_object_get_string(nv) : "";
            if (strncasecmp(v, "http://", 7) == 0 || strncasecmp(v, "https://", 8) == 0)
                next_url = same_origin_next(sb, call, origin, url, v);
            else if (sb->param_string(call, "page_param") && *v)
                next_url = with_param(sb, base, sb->param_string(call, "page_param"), v);
        }
        json_object_put(doc);
        free(url);
        url = next_url;
    }
    free(url);
    if (st == SB_OK) {
        if (first && (sb->kv_set(call, "initialized", "1") < 0))
            st = sb->retry(call, -1, "the store is unavailable");
        if (new_cursor && sb->kv_set(call, "cursor", new_cursor) < 0)
            st = sb->retry(call, -1, "the store is unavailable");
        if (first)
            sb->log(call, SB_LOG_INFO, "first poll: recorded %zu existing item(s)%s", items_seen,
                    emit_existing ? " and fired them" : " without firing");
    }
    (void)fresh;
    free(new_cursor);
    return st;
}
