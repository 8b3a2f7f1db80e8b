/*
 * mailchimp.upsert_member and mailchimp.tag_member.
 *
 * upsert_member: PUT /lists/{list_id}/members/{subscriber_hash} creates the
 * member or updates it (POST /members would answer 400 "Member Exists" for
 * a known address), then, when tags are given, POST .../tags marks them
 * active: the PUT body has no documented tags field. Both calls are
 * idempotent, so a retry after the PUT succeeded and the tags call failed
 * simply repeats the PUT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailchimp.h"

static const char *const statuses[] = {"subscribed", "unsubscribed",  "cleaned",
                                       "pending",    "transactional", NULL};
static const char *const email_types[] = {"html", "text", NULL};

const struct sb_param mailchimp_upsert_member_params[] = {
    {.name = "api_key",
     .type = SB_PARAM_SECRET,
     .flags = SB_PARAM_REQUIRED,
     .help = MAILCHIMP_HELP_API_KEY},
    {.name = "list_id",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the audience (list) id, e.g. a6b5da1054"},
    {.name = "email",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the member's email address (trimmed; its lower-cased MD5 is the subscriber hash)"},
    {.name = "status_if_new",
     .type = SB_PARAM_ENUM,
     .def = "subscribed",
     .values = statuses,
     .help = "the status of a member the list does not have yet (pending sends a "
             "confirmation email)"},
    {.name = "status",
     .type = SB_PARAM_ENUM,
     .values = statuses,
     .help = "set this status on existing members too (default: leave it as it is)"},
    {.name = "merge",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_MULTI | SB_PARAM_TEMPLATE,
     .help = "merge fields as text, one line each: merge.FNAME = {{ event.first_name }}"},
    {.name = "tags",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_TEMPLATE,
     .help = "tag names to add (made active) after the upsert, separated by spaces or commas"},
    {.name = "email_type",
     .type = SB_PARAM_ENUM,
     .values = email_types,
     .help = "the email format the member prefers: html or text"},
    {.name = "language",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .help = "the member's language code, e.g. en or fr"},
    {.name = "vip", .type = SB_PARAM_BOOL, .help = "mark the member as VIP (or not)"},
    {.name = "skip_merge_validation",
     .type = SB_PARAM_BOOL,
     .help = "accept the member even when required merge fields are missing"},
    {.name = "api_base", .type = SB_PARAM_STRING, .help = MAILCHIMP_HELP_API_BASE},
    SB_END,
};

const struct sb_param mailchimp_tag_member_params[] = {
    {.name = "api_key",
     .type = SB_PARAM_SECRET,
     .flags = SB_PARAM_REQUIRED,
     .help = MAILCHIMP_HELP_API_KEY},
    {.name = "list_id",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the audience (list) id"},
    {.name = "email",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .help = "the member's email address; the member must be on the list"},
    {.name = "tags",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_TEMPLATE,
     .help = "tag names to add (made active; new names create the tag)"},
    {.name = "remove_tags",
     .type = SB_PARAM_LIST,
     .flags = SB_PARAM_TEMPLATE,
     .help = "tag names to remove (made inactive)"},
    {.name = "api_base", .type = SB_PARAM_STRING, .help = MAILCHIMP_HELP_API_BASE},
    SB_END,
};

/* --- shared ------------------------------------------------------------------- */

/* The member part of the path, "/lists/<list>/members/<hash>", for a call's
 * list_id; caller frees; NULL when out of memory. */
static char *member_path(const struct sb_host *sb, const char *list_id, const char *hash)
{
    char *list = mailchimp_path_segment(sb, list_id);
    if (!list)
        return NULL;
    size_t cap = strlen(list) + strlen(hash) + 32;
    char *path = malloc(cap);
    if (path)
        snprintf(path, cap, "/lists/%s/members/%s", list, hash);
    free(list);
    return path;
}

/* Whether list_id rendered to something: an empty one would address
 * another endpoint (/lists//members/...). */
static bool list_given(const struct sb_host *sb, struct sb_call *call)
{
    const char *list = sb->param_string(call, "list_id");
    return list && *list;
}

/* Add {"name": n, "status": status} for every name of a LIST parameter. */
static void add_tags(struct json_object *arr, struct json_object *names, const char *status)
{
    size_t n = names ? json_object_array_length(names) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *t = json_object_new_object();
        /* a copy: parameters are borrowed */
        json_object_object_add(
            t, "name",
            json_object_new_string(json_object_get_string(json_object_array_get_idx(names, i))));
        json_object_object_add(t, "status", json_object_new_string(status));
        json_object_array_add(arr, t);
    }
}

static size_t list_len(struct json_object *list)
{
    return list && json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
}

/* A new array with the names of a LIST parameter (empty when unset). */
static struct json_object *copy_names(struct json_object *names)
{
    struct json_object *arr = json_object_new_array();
    size_t n = list_len(names);
    for (size_t i = 0; arr && i < n; i++)
        json_object_array_add(arr, json_object_new_string(json_object_get_string(
                                       json_object_array_get_idx(names, i))));
    return arr;
}

