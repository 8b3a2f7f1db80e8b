/*
 * The Trello actions: create_card, add_comment, move_card and the generic
 * request. Bodies are built with json-c from the rendered parameters, so
 * payload text cannot break their structure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "trello.h"

#define MAX_PATH 1024

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", NULL};

const struct sb_param trello_create_card_params[] = {
    {.name = "id_list",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the id of the list the card goes into (sent as idList)"},
    {.name = "name",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "the card's title"},
    {.name = "desc",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "the card's description (Markdown)"},
    {.name = "pos",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "where in the list: top, bottom or a positive number"},
    {.name = "due",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "due date, ISO 8601 (2025-03-01T17:00:00Z)"},
    {.name = "id_labels",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_TEMPLATE,
     .help = "label ids to put on the card (sent as idLabels, comma-separated)"},
    {.name = "id_members",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_TEMPLATE,
     .help = "member ids to assign (sent as idMembers, comma-separated)"},
    TRELLO_COMMON_PARAMS,
    SB_END,
};

const struct sb_param trello_add_comment_params[] = {
    {.name = "card",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the card: its id, short link or URL (e.g. {{ steps.card.id }})"},
    {.name = "text",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the comment (Markdown)"},
    TRELLO_COMMON_PARAMS,
    SB_END,
};

const struct sb_param trello_move_card_params[] = {
    {.name = "card",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the card: its id, short link or URL (e.g. {{ event.action.data.card.id }})"},
    {.name = "id_list",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the id of the list to move it to (sent as idList)"},
    {.name = "pos",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "where in the new list: top, bottom or a positive number"},
    TRELLO_COMMON_PARAMS,
    SB_END,
};

const struct sb_param trello_request_params[] = {
    {.name = "method",
     .type = SB_PARAM_ENUM,
     .values = methods,
     .help = "default: POST when a body is given, else GET"},
    {.name = "path",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_URL,
     .help = "the endpoint under api_base, e.g. /1/boards/{{ event.model.id }}/lists (values "
             "are percent-encoded)"},
    {.name = "body",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_JSON,
     .help = "a JSON body; values inserted by templates are JSON-escaped"},
    TRELLO_COMMON_PARAMS,
    SB_END,
};

/* --- helpers ------------------------------------------------------------------ */

static bool has_template(const char *s)
{
    return s && strstr(s, "{{") != NULL;
}

/* pos as Trello takes it: "top", "bottom" or a positive number. Returns a
 * new JSON value (caller owns), or NULL if the text is none of these. */
static struct json_object *pos_value(const char *text)
{
    if (strcmp(text, "top") == 0 || strcmp(text, "bottom") == 0)
        return json_object_new_string(text);
    char *end;
    double d = strtod(text, &end);
    if (end == text || *end || !(d > 0) || d > 1e15)
        return NULL;
    /* the number as written, not as a double prints */
    return json_object_new_double_s(d, text);
}

/* Check a literal pos in validate (a template is checked when rendered). */
static bool check_pos(const struct sb_host *sb, struct sb_call *call)
{
    const char *pos = sb->param_string(call, "pos");
    if (!pos || has_template(pos))
        return true;
    struct json_object *v = pos_value(pos);
    if (v) {
        json_object_put(v);
        return true;
    }
    sb->config_error(call, "pos", "'%s' is not top, bottom or a positive number", pos);
    return false;
}

/* Add a string member; false when out of memory. */
static bool add_string(struct json_object *obj, const char *key, const char *value)
{
    struct json_object *v = json_object_new_string(value);
    return v && json_object_object_add(obj, key, v) == 0;
}

/* A LIST parameter as "a,b,c" into a new string member; true when unset. */
static bool add_joined(const struct sb_host *sb, struct sb_call *call, struct json_object *obj,
                       const char *param, const char *key)
{
    struct json_object *list = sb->param_json(call, param);
    if (!list || !json_object_is_type(list, json_type_array))
        return true;
    size_t n = json_object_array_length(list), cap = 1;
    for (size_t i = 0; i < n; i++)
        cap += strlen(json_object_get_string(json_object_array_get_idx(list, i))) + 1;
    char *joined = malloc(cap);
    if (!joined)
        return false;
    size_t len = 0;
    joined[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *s = json_object_get_string(json_object_array_get_idx(list, i));
        len += (size_t)snprintf(joined + len, cap - len, "%s%s", i ? "," : "", s);
    }
    bool ok = add_string(obj, key, joined);
    free(joined);
    return ok;
}

