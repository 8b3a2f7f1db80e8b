/*
 * switchboard hooks for stripe.webhook: webhook endpoints
 * (/v1/webhook_endpoints) with the trigger's api_key.
 *   list        GET /v1/webhook_endpoints?limit=100, those whose url is ours;
 *   register    the same, then POST /v1/webhook_endpoints (url,
 *               enabled_events[] from `events` or *, description,
 *               api_version) when there is none. Stripe shows an endpoint's
 *               signing secret only in that answer: it is kept in the
 *               trigger state (STRIPE_SECRET_KEY), where receive finds it;
 *   unregister  DELETE /v1/webhook_endpoints/{id} for each one, and the
 *               stored secret is cleared.
 * An endpoint that exists but whose secret this engine never saw cannot
 * verify anything: register says so instead of calling it registered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "stripe.h"

/* A string member, or NULL. Borrowed. */
static const char *member(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* What we show of an endpoint (never its secret). Caller owns. */
static struct json_object *hook_json(struct json_object *e, bool created)
{
    struct json_object *o = json_object_new_object(), *v;
    if (!o)
        return NULL;
    const char *id = member(e, "id"), *url = member(e, "url"), *status = member(e, "status");
    json_object_object_add(o, "id", json_object_new_string(id ? id : ""));
    json_object_object_add(o, "url", json_object_new_string(url ? url : ""));
    if (json_object_object_get_ex(e, "enabled_events", &v) &&
        json_object_is_type(v, json_type_array))
        json_object_object_add(o, "events", json_object_get(v));
    if (status)
        json_object_object_add(o, "status", json_object_new_string(status));
    json_object_object_add(o, "created", json_object_new_boolean(created));
    return o;
}

static enum sb_status prepare(const struct sb_host *sb, struct sb_call *call,
                              const struct sb_hook_target *target)
{
    const char *key = sb->param_string(call, "api_key");
    if (!key || !*key)
        return sb->fail(call, "switchboard hooks needs api_key in [trigger] (a secret key, "
                              "sk_..., that may manage webhook endpoints)");
    if (!target->url)
        return sb->fail(call, "the endpoint's URL is unknown");
    return SB_OK;
}

/* The account's endpoints whose url is `url`, as hook_json objects (caller
 * owns) in *out. */
static enum sb_status matching(const struct sb_host *sb, struct sb_call *call, const char *url,
                               struct json_object **out)
{
    *out = NULL;
    struct json_object *page = NULL, *data;
    enum sb_status st =
        stripe_api_request(sb, call, "GET", "/v1/webhook_endpoints", "limit=100", &page);
    if (st != SB_OK)
        return st;
    if (!json_object_object_get_ex(page, "data", &data) ||
        !json_object_is_type(data, json_type_array)) {
        json_object_put(page);
        return sb->fail(call, "stripe GET /v1/webhook_endpoints: the answer has no data list");
    }
    struct json_object *list = json_object_new_array();
    for (size_t i = 0; list && i < json_object_array_length(data); i++) {
        struct json_object *e = json_object_array_get_idx(data, i);
        const char *u = member(e, "url");
        if (u && strcmp(u, url) == 0)
            json_object_array_add(list, hook_json(e, false));
    }
    json_object_put(page);
    if (!list)
        return sb->fail(call, "out of memory");
    *out = list;
    return SB_OK;
}

enum sb_status stripe_hooks_list(const struct sb_host *sb, struct sb_call *call,
                                 const struct sb_hook_target *target)
{
    struct json_object *list;
    enum sb_status st = prepare(sb, call, target);
    if (st == SB_OK)
        st = matching(sb, call, target->url, &list);
    if (st == SB_OK)
        sb->set_output(call, list);
    return st;
}

/* Whether a signing secret is known: the parameter, or one stored. */
static bool secret_known(const struct sb_host *sb, struct sb_call *call)
{
    const char *s = sb->param_string(call, "secret");
    if (s && *s)
        return true;
    char *stored = NULL;
    bool known = sb->kv_get(call, STRIPE_SECRET_KEY, &stored) == 0 && stored && *stored;
    sb->free(stored);
    return known;
}

/* The form of a new endpoint: url, enabled_events, description,
 * api_version. *form: caller frees. */
static enum sb_status endpoint_form(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_hook_target *target, char **form)
{
    struct json_object *events = sb->param_json(call, "events");
    struct json_object *params = json_object_new_object(), *enabled = json_object_new_array();
    if (!params || !enabled) {
        json_object_put(params);
        json_object_put(enabled);
        return sb->fail(call, "out of memory");
    }
    size_t n = events ? json_object_array_length(events) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *type = json_object_get_string(json_object_array_get_idx(events, i));
        /* Stripe takes exact types or "*", not patterns */
        if (strcmp(type, "*") != 0 && strpbrk(type, "*?[")) {
            json_object_put(params);
            json_object_put(enabled);
            return sb->fail(call,
                            "events: Stripe subscribes an endpoint to exact event types (or "
                            "all, *), not to the pattern '%s': list the types, or leave events "
                            "unset",
                            type);
        }
        json_object_array_add(enabled, json_object_new_string(type));
    }
    if (n == 0)
        json_object_array_add(enabled, json_object_new_string("*"));
    char description[300];
    snprintf(description, sizeof(description), "switchboard: %s", target->workflow);
    json_object_object_add(params, "url", json_object_new_string(target->url));
    json_object_object_add(params, "enabled_events", enabled);
    json_object_object_add(params, "description", json_object_new_string(description));
    const char *version = sb->param_string(call, "api_version");
    if (version && *version)
        json_object_object_add(params, "api_version", json_object_new_string(version));
    int rc = stripe_form_encode(sb, params, form);
    json_object_put(params);
    return rc == 0 ? SB_OK : sb->fail(call, "out of memory");
}

