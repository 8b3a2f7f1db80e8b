/*
 * shopify_checks: what the Shopify Admin GraphQL API checks on the route
 * the shopify connector calls (see shopify_checks.h).
 */
#include "shopify_checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "standin.h"

#define INVALID_TOKEN                                                                              \
    "{\"errors\":\"[API] Invalid API key or access token (unrecognized login or wrong "            \
    "password)\"}"
#define MISSING_QUERY "{\"errors\":{\"query\":\"Required parameter missing or invalid\"}}"

static bool answer(struct shopify_api *api, struct standin_reply *reply, int status,
                   const char *body)
{
    atomic_fetch_add(&api->refused, 1);
    *reply = (struct standin_reply){status, "application/json; charset=utf-8", body, NULL, 0};
    return false;
}

/* /admin/api/<version>/graphql.json with a version like 2025-01. */
static bool valid_path(const char *path)
{
    static const char prefix[] = "/admin/api/";
    if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
        return false;
    const char *v = path + sizeof(prefix) - 1;
    size_t n = strcspn(v, "/");
    if (strcmp(v + n, "/graphql.json") != 0)
        return false;
    if (n == 8 && strncmp(v, "unstable", 8) == 0)
        return true;
    if (n != 7 || v[4] != '-')
        return false;
    for (size_t i = 0; i < 7; i++)
        if (i != 4 && (v[i] < '0' || v[i] > '9'))
            return false;
    int month = (v[5] - '0') * 10 + (v[6] - '0');
    return month >= 1 && month <= 12;
}

bool shopify_check(void *arg, const struct standin_request *req, struct standin_reply *reply,
                   char *buf, size_t buflen)
{
    (void)buf;
    (void)buflen;
    struct shopify_api *api = arg;
    const char *token = standin_header(req, "X-Shopify-Access-Token");
    if (!token || !*token || (api->access_token && strcmp(token, api->access_token) != 0))
        return answer(api, reply, 401, INVALID_TOKEN);
    if (!valid_path(req->path))
        return answer(api, reply, 404, "{\"errors\":\"Not Found\"}");
    if (strcmp(req->method, "POST") != 0)
        return answer(api, reply, 405, "{\"errors\":\"Method Not Allowed\"}");
    const char *ct = standin_header(req, "Content-Type");
    if (!ct || strncasecmp(ct, "application/json", 16) != 0)
        return answer(api, reply, 400, MISSING_QUERY);
    struct json_object *body = req->body_len ? json_tokener_parse(req->body) : NULL, *v;
    bool ok = body && json_object_is_type(body, json_type_object) &&
              json_object_object_get_ex(body, "query", &v) &&
              json_object_is_type(v, json_type_string) && *json_object_get_string(v);
    if (!ok) {
        json_object_put(body);
        return answer(api, reply, 400, MISSING_QUERY);
    }
    if (json_object_object_get_ex(body, "variables", &v) &&
        !json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_null)) {
        json_object_put(body);
        return answer(api, reply, 200,
                      "{\"errors\":[{\"message\":\"Variables must be an object\",\"extensions\":{"
                      "\"code\":\"INVALID_VARIABLES\"}}]}");
    }
    json_object_put(body);
    return true;
}

void shopify_api_install(struct standin *s, struct shopify_api *api)
{
    standin_check(s, "*", "/admin/api/*", shopify_check, api);
}