/* Set pos from the parameter into obj; SB_OK, or the failure. */
static enum sb_status add_pos(const struct sb_host *sb, struct sb_call *call,
                              struct json_object *obj)
{
    const char *pos = sb->param_string(call, "pos");
    if (!pos || !*pos)
        return SB_OK;
    struct json_object *v = pos_value(pos);
    if (!v)
        return sb->fail(call, "pos '%s' is not top, bottom or a positive number", pos);
    json_object_object_add(obj, "pos", v);
    return SB_OK;
}

/* The output of a dry run: the fields later steps read most, marked. */
static void dry_output(const struct sb_host *sb, struct sb_call *call, bool card)
{
    struct json_object *out = json_object_new_object();
    if (!out)
        return;
    json_object_object_add(out, "dry_run", json_object_new_boolean(1));
    if (card) {
        json_object_object_add(out, "id", json_object_new_string("dry-run"));
        json_object_object_add(out, "url", json_object_new_string("https://trello.com/c/dry-run"));
        json_object_object_add(out, "shortUrl",
                               json_object_new_string("https://trello.com/c/dry-run"));
    }
    sb->set_output(call, out);
}

/* Make sure a card answer has id, url and shortUrl (consumes card). */
static enum sb_status card_output(const struct sb_host *sb, struct sb_call *call, const char *what,
                                  struct json_object *card)
{
    struct json_object *v;
    if (!json_object_is_type(card, json_type_object) ||
        !json_object_object_get_ex(card, "id", &v) || !json_object_is_type(v, json_type_string)) {
        json_object_put(card);
        return sb->fail(call, "%s: Trello's answer has no card id", what);
    }
    /* the short link makes the short URL; either URL stands for the other */
    const char *link = NULL;
    if (json_object_object_get_ex(card, "shortLink", &v) &&
        json_object_is_type(v, json_type_string))
        link = json_object_get_string(v);
    if (!json_object_object_get_ex(card, "shortUrl", &v) && link) {
        char url[256];
        snprintf(url, sizeof(url), "https://trello.com/c/%s", link);
        json_object_object_add(card, "shortUrl", json_object_new_string(url));
    }
    struct json_object *url = NULL, *short_url = NULL;
    json_object_object_get_ex(card, "url", &url);
    json_object_object_get_ex(card, "shortUrl", &short_url);
    if (!url && short_url)
        json_object_object_add(card, "url", json_object_get(short_url));
    else if (url && !short_url)
        json_object_object_add(card, "shortUrl", json_object_get(url));
    else if (!url)
        sb->log(call, SB_LOG_WARN, "%s: Trello's answer has no url or shortUrl", what);
    sb->set_output(call, card);
    return SB_OK;
}

/* Add pos to body, send it, and make the card answer the output (the
 * dry-run output in a dry run). Consumes body. */
static enum sb_status send_card(const struct sb_host *sb, struct sb_call *call, const char *what,
                                const char *method, const char *path, struct json_object *body)
{
    enum sb_status st = add_pos(sb, call, body);
    struct json_object *card = NULL;
    if (st == SB_OK)
        st = trello_call(sb, call, what, method, path, body, &card, NULL);
    json_object_put(body);
    if (st != SB_OK)
        return st;
    if (!card) {
        dry_output(sb, call, true);
        return SB_OK;
    }
    return card_output(sb, call, what, card);
}

/* /1/cards/<card><suffix> into out; SB_OK or the failure. */
static enum sb_status card_path(const struct sb_host *sb, struct sb_call *call, const char *suffix,
                                char *out, size_t out_size)
{
    const char *card = sb->param_string(call, "card");
    char seg[3 * 128 + 1];
    if (!card || trello_card_segment(sb, card, seg, sizeof(seg)) < 0)
        return sb->fail(call, "card '%s' is not a card id, short link or card URL",
                        card ? card : "");
    snprintf(out, out_size, "/1/cards/%s%s", seg, suffix);
    return SB_OK;
}

/* --- create_card -------------------------------------------------------------- */

enum sb_status trello_create_card_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool ok = trello_common_validate(sb, call) == SB_OK;
    ok &= check_pos(sb, call);
    return ok ? SB_OK : SB_FAIL;
}

/* POST /1/cards with idList, name, desc, pos, due, idLabels, idMembers;
 * the output is the card, with id, url and shortUrl. */
