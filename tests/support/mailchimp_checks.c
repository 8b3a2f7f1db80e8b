/*
 * The Mailchimp Marketing API stand-in (see mailchimp_checks.h). One check
 * on any method of /3.0/... answers every request itself: the checks first, then the
 * route, with audiences and members kept in memory under a mutex (the
 * stand-in serves each connection on its own thread).
 */
#include "mailchimp_checks.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#define PROBLEM_TYPE "https://mailchimp.com/developer/marketing/docs/errors/"
#define PROBLEM_CT "application/problem+json; charset=utf-8"

struct injected {
    char *method, *path;
    struct standin_reply reply; /* strings owned */
    struct injected *next;
};

struct mailchimp_standin {
    struct standin *s;
    char *api_key;
    pthread_mutex_t lock;
    struct json_object *lists; /* list id -> {hash -> member} */
    struct injected *queue;    /* in order */
    unsigned long counter;     /* for unique ids */
};

static const char *const statuses[] = {"subscribed", "unsubscribed",  "cleaned",
                                       "pending",    "transactional", NULL};
static const char *const member_fields[] = {
    "email_address", "status_if_new",    "status", "email_type",    "merge_fields",
    "interests",     "language",         "vip",    "location",      "marketing_permissions",
    "ip_signup",     "timestamp_signup", "ip_opt", "timestamp_opt", NULL};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* --- the reference subscriber hash -------------------------------------------------- */

void mailchimp_subscriber_hash_ref(const char *email, char out[33])
{
    const char *p = email;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    char *lower = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        lower[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] - 'A' + 'a') : p[i];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(lower, n, md, &len, EVP_md5(), NULL);
    free(lower);
    for (unsigned int i = 0; i < len && i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[32] = '\0';
}

/* --- answers ---------------------------------------------------------------------------- */

/* A problem document into buf, as Mailchimp writes them. `field` and
 * `message` (may be NULL) make one errors[] entry. */
static bool problem(struct standin_reply *reply, char *buf, size_t buflen, int status,
                    const char *title, const char *detail, const char *field, const char *message)
{
    struct json_object *doc = json_object_new_object();
    json_object_object_add(doc, "type", json_object_new_string(PROBLEM_TYPE));
    json_object_object_add(doc, "title", json_object_new_string(title));
    json_object_object_add(doc, "status", json_object_new_int(status));
    json_object_object_add(doc, "detail", json_object_new_string(detail));
    json_object_object_add(doc, "instance",
                           json_object_new_string("5b2c4a1e-7d1a-4a34-9a1f-0c7b6e0d2f11"));
    if (field) {
        struct json_object *errors = json_object_new_array();
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "field", json_object_new_string(field));
        json_object_object_add(e, "message", json_object_new_string(message ? message : ""));
        json_object_array_add(errors, e);
        json_object_object_add(doc, "errors", errors);
    }
    snprintf(buf, buflen, "%s",
             json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(doc);
    *reply = (struct standin_reply){status, PROBLEM_CT, buf, NULL, 0};
    return false;
}

static bool invalid(struct standin_reply *reply, char *buf, size_t buflen, const char *field,
                    const char *message)
{
    return problem(reply, buf, buflen, 400, "Invalid Resource",
                   "The resource submitted could not be validated. For field-specific details, "
                   "see the 'errors' array.",
                   field, message);
}

static bool not_found(struct standin_reply *reply, char *buf, size_t buflen)
{
    return problem(reply, buf, buflen, 404, "Resource Not Found",
                   "The requested resource could not be found.", NULL, NULL);
}