enum sb_status stripe_hooks_register(const struct sb_host *sb, struct sb_call *call,
                                     const struct sb_hook_target *target)
{
    struct json_object *list = NULL, *made = NULL;
    char *form = NULL;
    enum sb_status st = prepare(sb, call, target);
    if (st == SB_OK)
        st = matching(sb, call, target->url, &list);
    if (st != SB_OK)
        return st;
    if (json_object_array_length(list) > 0) {
        if (!secret_known(sb, call)) {
            const char *id = member(json_object_array_get_idx(list, 0), "id");
            st = sb->fail(call,
                          "Stripe already has endpoint %s for %s, but its signing secret is not "
                          "known here (Stripe shows it only when it creates one): set secret in "
                          "[trigger], or run switchboard hooks unregister and register again",
                          id ? id : "?", target->url);
            json_object_put(list); /* id was borrowed from it */
            return st;
        }
        sb->set_output(call, list);
        return SB_OK;
    }
    st = endpoint_form(sb, call, target, &form);
    if (st == SB_OK)
        st = stripe_api_request(sb, call, "POST", "/v1/webhook_endpoints", form, &made);
    free(form);
    if (st != SB_OK) {
        json_object_put(list);
        return st;
    }
    const char *secret = member(made, "secret"), *id = member(made, "id");
    if (!secret || !*secret || sb->kv_set(call, STRIPE_SECRET_KEY, secret) < 0) {
        st = sb->fail(call,
                      "created endpoint %s but could not keep its signing secret (%s): run "
                      "switchboard hooks unregister, then register again",
                      id ? id : "?", secret && *secret ? "the store failed" : "none came back");
        json_object_put(list);
        json_object_put(made);
        return st;
    }
    json_object_array_add(list, hook_json(made, true));
    json_object_put(made);
    sb->set_output(call, list);
    return SB_OK;
}

enum sb_status stripe_hooks_unregister(const struct sb_host *sb, struct sb_call *call,
                                       const struct sb_hook_target *target)
{
    struct json_object *list = NULL;
    enum sb_status st = prepare(sb, call, target);
    if (st == SB_OK)
        st = matching(sb, call, target->url, &list);
    if (st != SB_OK)
        return st;
    for (size_t i = 0; i < json_object_array_length(list) && st == SB_OK; i++) {
        const char *id = member(json_object_array_get_idx(list, i), "id");
        char seg[200], path[260];
        if (!id || sb->url_encode(id, strlen(id), seg, sizeof(seg)) < 0) {
            st = sb->fail(call, "Stripe listed an endpoint without a usable id");
            break;
        }
        snprintf(path, sizeof(path), "/v1/webhook_endpoints/%s", seg);
        struct json_object *answer = NULL;
        st = stripe_api_request(sb, call, "DELETE", path, NULL, &answer);
        json_object_put(answer);
    }
    /* the secret of a deleted endpoint verifies nothing any more */
    if (st == SB_OK && sb->kv_set(call, STRIPE_SECRET_KEY, "") < 0)
        st = sb->fail(call, "deleted, but could not clear the stored signing secret");
    if (st == SB_OK)
        sb->set_output(call, list);
    else
        json_object_put(list);
    return st;
}