/*
 * POST <member path>/tags with `active` names made active and `inactive`
 * ones inactive. Returns SB_OK (204, or a dry run: *dry set), or the retry
 * or fail result.
 */
static enum sb_status post_tags(const struct sb_host *sb, struct sb_call *call,
                                const struct mailchimp_api *api, const char *member,
                                struct json_object *active, struct json_object *inactive, bool *dry)
{
    struct json_object *body = json_object_new_object();
    struct json_object *tags = json_object_new_array();
    if (!body || !tags) {
        json_object_put(body);
        json_object_put(tags);
        return sb->fail(call, "out of memory");
    }
    add_tags(tags, active, "active");
    add_tags(tags, inactive, "inactive");
    json_object_object_add(body, "tags", tags);
    size_t plen = strlen(member) + 6;
    char *path = malloc(plen);
    if (!path) {
        json_object_put(body);
        return sb->fail(call, "out of memory");
    }
    snprintf(path, plen, "%s/tags", member);
    const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE);
    struct sb_http_response resp;
    int rc = mailchimp_send(sb, call, api, "POST", path, text, &resp);
    char what[600];
    snprintf(what, sizeof(what), "POST %.500s", path);
    enum sb_status st = mailchimp_result(sb, call, rc, &resp, what);
    *dry = rc == SB_HTTP_DRY_RUN;
    sb->http_release(&resp);
    free(path);
    json_object_put(body);
    return st;
}

/* --- mailchimp.upsert_member ----------------------------------------------------- */

enum sb_status mailchimp_upsert_member_validate(const struct sb_host *sb, struct sb_call *call)
{
    return mailchimp_check_api_key(sb, call) ? SB_OK : SB_FAIL;
}

/* The PUT body: email_address, status_if_new, and the optional fields that
 * are set. Caller owns; NULL when out of memory. */
static struct json_object *member_body(const struct sb_host *sb, struct sb_call *call,
                                       const char *email)
{
    struct json_object *body = json_object_new_object();
    if (!body)
        return NULL;
    json_object_object_add(body, "email_address", json_object_new_string(email));
    json_object_object_add(body, "status_if_new",
                           json_object_new_string(sb->param_string(call, "status_if_new")));
    const char *status = sb->param_string(call, "status");
    if (status)
        json_object_object_add(body, "status", json_object_new_string(status));
    struct json_object *merge = sb->param_json(call, "merge");
    if (merge && json_object_is_type(merge, json_type_object) &&
        json_object_object_length(merge) > 0) {
        /* a copy: parameters are borrowed */
        struct json_object *fields = json_object_new_object();
        json_object_object_foreach(merge, key, val)
        {
            json_object_object_add(fields, key,
                                   json_object_new_string(json_object_get_string(val)));
        }
        json_object_object_add(body, "merge_fields", fields);
    }
    const char *email_type = sb->param_string(call, "email_type");
    if (email_type)
        json_object_object_add(body, "email_type", json_object_new_string(email_type));
    const char *language = sb->param_string(call, "language");
    if (language && *language)
        json_object_object_add(body, "language", json_object_new_string(language));
    if (sb->param_json(call, "vip"))
        json_object_object_add(body, "vip",
                               json_object_new_boolean(sb->param_bool(call, "vip", false)));
    return body;
}

/*
 * The output of a dry run: what the member would look like, so that later
 * steps reading {{ steps.<name>.id }} or .status render too: the id is the
 * subscriber hash (Mailchimp's member id is that hash), the status is the
 * one asked for (status, else status_if_new). Caller owns; NULL when out of
 * memory.
 */
static struct json_object *dry_member(const struct sb_host *sb, struct sb_call *call,
                                      struct json_object *body, const char *hash)
{
    struct json_object *out = mailchimp_dry_output(hash);
    if (!out)
        return NULL;
    json_object_object_add(out, "id", json_object_new_string(hash));
    const char *status = sb->param_string(call, "status");
    json_object_object_add(
        out, "status",
        json_object_new_string(status ? status : sb->param_string(call, "status_if_new")));
    static const char *const copied[] = {"email_address", "merge_fields", NULL};
    for (size_t i = 0; copied[i]; i++) {
        struct json_object *v = NULL, *copy = NULL;
        if (json_object_object_get_ex(body, copied[i], &v) &&
            json_object_deep_copy(v, &copy, NULL) == 0)
            json_object_object_add(out, copied[i], copy);
    }
    return out;
}

