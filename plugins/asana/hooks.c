/*
 * switchboard hooks register|unregister|list for asana.webhook
 * (connectors.md 9.1 and 9.2).
 *
 * register opens a registration window in the trigger's kv
 * (registering_until, two minutes ahead), then POSTs /webhooks with the
 * resource and the target URL. While that call is open Asana sends the
 * X-Hook-Secret handshake to the running engine, whose receive stores the
 * secret in the same kv (it may replace an older one only inside the
 * window). Asana answers 201 only after the handshake succeeded; the
 * webhook's gid is kept for unregister and list, and the window closed.
 * A webhook that register made before and that still calls the URL is
 * reported instead of made again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "asana.h"

#define WINDOW_MS (2 * 60 * 1000)
#define MAX_PATH 512

static const char *string_at(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* One webhook as `switchboard hooks` shows it: id, url, resource, active
 * (and created, when `created` is 0 or 1). Caller owns. */
static struct json_object *hook_row(struct json_object *data, int created)
{
    struct json_object *row = json_object_new_object(), *resource, *v;
    if (!row)
        return NULL;
    const char *gid = string_at(data, "gid");
    const char *target = string_at(data, "target");
    json_object_object_add(row, "id", json_object_new_string(gid ? gid : ""));
    json_object_object_add(row, "url", json_object_new_string(target ? target : ""));
    if (json_object_object_get_ex(data, "resource", &resource)) {
        const char *r = string_at(resource, "gid");
        if (r)
            json_object_object_add(row, "resource", json_object_new_string(r));
    }
    if (json_object_object_get_ex(data, "active", &v))
        json_object_object_add(row, "active", json_object_new_boolean(json_object_get_boolean(v)));
    if (created >= 0)
        json_object_object_add(row, "created", json_object_new_boolean(created));
    return row;
}

/* The gid register stored (caller frees), or NULL. */
static char *stored_gid(const struct sb_host *sb, struct sb_call *call)
{
    char *v = NULL;
    if (sb->kv_get(call, ASANA_KV_WEBHOOK, &v) < 0 || !v)
        return NULL;
    char *gid = *v ? strdup(v) : NULL;
    sb->free(v);
    return gid;
}

/* GET /webhooks/{gid}: SB_OK with *data (caller owns; NULL when Asana no
 * longer has it), or the failure. */
static enum sb_status get_webhook(const struct sb_host *sb, struct sb_call *call, const char *gid,
                                  struct json_object **data)
{
    *data = NULL;
    char path[MAX_PATH];
    snprintf(path, sizeof(path), "/webhooks/%.64s", gid);
    struct json_object *answer = NULL;
    long status = 0;
    enum sb_status st =
        asana_call_ex(sb, call, "get webhook", "GET", path, NULL, true, &answer, &status);
    if (st == SB_OK && answer) {
        struct json_object *d = asana_data(answer);
        *data = d ? json_object_get(d) : NULL;
    }
    json_object_put(answer);
    return st;
}

/* The token and resource register needs, or a sentence why not. */
static enum sb_status need(const struct sb_host *sb, struct sb_call *call, const char *param,
                           const char *why)
{
    const char *v = sb->param_string(call, param);
    if (v && *v)
        return SB_OK;
    return sb->fail(call, "asana.webhook needs %s for switchboard hooks: %s", param, why);
}

/* The URL Asana must call, or a sentence saying how to give it. */
static enum sb_status need_url(const struct sb_host *sb, struct sb_call *call,
                               const struct sb_hook_target *target)
{
    if (target->url && *target->url)
        return SB_OK;
    return sb->fail(call, "asana.webhook needs the URL Asana calls: set [server] public_url, or "
                          "public_url in the [trigger]");
}

enum sb_status asana_register_hook(const struct sb_host *sb, struct sb_call *call,
                                   const struct sb_hook_target *target)
{
    enum sb_status st = need_url(sb, call, target);
    if (st == SB_OK)
        st = need(sb, call, "token", "a personal access token");
    if (st == SB_OK)
        st = need(sb, call, "resource", "the gid of the project (or task) to watch");
    if (st != SB_OK)
        return st;
    struct json_object *rows = json_object_new_array();
    if (!rows)
        return sb->fail(call, "out of memory");
    /* made before and still there: report it, make nothing */
    char *gid = stored_gid(sb, call);
    if (gid) {
        struct json_object *data = NULL;
        st = get_webhook(sb, call, gid, &data);
        free(gid);
        const char *url = string_at(data, "target");
        if (st == SB_OK && data && url && strcmp(url, target->url) == 0) {
            json_object_array_add(rows, hook_row(data, 0));
            json_object_put(data);
            sb->set_output(call, rows);
            return SB_OK;
        }
        json_object_put(data);
        if (st != SB_OK) {
            json_object_put(rows);
            return st;
        }
    }
    char until[32];
    snprintf(until, sizeof(until), "%lld", (long long)(sb->now_ms(call) + WINDOW_MS));
    if (sb->kv_set(call, ASANA_KV_REGISTERING, until) < 0) {
        json_object_put(rows);
        return sb->fail(call, "cannot write to the store: the handshake could not be accepted");
    }
    struct json_object *data = json_object_new_object(), *body = json_object_new_object();
    json_object_object_add(data, "resource",
                           json_object_new_string(sb->param_string(call, "resource")));
    json_object_object_add(data, "target", json_object_new_string(target->url));
    json_object_object_add(body, "data", data);
    struct json_object *answer = NULL;
    /* Asana sends the handshake to target->url before this call returns */
    st = asana_call(sb, call, "create webhook", "POST", "/webhooks", body, &answer, NULL);
    json_object_put(body);
    sb->kv_set(call, ASANA_KV_REGISTERING, "0");
    struct json_object *made = asana_data(answer);
    const char *new_gid = string_at(made, "gid");
    if (st == SB_OK && !new_gid)
        st = sb->fail(call, "create webhook: Asana's answer has no data.gid");
    if (st == SB_OK && sb->kv_set(call, ASANA_KV_WEBHOOK, new_gid) < 0)
        sb->log(call, SB_LOG_WARN,
                "webhook %s made, but its id could not be stored: unregister will not find it",
                new_gid);
    if (st == SB_OK)
        json_object_array_add(rows, hook_row(made, 1));
    json_object_put(answer);
    if (st != SB_OK) {
        json_object_put(rows);
        return st;
    }
    sb->set_output(call, rows);
    return SB_OK;
}

