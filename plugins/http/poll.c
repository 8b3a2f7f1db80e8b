/*
 * http.poll: fetch a URL every interval and turn each item of the response
 * into an event. Items are deduplicated by an id field (or a hash of the
 * item) through the store, so an item seen before never fires again; the
 * first poll only records what exists (unless emit_existing = true); a
 * cursor from the response can be remembered in the store and sent back;
 * pages are followed by a next-page path or a Link header.
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

enum sb_status http_poll_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool bad = false;
    if (sb->param_string(call, "cursor") && !sb->param_string(call, "cursor_param")) {
        sb->config_error(call, "cursor", "a remembered cursor needs cursor_param to send it");
        bad = true;
    }
    const char *url = sb->param_string(call, "url");
    if (url && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
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
        /* the next page: a Link header, or a URL or cursor in the body */
        char *next_url = link;
        struct json_object *nv =
            next_url ? NULL : http_json_path(sb, doc, sb->param_string(call, "next"));
        if (!next_url && sb->param_string(call, "next") && scalar(nv)) {
            const char *v = json_object_get_string(nv);
            if (strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0)
                next_url = strdup(v);
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