enum sb_status mailchimp_upsert_member_run(const struct sb_host *sb, struct sb_call *call)
{
    struct mailchimp_api api;
    enum sb_status st = mailchimp_api_open(sb, call, &api);
    if (st != SB_OK)
        return st;
    char hash[33];
    char *email = NULL, *member = NULL, *path = NULL;
    struct json_object *body = NULL, *output = NULL;
    struct sb_http_response resp;
    bool have_resp = false;
    if (mailchimp_subscriber_hash(sb, sb->param_string(call, "email"), hash, &email) < 0) {
        st = sb->fail(call, "email is empty");
        goto out;
    }
    if (!list_given(sb, call)) {
        st = sb->fail(call, "list_id is empty");
        goto out;
    }
    member = member_path(sb, sb->param_string(call, "list_id"), hash);
    body = member_body(sb, call, email);
    bool skip = sb->param_json(call, "skip_merge_validation") != NULL;
    size_t plen = member ? strlen(member) + 40 : 0;
    path = member ? malloc(plen) : NULL;
    if (!path || !body) {
        st = sb->fail(call, "out of memory");
        goto out;
    }
    snprintf(path, plen, "%s%s%s", member, skip ? "?skip_merge_validation=" : "",
             skip ? (sb->param_bool(call, "skip_merge_validation", false) ? "true" : "false") : "");
    const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE);
    int rc = mailchimp_send(sb, call, &api, "PUT", path, text, &resp);
    have_resp = true;
    char what[600];
    snprintf(what, sizeof(what), "PUT %.500s", member);
    st = mailchimp_result(sb, call, rc, &resp, what);
    if (st != SB_OK)
        goto out;
    bool dry = rc == SB_HTTP_DRY_RUN;
    if (dry) {
        output = dry_member(sb, call, body, hash);
    } else {
        output = mailchimp_parse_json(resp.body, resp.body_len);
        if (!output || !json_object_is_type(output, json_type_object)) {
            /* a 2xx that is not the member document: keep what we know */
            json_object_put(output);
            output = json_object_new_object();
            if (output)
                json_object_object_add(output, "email_address", json_object_new_string(email));
        }
        if (output)
            json_object_object_add(output, "subscriber_hash", json_object_new_string(hash));
    }
    if (!output) {
        st = sb->fail(call, "out of memory");
        goto out;
    }
    struct json_object *tags = sb->param_json(call, "tags");
    if (list_len(tags) > 0) {
        bool tags_dry = false;
        st = post_tags(sb, call, &api, member, tags, NULL, &tags_dry);
        if (st != SB_OK)
            goto out;
    }
    sb->set_output(call, output);
    output = NULL;
out:
    if (have_resp)
        sb->http_release(&resp);
    json_object_put(output);
    json_object_put(body);
    free(path);
    free(member);
    free(email);
    mailchimp_api_close(&api);
    return st;
}

/* --- mailchimp.tag_member ----------------------------------------------------------- */

enum sb_status mailchimp_tag_member_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool ok = mailchimp_check_api_key(sb, call);
    if (!sb->param_json(call, "tags") && !sb->param_json(call, "remove_tags")) {
        sb->config_error(call, "tags", "say what to change: tags (to add), remove_tags, or both");
        ok = false;
    }
    return ok ? SB_OK : SB_FAIL;
}

enum sb_status mailchimp_tag_member_run(const struct sb_host *sb, struct sb_call *call)
{
    struct mailchimp_api api;
    enum sb_status st = mailchimp_api_open(sb, call, &api);
    if (st != SB_OK)
        return st;
    char hash[33];
    char *email = NULL, *member = NULL;
    struct json_object *added = sb->param_json(call, "tags");
    struct json_object *removed = sb->param_json(call, "remove_tags");
    if (mailchimp_subscriber_hash(sb, sb->param_string(call, "email"), hash, &email) < 0) {
        st = sb->fail(call, "email is empty");
        goto out;
    }
    if (!list_given(sb, call)) {
        st = sb->fail(call, "list_id is empty");
        goto out;
    }
    member = member_path(sb, sb->param_string(call, "list_id"), hash);
    if (!member) {
        st = sb->fail(call, "out of memory");
        goto out;
    }
    bool dry = false;
    if (list_len(added) + list_len(removed) > 0) {
        st = post_tags(sb, call, &api, member, added, removed, &dry);
        if (st != SB_OK)
            goto out;
    } else {
        /* templates rendered to nothing: there is nothing to change */
        sb->log(call, SB_LOG_INFO, "no tags to add or remove; nothing sent");
    }
    struct json_object *output = dry ? mailchimp_dry_output(hash) : json_object_new_object();
    if (!output) {
        st = sb->fail(call, "out of memory");
        goto out;
    }
    if (!dry) {
        json_object_object_add(output, "subscriber_hash", json_object_new_string(hash));
        json_object_object_add(output, "email_address", json_object_new_string(email));
    }
    json_object_object_add(output, "added", copy_names(added));
    json_object_object_add(output, "removed", copy_names(removed));
    sb->set_output(call, output);
out:
    free(member);
    free(email);
    mailchimp_api_close(&api);
    return st;
}