static bool json_reply(struct standin_reply *reply, char *buf, size_t buflen, int status,
                       struct json_object *doc)
{
    snprintf(buf, buflen, "%s",
             json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
    *reply = (struct standin_reply){status, "application/json; charset=utf-8", buf, NULL, 0};
    return false;
}

/* --- checks ------------------------------------------------------------------------------- */

/* HTTP Basic with any user name and the key as the password. */
static bool auth_ok(const struct mailchimp_standin *m, const struct standin_request *req)
{
    const char *h = standin_header(req, "Authorization");
    if (!h || strncasecmp(h, "Basic ", 6) != 0)
        return false;
    const char *b64 = h + 6;
    size_t n = strlen(b64);
    if (n == 0 || n % 4 != 0 || n > 1024)
        return false;
    unsigned char decoded[800];
    int len = EVP_DecodeBlock(decoded, (const unsigned char *)b64, (int)n);
    if (len < 0)
        return false;
    /* EVP_DecodeBlock counts the padding as zero bytes */
    if (b64[n - 1] == '=')
        len--;
    if (b64[n - 2] == '=')
        len--;
    decoded[len] = '\0';
    if (memchr(decoded, '\0', (size_t)len))
        return false;
    const char *colon = strchr((const char *)decoded, ':');
    if (!colon)
        return false;
    const char *key = colon + 1;
    const char *dash = strrchr(key, '-');
    return dash && dash[1] && strcmp(key, m->api_key) == 0;
}

/* The injected reply for this request, if one is queued (copied into
 * *reply with strings in buf). */
static bool take_injected(struct mailchimp_standin *m, const struct standin_request *req,
                          struct standin_reply *reply, char *buf, size_t buflen)
{
    bool found = false;
    pthread_mutex_lock(&m->lock);
    for (struct injected **link = &m->queue; *link; link = &(*link)->next) {
        struct injected *in = *link;
        size_t n = strlen(in->path);
        bool path_ok = (n && in->path[n - 1] == '*') ? strncmp(in->path, req->path, n - 1) == 0
                                                     : strcmp(in->path, req->path) == 0;
        if (!path_ok || (strcmp(in->method, "*") != 0 && strcmp(in->method, req->method) != 0))
            continue;
        /* strings into buf: content type, then body, then headers */
        size_t used = 0;
        const char *parts[3] = {in->reply.content_type, in->reply.body, in->reply.headers};
        const char *copies[3] = {NULL, NULL, NULL};
        for (int i = 0; i < 3; i++) {
            if (!parts[i])
                continue;
            size_t len = strlen(parts[i]) + 1;
            if (used + len > buflen)
                break;
            memcpy(buf + used, parts[i], len);
            copies[i] = buf + used;
            used += len;
        }
        *reply = (struct standin_reply){in->reply.status, copies[0], copies[1] ? copies[1] : "",
                                        copies[2], in->reply.delay_ms};
        *link = in->next;
        free(in->method);
        free(in->path);
        free((char *)(uintptr_t)in->reply.content_type);
        free((char *)(uintptr_t)in->reply.body);
        free((char *)(uintptr_t)in->reply.headers);
        free(in);
        found = true;
        break;
    }
    pthread_mutex_unlock(&m->lock);
    return found;
}

/* Split "/3.0/a/b/c" into up to max segments (pointers into copy). */
static size_t split_path(char *copy, char **seg, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, "/", &save); t && n < max; t = strtok_r(NULL, "/", &save))
        seg[n++] = t;
    return n;
}

