/*
 * switchboard hooks for trello.webhook (connectors.md 4.1): the webhook
 * belongs to the token, watches one model (id_model) and calls the
 * callback URL, which Trello checks with a HEAD before creating it.
 *   list        GET /1/tokens/{token}/webhooks, those calling our URL;
 *   register    the same, then POST /1/webhooks {callbackURL, idModel,
 *               description, active} when none watches id_model yet;
 *   unregister  DELETE /1/webhooks/{id} for each one calling our URL.
 * Every call goes through trello_call, so the key and token travel in the
 * Authorization header as for the actions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "trello.h"

/* A string member, or NULL. Borrowed. */
static const char *member(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* What we show of a Trello webhook. Caller owns. */
static struct json_object *hook_json(struct json_object *w, bool created)
{
    struct json_object *o = json_object_new_object(), *v;
    if (!o)
        return NULL;
    const char *id = member(w, "id"), *url = member(w, "callbackURL"),
               *model = member(w, "idModel");
    json_object_object_add(o, "id", json_object_new_string(id ? id : ""));
    json_object_object_add(o, "url", json_object_new_string(url ? url : ""));
    json_object_object_add(o, "model", json_object_new_string(model ? model : ""));
    if (json_object_object_get_ex(w, "active", &v))
        json_object_object_add(o, "active", json_object_new_boolean(json_object_get_boolean(v)));
    json_object_object_add(o, "created", json_object_new_boolean(created));
    return o;
}

/* The URL, key and token a hooks command needs; SB_OK or sb->fail. */
static enum sb_status prepare(const struct sb_host *sb, struct sb_call *call, const char **url)
{
    *url = trello_callback_url(sb, call);
    if (!*url)
        return sb->fail(call, "the callback URL is unknown: set callback_url or [server] "
                              "public_url");
    const char *key = sb->param_string(call, "key"), *token = sb->param_string(call, "token");
    if (!key || !*key || !token || !*token)
        return sb->fail(call, "switchboard hooks needs key and token in [trigger] (the API key "
                              "and a token for it: the webhook belongs to the token)");
    return SB_OK;
}

/*
 * The token's webhooks that call `url` (and watch `model`, when not NULL),
 * as an array of hook_json objects (caller owns) in *out. SB_OK or the
 * failure of the call.
 */
static enum sb_status matching(const struct sb_host *sb, struct sb_call *call, const char *url,
                               const char *model, struct json_object **out)
{
    *out = NULL;
    const char *token = sb->param_string(call, "token");
    char seg[512], path[600];
    if (sb->url_encode(token, strlen(token), seg, sizeof(seg)) < 0)
        return sb->fail(call, "the token is too long");
    snprintf(path, sizeof(path), "/1/tokens/%s/webhooks", seg);
    struct json_object *all = NULL;
    enum sb_status st = trello_call(sb, call, "list webhooks", "GET", path, NULL, &all, NULL);
    if (st != SB_OK)
        return st;
    if (!json_object_is_type(all, json_type_array)) {
        json_object_put(all);
        return sb->fail(call, "list webhooks: Trello's answer is not a list");
    }
    struct json_object *list = json_object_new_array();
    for (size_t i = 0; list && i < json_object_array_length(all); i++) {
        struct json_object *w = json_object_array_get_idx(all, i);
        const char *cb = member(w, "callbackURL"), *m = member(w, "idModel");
        if (cb && strcmp(cb, url) == 0 && (!model || (m && strcmp(m, model) == 0)))
            json_object_array_add(list, hook_json(w, false));
    }
    json_object_put(all);
    if (!list)
        return sb->fail(call, "out of memory");
    *out = list;
    return SB_OK;
}

enum sb_status trello_hooks_list(const struct sb_host *sb, struct sb_call *call,
                                 const struct sb_hook_target *target)
{
    (void)target;
    const char *url;
    struct json_object *list;
    enum sb_status st = prepare(sb, call, &url);
    if (st == SB_OK)
        st = matching(sb, call, url, NULL, &list);
    if (st == SB_OK)
        sb->set_output(call, list);
    return st;
}

enum sb_status trello_hooks_register(const struct sb_host *sb, struct sb_call *call,
                                     const struct sb_hook_target *target)
{
    const char *url, *model = sb->param_string(call, "id_model");
    enum sb_status st = prepare(sb, call, &url);
    if (st != SB_OK)
        return st;
    if (!model || !*model)
        return sb->fail(call, "switchboard hooks register needs id_model in [trigger]: the id of "
                              "the board (or list, card, member) to watch");
    struct json_object *list;
    st = matching(sb, call, url, model, &list);
    if (st != SB_OK)
        return st;
    if (json_object_array_length(list) > 0) {
        sb->set_output(call, list); /* there already: Trello refuses a second */
        return SB_OK;
    }
    struct json_object *body = json_object_new_object(), *made = NULL;
    char description[300];
    snprintf(description, sizeof(description), "switchboard: %s", target->workflow);
    json_object_object_add(body, "callbackURL", json_object_new_string(url));
    json_object_object_add(body, "idModel", json_object_new_string(model));
    json_object_object_add(body, "description", json_object_new_string(description));
    json_object_object_add(body, "active", json_object_new_boolean(1));
    st = trello_call(sb, call, "create webhook", "POST", "/1/webhooks", body, &made, NULL);
    json_object_put(body);
    if (st == SB_OK) {
        json_object_array_add(list, hook_json(made, true));
        sb->set_output(call, list);
    } else {
        json_object_put(list);
    }
    json_object_put(made);
    return st;
}

enum sb_status trello_hooks_unregister(const struct sb_host *sb, struct sb_call *call,
                                       const struct sb_hook_target *target)
{
    (void)target;
    const char *url;
    struct json_object *list;
    enum sb_status st = prepare(sb, call, &url);
    if (st == SB_OK)
        st = matching(sb, call, url, NULL, &list);
    if (st != SB_OK)
        return st;
    for (size_t i = 0; i < json_object_array_length(list) && st == SB_OK; i++) {
        const char *id = member(json_object_array_get_idx(list, i), "id");
        char seg[200], path[260];
        if (!id || sb->url_encode(id, strlen(id), seg, sizeof(seg)) < 0) {
            st = sb->fail(call, "Trello listed a webhook without a usable id");
            break;
        }
        snprintf(path, sizeof(path), "/1/webhooks/%s", seg);
        struct json_object *answer = NULL;
        st = trello_call(sb, call, "delete webhook", "DELETE", path, NULL, &answer, NULL);
        json_object_put(answer);
    }
    if (st == SB_OK)
        sb->set_output(call, list);
    else
        json_object_put(list);
    return st;
}