/* The webhooks that call target->url: with `workspace`, every one Asana
 * lists there (for the resource, when given); else the one register made.
 * SB_OK with *rows (caller owns; data objects), or the failure. */
static enum sb_status find_hooks(const struct sb_host *sb, struct sb_call *call,
                                 const struct sb_hook_target *target, struct json_object **rows)
{
    *rows = json_object_new_array();
    if (!*rows)
        return sb->fail(call, "out of memory");
    enum sb_status st = need_url(sb, call, target);
    if (st == SB_OK)
        st = need(sb, call, "token", "a personal access token");
    if (st != SB_OK)
        return st;
    const char *workspace = sb->param_string(call, "workspace");
    if (workspace && *workspace) {
        const char *resource = sb->param_string(call, "resource");
        char path[MAX_PATH], w[200], r[200] = "";
        sb->url_encode(workspace, strnlen(workspace, 60), w, sizeof(w));
        if (resource && *resource)
            sb->url_encode(resource, strnlen(resource, 60), r, sizeof(r));
        snprintf(path, sizeof(path), "/webhooks?workspace=%s%s%s&limit=100", w,
                 *r ? "&resource=" : "", r);
        struct json_object *answer = NULL;
        st = asana_call(sb, call, "list webhooks", "GET", path, NULL, &answer, NULL);
        struct json_object *list = asana_data(answer);
        for (size_t i = 0; st == SB_OK && list && json_object_is_type(list, json_type_array) &&
                           i < json_object_array_length(list);
             i++) {
            struct json_object *d = json_object_array_get_idx(list, i);
            const char *url = string_at(d, "target");
            if (url && strcmp(url, target->url) == 0)
                json_object_array_add(*rows, json_object_get(d));
        }
        json_object_put(answer);
        return st;
    }
    char *gid = stored_gid(sb, call);
    if (!gid)
        return SB_OK;
    struct json_object *data = NULL;
    st = get_webhook(sb, call, gid, &data);
    free(gid);
    if (st == SB_OK && data)
        json_object_array_add(*rows, data);
    else
        json_object_put(data);
    return st;
}

enum sb_status asana_list_hooks(const struct sb_host *sb, struct sb_call *call,
                                const struct sb_hook_target *target)
{
    struct json_object *found = NULL;
    enum sb_status st = find_hooks(sb, call, target, &found);
    struct json_object *rows = json_object_new_array();
    for (size_t i = 0; st == SB_OK && rows && i < json_object_array_length(found); i++)
        json_object_array_add(rows, hook_row(json_object_array_get_idx(found, i), -1));
    json_object_put(found);
    if (st != SB_OK || !rows) {
        json_object_put(rows);
        return st != SB_OK ? st : sb->fail(call, "out of memory");
    }
    sb->set_output(call, rows);
    return SB_OK;
}

enum sb_status asana_unregister_hook(const struct sb_host *sb, struct sb_call *call,
                                     const struct sb_hook_target *target)
{
    struct json_object *found = NULL;
    enum sb_status st = find_hooks(sb, call, target, &found);
    struct json_object *rows = json_object_new_array();
    for (size_t i = 0; st == SB_OK && rows && i < json_object_array_length(found); i++) {
        struct json_object *d = json_object_array_get_idx(found, i);
        char path[MAX_PATH];
        snprintf(path, sizeof(path), "/webhooks/%.64s", string_at(d, "gid"));
        struct json_object *answer = NULL;
        long status = 0;
        st =
            asana_call_ex(sb, call, "delete webhook", "DELETE", path, NULL, true, &answer, &status);
        json_object_put(answer);
        if (st == SB_OK && status != 404)
            json_object_array_add(rows, hook_row(d, -1));
    }
    json_object_put(found);
    if (st != SB_OK || !rows) {
        json_object_put(rows);
        return st != SB_OK ? st : sb->fail(call, "out of memory");
    }
    /* the webhook and its secret are gone: the next handshake is a first one */
    if (json_object_array_length(rows) > 0 &&
        (sb->kv_set(call, ASANA_KV_WEBHOOK, "") < 0 || sb->kv_set(call, ASANA_KV_SECRET, "") < 0))
        sb->log(call, SB_LOG_WARN, "the webhook is deleted, but the store could not forget it");
    sb->set_output(call, rows);
    return SB_OK;
}