static bool is_hash(const char *s)
{
    if (strlen(s) != 32)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

/* A deep copy: the request body is released after the answer. */
static struct json_object *copy_value(struct json_object *v)
{
    struct json_object *out = NULL;
    return json_object_deep_copy(v, &out, NULL) == 0 ? out : NULL;
}

static const char *str_field(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* PUT /lists/{list}/members/{hash}; called locked. */
static bool put_member(struct mailchimp_standin *m, struct json_object *members, const char *list,
                       const char *hash, const struct standin_request *req,
                       struct json_object *body, struct standin_reply *reply, char *buf,
                       size_t buflen)
{
    if (!json_object_is_type(body, json_type_object))
        return invalid(reply, buf, buflen, "", "Schema describes object, another type found");
    json_object_object_foreach(body, key, val)
    {
        (void)val;
        if (!in_list(key, member_fields))
            return invalid(reply, buf, buflen, key, "Schema does not allow this property");
    }
    const char *email = str_field(body, "email_address");
    if (!email || !*email)
        return invalid(reply, buf, buflen, "email_address", "This value should not be blank.");
    if (!strchr(email, '@'))
        return invalid(reply, buf, buflen, "email_address",
                       "Please provide a valid email address.");
    char want[33];
    mailchimp_subscriber_hash_ref(email, want);
    if (!is_hash(hash) || strcmp(hash, want) != 0)
        return problem(reply, buf, buflen, 400, "Invalid Resource",
                       "The subscriber hash in the URL does not match the email address "
                       "(md5 of the lower-case address).",
                       "subscriber_hash", "does not match email_address");
    const char *sin = NULL, *status = NULL;
    struct json_object *v;
    if (json_object_object_get_ex(body, "status_if_new", &v)) {
        sin = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
        if (!in_list(sin, statuses))
            return invalid(reply, buf, buflen, "status_if_new",
                           "Data presented is not one of the accepted values: subscribed, "
                           "unsubscribed, cleaned, pending, transactional.");
    }
    if (json_object_object_get_ex(body, "status", &v)) {
        status = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
        if (!in_list(status, statuses))
            return invalid(reply, buf, buflen, "status",
                           "Data presented is not one of the accepted values: subscribed, "
                           "unsubscribed, cleaned, pending, transactional.");
    }
    if (json_object_object_get_ex(body, "email_type", &v) &&
        (!json_object_is_type(v, json_type_string) ||
         (strcmp(json_object_get_string(v), "html") != 0 &&
          strcmp(json_object_get_string(v), "text") != 0)))
        return invalid(reply, buf, buflen, "email_type", "Must be html or text.");
    if (json_object_object_get_ex(body, "vip", &v) && !json_object_is_type(v, json_type_boolean))
        return invalid(reply, buf, buflen, "vip", "Schema describes boolean, another type found");
    if (json_object_object_get_ex(body, "language", &v) &&
        !json_object_is_type(v, json_type_string))
        return invalid(reply, buf, buflen, "language",
                       "Schema describes string, another type found");
    struct json_object *merge = NULL;
    if (json_object_object_get_ex(body, "merge_fields", &merge) &&
        !json_object_is_type(merge, json_type_object))
        return invalid(reply, buf, buflen, "merge_fields",
                       "Schema describes object, another type found");
    if (strstr(req->query, "skip_merge_validation=") &&
        !strstr(req->query, "skip_merge_validation=true") &&
        !strstr(req->query, "skip_merge_validation=false"))
        return invalid(reply, buf, buflen, "skip_merge_validation", "Must be true or false.");

    struct json_object *member;
    bool is_new = !json_object_object_get_ex(members, hash, &member);
    if (is_new) {
        if (!sin)
            return invalid(reply, buf, buflen, "status_if_new",
                           "This value should not be blank: the member is new.");
        member = json_object_new_object();
        char uid[16];
        snprintf(uid, sizeof(uid), "u%08lx", ++m->counter);
        json_object_object_add(member, "id", json_object_new_string(hash));
        json_object_object_add(member, "unique_email_id", json_object_new_string(uid));
        json_object_object_add(member, "email_type", json_object_new_string("html"));
        json_object_object_add(member, "status", json_object_new_string(status ? status : sin));
        json_object_object_add(member, "merge_fields", json_object_new_object());
        json_object_object_add(member, "language", json_object_new_string(""));
        json_object_object_add(member, "vip", json_object_new_boolean(0));
        json_object_object_add(member, "tags_count", json_object_new_int(0));
        json_object_object_add(member, "tags", json_object_new_array());
        json_object_object_add(member, "list_id", json_object_new_string(list));
        json_object_object_add(members, hash, member);
    } else if (status) {
        json_object_object_add(member, "status", json_object_new_string(status));
    }
    json_object_object_add(member, "email_address", json_object_new_string(email));
    static const char *const copied[] = {"email_type", "language", "vip", NULL};
    for (size_t i = 0; copied[i]; i++)
        if (json_object_object_get_ex(body, copied[i], &v))
            json_object_object_add(member, copied[i], copy_value(v));
    if (merge) {
        struct json_object *have;
        json_object_object_get_ex(member, "merge_fields", &have);
        json_object_object_foreach(merge, k, mv)
        {
            json_object_object_add(have, k, copy_value(mv));
        }
    }
    return json_reply(reply, buf, buflen, 200, member);
}

/* POST /lists/{list}/members/{hash}/tags; called locked. */
static bool post_tags(struct json_object *member, struct json_object *body,
                      struct standin_reply *reply, char *buf, size_t buflen)
{
    if (!json_object_is_type(body, json_type_object))
        return invalid(reply, buf, buflen, "", "Schema describes object, another type found");
    json_object_object_foreach(body, key, val)
    {
        if (strcmp(key, "tags") != 0 && strcmp(key, "is_syncing") != 0)
            return invalid(reply, buf, buflen, key, "Schema does not allow this property");
        if (strcmp(key, "is_syncing") == 0 && !json_object_is_type(val, json_type_boolean))
            return invalid(reply, buf, buflen, key, "Schema describes boolean");
    }
    struct json_object *tags;
    if (!json_object_object_get_ex(body, "tags", &tags) ||
        !json_object_is_type(tags, json_type_array))
        return invalid(reply, buf, buflen, "tags", "Schema describes array, another type found");
    size_t n = json_object_array_length(tags);
    for (size_t i = 0; i < n; i++) {
        struct json_object *t = json_object_array_get_idx(tags, i);
        const char *name = json_object_is_type(t, json_type_object) ? str_field(t, "name") : NULL;
        const char *status =
            json_object_is_type(t, json_type_object) ? str_field(t, "status") : NULL;
        if (!name || !*name)
            return invalid(reply, buf, buflen, "tags.name", "This value should not be blank.");
        if (!status || (strcmp(status, "active") != 0 && strcmp(status, "inactive") != 0))
            return invalid(reply, buf, buflen, "tags.status",
                           "Data presented is not one of the accepted values: active, inactive.");
        json_object_object_foreach(t, tk, tv)
        {
            (void)tv;
            if (strcmp(tk, "name") != 0 && strcmp(tk, "status") != 0)
                return invalid(reply, buf, buflen, "tags", "Schema does not allow this property");
        }
    }
    /* valid: apply */
    struct json_object *have;
    json_object_object_get_ex(member, "tags", &have);
    for (size_t i = 0; i < n; i++) {
        struct json_object *t = json_object_array_get_idx(tags, i);
        const char *name = str_field(t, "name");
        bool active = strcmp(str_field(t, "status"), "active") == 0;
        size_t k = 0, len = json_object_array_length(have);
        for (; k < len; k++)
            if (strcmp(str_field(json_object_array_get_idx(have, k), "name"), name) == 0)
                break;
        if (active && k == len) {
            struct json_object *tag = json_object_new_object();
            json_object_object_add(tag, "id", json_object_new_int((int)len + 1));
            json_object_object_add(tag, "name", json_object_new_string(name));
            json_object_array_add(have, tag);
        } else if (!active && k < len) {
            json_object_array_del_idx(have, k, 1);
        }
    }
    json_object_object_add(member, "tags_count",
                           json_object_new_int((int)json_object_array_length(have)));
    *reply = (struct standin_reply){204, "application/json", "", NULL, 0};
    return false;
}

static bool check(void *arg, const struct standin_request *req, struct standin_reply *reply,
                  char *buf, size_t buflen)
{
    struct mailchimp_standin *m = arg;
    if (take_injected(m, req, reply, buf, buflen))
        return false;
    if (!auth_ok(m, req))
        return problem(reply, buf, buflen, 401, "API Key Invalid",
                       "Your API key may be invalid, or you've attempted to access the wrong "
                       "datacenter.",
                       NULL, NULL);
    bool has_body = strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0 ||
                    strcmp(req->method, "PATCH") == 0;
    struct json_object *body = NULL;
    if (has_body) {
        const char *ct = standin_header(req, "Content-Type");
        if (!ct || strncasecmp(ct, "application/json", 16) != 0)
            return problem(reply, buf, buflen, 400, "Invalid Resource",
                           "The request body must be JSON, sent as application/json.", NULL, NULL);
        struct json_tokener *tok = json_tokener_new();
        body = json_tokener_parse_ex(tok, req->body, (int)req->body_len);
        bool ok = body && json_tokener_get_error(tok) == json_tokener_success &&
                  (size_t)json_tokener_get_parse_end(tok) == req->body_len;
        json_tokener_free(tok);
        if (!ok) {
            json_object_put(body);
            return problem(reply, buf, buflen, 400, "JSON Parse Error",
                           "We encountered an unspecified JSON parsing error.", NULL, NULL);
        }
    }
    char *copy = strdup(req->path);
    char *seg[8];
    size_t n = split_path(copy, seg, 8);
    bool unanswered = true; /* the answers below return false */
    pthread_mutex_lock(&m->lock);
    if (n == 2 && strcmp(seg[1], "ping") == 0 && strcmp(req->method, "GET") == 0) {
        struct json_object *doc = json_object_new_object();
        json_object_object_add(doc, "health_status",
                               json_object_new_string("Everything's Chimpy!"));
        unanswered = json_reply(reply, buf, buflen, 200, doc);
        json_object_put(doc);
    } else if (n >= 5 && n <= 6 && strcmp(seg[0], "3.0") == 0 && strcmp(seg[1], "lists") == 0 &&
               strcmp(seg[3], "members") == 0) {
        struct json_object *members, *member = NULL;
        if (!json_object_object_get_ex(m->lists, seg[2], &members)) {
            unanswered = not_found(reply, buf, buflen);
        } else if (n == 5 && strcmp(req->method, "PUT") == 0) {
            unanswered = put_member(m, members, seg[2], seg[4], req, body, reply, buf, buflen);
        } else if (n == 5 && strcmp(req->method, "GET") == 0) {
            unanswered = json_object_object_get_ex(members, seg[4], &member)
                             ? json_reply(reply, buf, buflen, 200, member)
                             : not_found(reply, buf, buflen);
        } else if (n == 6 && strcmp(seg[5], "tags") == 0 && strcmp(req->method, "POST") == 0) {
            unanswered = json_object_object_get_ex(members, seg[4], &member)
                             ? post_tags(member, body, reply, buf, buflen)
                             : not_found(reply, buf, buflen);
        } else {
            unanswered =
                problem(reply, buf, buflen, 405, "Method Not Allowed",
                        "The requested method and resource are not compatible.", NULL, NULL);
        }
    }
    if (unanswered)
        unanswered = not_found(reply, buf, buflen);
    pthread_mutex_unlock(&m->lock);
    free(copy);
    json_object_put(body);
    return unanswered;
}

/* --- life cycle ----------------------------------------------------------------------- */

struct mailchimp_standin *mailchimp_standin_new(struct standin *s, const char *api_key,
                                                const char *const *lists)
{
    struct mailchimp_standin *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->s = s;
    m->api_key = strdup(api_key);
    m->lists = json_object_new_object();
    pthread_mutex_init(&m->lock, NULL);
    for (size_t i = 0; lists && lists[i]; i++)
        json_object_object_add(m->lists, lists[i], json_object_new_object());
    standin_check(s, "*", "/3.0/*", check, m);
    return m;
}

void mailchimp_standin_free(struct mailchimp_standin *m)
{
    if (!m)
        return;
    standin_check(m->s, "*", "/3.0/*", NULL, NULL);
    while (m->queue) {
        struct injected *next = m->queue->next;
        free(m->queue->method);
        free(m->queue->path);
        free((char *)(uintptr_t)m->queue->reply.content_type);
        free((char *)(uintptr_t)m->queue->reply.body);
        free((char *)(uintptr_t)m->queue->reply.headers);
        free(m->queue);
        m->queue = next;
    }
    json_object_put(m->lists);
    pthread_mutex_destroy(&m->lock);
    free(m->api_key);
    free(m);
}

void mailchimp_standin_inject(struct mailchimp_standin *m, const char *method, const char *path,
                              const struct standin_reply *replies, size_t n)
{
    pthread_mutex_lock(&m->lock);
    struct injected **tail = &m->queue;
    while (*tail)
        tail = &(*tail)->next;
    for (size_t i = 0; i < n; i++) {
        struct injected *in = calloc(1, sizeof(*in));
        in->method = strdup(method);
        in->path = strdup(path);
        in->reply = replies[i];
        in->reply.content_type = dup_or_null(replies[i].content_type);
        in->reply.body = dup_or_null(replies[i].body);
        in->reply.headers = dup_or_null(replies[i].headers);
        *tail = in;
        tail = &in->next;
    }
    pthread_mutex_unlock(&m->lock);
}

static struct json_object *find_member(struct mailchimp_standin *m, const char *list,
                                       const char *hash)
{
    struct json_object *members, *member;
    if (!json_object_object_get_ex(m->lists, list, &members) ||
        !json_object_object_get_ex(members, hash, &member))
        return NULL;
    return member;
}

bool mailchimp_standin_member_status(struct mailchimp_standin *m, const char *list,
                                     const char *hash, char *out, size_t len)
{
    pthread_mutex_lock(&m->lock);
    struct json_object *member = find_member(m, list, hash);
    if (member)
        snprintf(out, len, "%s", str_field(member, "status"));
    pthread_mutex_unlock(&m->lock);
    return member != NULL;
}

bool mailchimp_standin_member_has_tag(struct mailchimp_standin *m, const char *list,
                                      const char *hash, const char *tag)
{
    bool found = false;
    pthread_mutex_lock(&m->lock);
    struct json_object *member = find_member(m, list, hash), *tags;
    if (member && json_object_object_get_ex(member, "tags", &tags)) {
        size_t n = json_object_array_length(tags);
        for (size_t i = 0; i < n && !found; i++)
            found = strcmp(str_field(json_object_array_get_idx(tags, i), "name"), tag) == 0;
    }
    pthread_mutex_unlock(&m->lock);
    return found;
}