enum sb_status trello_create_card_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *what = "create card";
    const char *id_list = sb->param_string(call, "id_list");
    if (!id_list || !*id_list)
        return sb->fail(call, "%s: id_list rendered empty", what);
    struct json_object *body = json_object_new_object();
    if (!body)
        return sb->fail(call, "out of memory");
    bool ok = add_string(body, "idList", id_list);
    /* name and desc are sent as rendered, even empty; an empty due is none */
    const char *name = sb->param_string(call, "name");
    const char *desc = sb->param_string(call, "desc");
    const char *due = sb->param_string(call, "due");
    if (ok && name)
        ok = add_string(body, "name", name);
    if (ok && desc)
        ok = add_string(body, "desc", desc);
    if (ok && due && *due)
        ok = add_string(body, "due", due);
    ok = ok && add_joined(sb, call, body, "id_labels", "idLabels");
    ok = ok && add_joined(sb, call, body, "id_members", "idMembers");
    if (!ok) {
        json_object_put(body);
        return sb->fail(call, "out of memory");
    }
    return send_card(sb, call, what, "POST", "/1/cards", body);
}

/* --- add_comment --------------------------------------------------------------- */

/* POST /1/cards/{card}/actions/comments {"text": ...}; the output is the
 * commentCard action Trello returns. */
enum sb_status trello_add_comment_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *what = "add comment";
    char path[MAX_PATH];
    enum sb_status st = card_path(sb, call, "/actions/comments", path, sizeof(path));
    if (st != SB_OK)
        return st;
    const char *text = sb->param_string(call, "text");
    if (!text || !*text)
        return sb->fail(call, "%s: the text rendered empty (Trello refuses empty comments)", what);
    struct json_object *body = json_object_new_object();
    if (!body || !add_string(body, "text", text)) {
        json_object_put(body);
        return sb->fail(call, "out of memory");
    }
    struct json_object *answer = NULL;
    st = trello_call(sb, call, what, "POST", path, body, &answer, NULL);
    json_object_put(body);
    if (st != SB_OK)
        return st;
    if (!answer)
        dry_output(sb, call, false);
    else
        sb->set_output(call, answer);
    return SB_OK;
}

/* --- move_card ------------------------------------------------------------------ */

/* PUT /1/cards/{card} {"idList": ..., "pos": ...}; the output is the card. */
enum sb_status trello_move_card_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *what = "move card";
    char path[MAX_PATH];
    enum sb_status st = card_path(sb, call, "", path, sizeof(path));
    if (st != SB_OK)
        return st;
    const char *id_list = sb->param_string(call, "id_list");
    if (!id_list || !*id_list)
        return sb->fail(call, "%s: id_list rendered empty", what);
    struct json_object *body = json_object_new_object();
    if (!body || !add_string(body, "idList", id_list)) {
        json_object_put(body);
        return sb->fail(call, "out of memory");
    }
    return send_card(sb, call, what, "PUT", path, body);
}

/* --- request ------------------------------------------------------------------------ */

enum sb_status trello_request_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool ok = trello_common_validate(sb, call) == SB_OK;
    const char *path = sb->param_string(call, "path");
    if (path && path[0] != '/') {
        sb->config_error(call, "path", "'%s' must start with '/', e.g. /1/boards/<id>/lists", path);
        ok = false;
    }
    const char *q = path ? strchr(path, '?') : NULL;
    if (q && (strstr(q, "key=") || strstr(q, "token="))) {
        sb->config_error(call, "path",
                         "do not put key or token in the path: they are sent in the "
                         "Authorization header, kept out of URLs and logs");
        ok = false;
    }
    return ok ? SB_OK : SB_FAIL;
}

/* Any endpoint: METHOD {api_base}{path} with an optional JSON body; the
 * output is {status, body}. */
enum sb_status trello_request_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *path = sb->param_string(call, "path");
    const char *text = sb->param_string(call, "body");
    const char *method = sb->param_string(call, "method");
    if (!method)
        method = text ? "POST" : "GET";
    if (!path || path[0] != '/')
        return sb->fail(call, "path '%s' does not start with '/'", path ? path : "");
    struct json_object *body = NULL;
    if (text) {
        body = json_tokener_parse(text);
        if (!body)
            return sb->fail(call, "the body is not valid JSON");
    }
    char what[64];
    snprintf(what, sizeof(what), "%s request", method);
    struct json_object *answer = NULL;
    long status = 0;
    enum sb_status st = trello_call(sb, call, what, method, path, body, &answer, &status);
    json_object_put(body);
    if (st != SB_OK)
        return st;
    if (!answer) {
        dry_output(sb, call, false);
        return SB_OK;
    }
    struct json_object *out = json_object_new_object();
    if (!out) {
        json_object_put(answer);
        return sb->fail(call, "out of memory");
    }
    json_object_object_add(out, "status", json_object_new_int64(status));
    json_object_object_add(out, "body", answer);
    sb->set_output(call, out);
    return SB_OK;
}
