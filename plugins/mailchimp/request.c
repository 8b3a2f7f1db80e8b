/*
 * mailchimp.request: any Marketing API endpoint, with the account's auth,
 * data centre, concurrency cap and error mapping. The path is relative to
 * the API root (/3.0); values inserted into it by templates are
 * percent-encoded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailchimp.h"

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};

const struct sb_param mailchimp_request_params[] = {
    {.name = "api_key",
     .type = SB_PARAM_SECRET,
     .flags = SB_PARAM_REQUIRED,
     .help = MAILCHIMP_HELP_API_KEY},
    {.name = "path",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_URL,
     .help = "the endpoint under /3.0, e.g. /lists/{{ event.data.list_id }}/members "
             "(inserted values are percent-encoded)"},
    {.name = "method",
     .type = SB_PARAM_ENUM,
     .values = methods,
     .help = "default: POST when a body is given, else GET"},
    {.name = "body",
     .type = SB_PARAM_STRING,
     .flags = SB_PARAM_TEMPLATE,
     .escape = SB_ESCAPE_JSON,
     .help = "a JSON body; values inserted by templates are JSON-escaped"},
    {.name = "api_base", .type = SB_PARAM_STRING, .help = MAILCHIMP_HELP_API_BASE},
    SB_END,
};

enum sb_status mailchimp_request_validate(const struct sb_host *sb, struct sb_call *call)
{
    bool ok = mailchimp_check_api_key(sb, call);
    const char *path = sb->param_string(call, "path");
    if (path && path[0] != '/') {
        sb->config_error(call, "path",
                         "the path starts with '/' and is relative to the API root, e.g. "
                         "/lists/abc123/members");
        ok = false;
    }
    const char *method = sb->param_string(call, "method");
    if (method && sb->param_string(call, "body") &&
        (strcmp(method, "GET") == 0 || strcmp(method, "DELETE") == 0)) {
        sb->config_error(call, "body", "a %s request has no body", method);
        ok = false;
    }
    return ok ? SB_OK : SB_FAIL;
}

enum sb_status mailchimp_request_run(const struct sb_host *sb, struct sb_call *call)
{
    const char *path = sb->param_string(call, "path");
    if (!path || path[0] != '/')
        return sb->fail(call, "path must start with '/' (it is relative to the API root)");
    struct mailchimp_api api;
    enum sb_status st = mailchimp_api_open(sb, call, &api);
    if (st != SB_OK)
        return st;
    const char *body = sb->param_string(call, "body");
    const char *method = sb->param_string(call, "method");
    if (!method)
        method = body ? "POST" : "GET";
    struct sb_http_response resp;
    int rc = mailchimp_send(sb, call, &api, method, path, body, &resp);
    char what[600];
    snprintf(what, sizeof(what), "%s %.500s", method, path);
    st = mailchimp_result(sb, call, rc, &resp, what);
    if (st == SB_OK) {
        struct json_object *out = NULL;
        if (rc == SB_HTTP_DRY_RUN) {
            out = mailchimp_dry_output(NULL);
        } else {
            out = json_object_new_object();
            struct json_object *parsed = mailchimp_parse_json(resp.body, resp.body_len);
            if (out) {
                json_object_object_add(out, "status", json_object_new_int64(resp.status));
                json_object_object_add(
                    out, "body",
                    parsed ? parsed : json_object_new_string_len(resp.body, (int)resp.body_len));
            } else {
                json_object_put(parsed);
            }
        }
        if (out)
            sb->set_output(call, out);
        else
            st = sb->fail(call, "out of memory");
    }
    sb->http_release(&resp);
    mailchimp_api_close(&api);
    return st;
}
