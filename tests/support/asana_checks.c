/*
 * asana_checks: what the Asana API checks on the routes the asana
 * connector calls, its webhook handshake, and its deliveries (see
 * asana_checks.h).
 */
#include "asana_checks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "standin.h"
#include "testkit.h"

#define MAX_FAULTS 16
#define MAX_TASKS 256
#define MAX_HOOKS 16
#define WRITE_LIMIT 15
#define FIRST_TASK 1300000000000001LL

struct webhook {
    char gid[24], resource[40], target[512], secret[65];
    bool deleted;
};

struct asana_api {
    char *token;
    pthread_mutex_t lock;
    struct {
        int status;
        char *body, *headers;
    } faults[MAX_FAULTS];
    size_t n_faults;
    size_t n_tasks, n_comments, refused, in_flight, max_in_flight;
    int delay_ms;
    struct webhook hooks[MAX_HOOKS];
    size_t n_hooks;
};

static char *ac_strdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) {
        fputs("asana_checks: out of memory\n", stderr);
        abort();
    }
    return d;
}

/* --- answers ---------------------------------------------------------------------- */

static bool refuse(struct asana_api *a, struct standin_reply *reply, int status,
                   const char *message, char *buf, size_t buflen)
{
    pthread_mutex_lock(&a->lock);
    a->refused++;
    pthread_mutex_unlock(&a->lock);
    struct json_object *o = json_object_new_object(), *errors = json_object_new_array(),
                       *e = json_object_new_object();
    json_object_object_add(e, "message", json_object_new_string(message));
    json_object_object_add(e, "help",
                           json_object_new_string("For more information on API status codes and "
                                                  "how to handle them, read the docs on errors: "
                                                  "https://developers.asana.com/docs/errors"));
    json_object_array_add(errors, e);
    json_object_object_add(o, "errors", errors);
    snprintf(buf, buflen, "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    *reply = (struct standin_reply){status, "application/json; charset=UTF-8", buf, NULL, 0};
    return false;
}

/* {"data": data} (consumed) as the answer. */
static bool answer_data(struct standin_reply *reply, int status, struct json_object *data,
                        char *buf, size_t buflen)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "data", data);
    snprintf(
        buf, buflen, "%s",
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    *reply = (struct standin_reply){status, "application/json; charset=UTF-8", buf, NULL, 0};
    return false;
}

static bool take_fault(struct asana_api *a, struct standin_reply *reply, char *buf, size_t buflen)
{
    pthread_mutex_lock(&a->lock);
    if (a->n_faults == 0) {
        pthread_mutex_unlock(&a->lock);
        return false;
    }
    int status = a->faults[0].status;
    char *body = a->faults[0].body, *headers = a->faults[0].headers;
    memmove(&a->faults[0], &a->faults[1], (a->n_faults - 1) * sizeof(a->faults[0]));
    a->n_faults--;
    pthread_mutex_unlock(&a->lock);
    size_t half = buflen / 2;
    snprintf(buf, half, "%s", body);
    snprintf(buf + half, buflen - half, "%s", headers);
    *reply = (struct standin_reply){status, "application/json; charset=UTF-8", buf, buf + half, 0};
    free(body);
    free(headers);
    return true;
}

/* --- checks ------------------------------------------------------------------------ */

static bool is_gid(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < 24 && strspn(s, "0123456789") == n;
}

static bool is_date(const char *s)
{
    return strlen(s) == 10 && s[4] == '-' && s[7] == '-' && strspn(s, "0123456789-") == 10;
}

/* The first problem with a task's data, written into msg, or NULL. */
static const char *bad_task(struct json_object *data, char *msg, size_t len)
{
    static const char *const known[] = {"name",     "notes",  "workspace", "projects",
                                        "assignee", "due_on", NULL};
    json_object_object_foreach(data, key, val)
    {
        bool found = false;
        for (size_t i = 0; known[i] && !found; i++)
            found = strcmp(key, known[i]) == 0;
        if (!found) {
            snprintf(msg, len, "%s: Unknown field", key);
            return msg;
        }
        (void)val;
    }
    struct json_object *v, *projects = NULL;
    if (!json_object_object_get_ex(data, "name", &v) || !json_object_is_type(v, json_type_string))
        return "name: Missing input";
    bool where = false;
    if (json_object_object_get_ex(data, "workspace", &v)) {
        if (strcmp(json_object_get_string(v), ASANA_WORKSPACE) != 0)
            return "workspace: Not a recognized ID";
        where = true;
    }
    if (json_object_object_get_ex(data, "projects", &projects)) {
        if (!json_object_is_type(projects, json_type_array))
            return "projects: Not an array";
        for (size_t i = 0; i < json_object_array_length(projects); i++) {
            const char *p = json_object_get_string(json_object_array_get_idx(projects, i));
            if (!is_gid(p) || strcmp(p, ASANA_PROJECT) != 0)
                return "projects: [0]: Not a recognized ID";
        }
        where |= json_object_array_length(projects) > 0;
    }
    if (!where)
        return "workspace: Missing input";
    if (json_object_object_get_ex(data, "due_on", &v) && !is_date(json_object_get_string(v)))
        return "due_on: Invalid date";
    return NULL;
}

static bool create_task(struct asana_api *a, struct json_object *data, struct standin_reply *reply,
                        char *buf, size_t buflen)
{
    char msg[200];
    const char *why = bad_task(data, msg, sizeof(msg));
    if (why)
        return refuse(a, reply, 400, why, buf, buflen);
    if (take_fault(a, reply, buf, buflen))
        return false;
    pthread_mutex_lock(&a->lock);
    long long gid = FIRST_TASK + (long long)a->n_tasks++;
    pthread_mutex_unlock(&a->lock);
    char id[32], link[128];
    snprintf(id, sizeof(id), "%lld", gid);
    snprintf(link, sizeof(link), "https://app.asana.com/0/%s/%s", ASANA_PROJECT, id);
    struct json_object *task = json_object_new_object();
    json_object_object_add(task, "gid", json_object_new_string(id));
    json_object_object_add(task, "resource_type", json_object_new_string("task"));
    json_object_object_foreach(data, key, val)
    {
        json_object_object_add(task, key, json_object_get(val));
    }
    json_object_object_add(task, "permalink_url", json_object_new_string(link));
    json_object_object_add(task, "completed", json_object_new_boolean(0));
    return answer_data(reply, 201, task, buf, buflen);
}

static bool add_story(struct asana_api *a, const char *task, struct json_object *data,
                      struct standin_reply *reply, char *buf, size_t buflen)
{
    long long gid = strtoll(task, NULL, 10);
    pthread_mutex_lock(&a->lock);
    bool known = is_gid(task) && gid >= FIRST_TASK && gid < FIRST_TASK + (long long)a->n_tasks;
    pthread_mutex_unlock(&a->lock);
    char msg[160];
    if (!known) {
        snprintf(msg, sizeof(msg), "task: Unknown object: %.40s", task);
        return refuse(a, reply, 404, msg, buf, buflen);
    }
    struct json_object *v;
    if (!json_object_object_get_ex(data, "text", &v) || !*json_object_get_string(v))
        return refuse(a, reply, 400, "text: Missing input", buf, buflen);
    if (take_fault(a, reply, buf, buflen))
        return false;
    pthread_mutex_lock(&a->lock);
    size_t n = ++a->n_comments;
    pthread_mutex_unlock(&a->lock);
    char id[32];
    snprintf(id, sizeof(id), "14000000000%05zu", n);
    struct json_object *story = json_object_new_object();
    json_object_object_add(story, "gid", json_object_new_string(id));
    json_object_object_add(story, "resource_type", json_object_new_string("story"));
    json_object_object_add(story, "type", json_object_new_string("comment"));
    json_object_object_add(story, "text", json_object_get(v));
    return answer_data(reply, 201, story, buf, buflen);
}

/* --- webhooks ------------------------------------------------------------------------ */

static struct json_object *webhook_data(const struct webhook *w)
{
    struct json_object *d = json_object_new_object(), *r = json_object_new_object();
    json_object_object_add(d, "gid", json_object_new_string(w->gid));
    json_object_object_add(d, "resource_type", json_object_new_string("webhook"));
    json_object_object_add(r, "gid", json_object_new_string(w->resource));
    json_object_object_add(r, "resource_type", json_object_new_string("project"));
    json_object_object_add(d, "resource", r);
    json_object_object_add(d, "target", json_object_new_string(w->target));
    json_object_object_add(d, "active", json_object_new_boolean(1));
    return d;
}

/* The handshake: POST target with X-Hook-Secret; it must echo it. */
static bool handshake(const char *target, const char *secret)
{
    char line[128];
    snprintf(line, sizeof(line), "X-Hook-Secret: %s", secret);
    const char *headers[] = {line, NULL};
    struct http_reply r;
    if (http_do("POST", target, headers, "", 0, 10000, &r) < 0)
        return false;
    char echoed[128] = "";
    bool ok = (r.status == 200 || r.status == 204) &&
              http_reply_header(&r, "X-Hook-Secret", echoed, sizeof(echoed)) &&
              strcmp(echoed, secret) == 0;
    http_reply_free(&r);
    return ok;
}

static bool create_webhook(struct asana_api *a, struct json_object *data,
                           struct standin_reply *reply, char *buf, size_t buflen)
{
    struct json_object *resource, *target;
    if (!json_object_object_get_ex(data, "resource", &resource) ||
        !is_gid(json_object_get_string(resource)))
        return refuse(a, reply, 400, "resource: Missing input", buf, buflen);
    if (!json_object_object_get_ex(data, "target", &target) ||
        strncmp(json_object_get_string(target), "http", 4) != 0)
        return refuse(a, reply, 400, "target: Missing input", buf, buflen);
    if (take_fault(a, reply, buf, buflen))
        return false;
    unsigned char raw[32];
    RAND_bytes(raw, sizeof(raw));
    struct webhook w = {0};
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(w.secret + 2 * i, 3, "%02x", raw[i]);
    snprintf(w.resource, sizeof(w.resource), "%s", json_object_get_string(resource));
    snprintf(w.target, sizeof(w.target), "%s", json_object_get_string(target));
    /* while this request is open, as Asana does */
    if (!handshake(w.target, w.secret))
        return refuse(a, reply, 400, "The remote server did not respond with the handshake secret.",
                      buf, buflen);
    pthread_mutex_lock(&a->lock);
    if (a->n_hooks == MAX_HOOKS) {
        pthread_mutex_unlock(&a->lock);
        return refuse(a, reply, 400, "too many webhooks", buf, buflen);
    }
    snprintf(w.gid, sizeof(w.gid), "15000000000%05zu", a->n_hooks + 1);
    a->hooks[a->n_hooks++] = w;
    pthread_mutex_unlock(&a->lock);
    return answer_data(reply, 201, webhook_data(&w), buf, buflen);
}

/* The query parameter `name` into out; false when absent. */
static bool query_value(const char *query, const char *name, char *out, size_t len)
{
    size_t n = strlen(name);
    for (const char *p = query; p && *p;) {
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            snprintf(out, len, "%.*s", (int)strcspn(p + n + 1, "&"), p + n + 1);
            return true;
        }
        p = strchr(p, '&');
        p = p ? p + 1 : NULL;
    }
    return false;
}

static bool webhooks_route(struct asana_api *a, const struct standin_request *req, const char *rest,
                           struct json_object *data, struct standin_reply *reply, char *buf,
                           size_t buflen)
{
    if (*rest == '\0' && strcmp(req->method, "POST") == 0)
        return create_webhook(a, data, reply, buf, buflen);
    if (*rest == '\0' && strcmp(req->method, "GET") == 0) {
        char workspace[64], resource[64] = "";
        if (!query_value(req->query, "workspace", workspace, sizeof(workspace)))
            return refuse(a, reply, 400, "workspace: Missing input", buf, buflen);
        query_value(req->query, "resource", resource, sizeof(resource));
        struct json_object *list = json_object_new_array();
        pthread_mutex_lock(&a->lock);
        for (size_t i = 0; i < a->n_hooks; i++)
            if (!a->hooks[i].deleted && strcmp(workspace, ASANA_WORKSPACE) == 0 &&
                (!*resource || strcmp(resource, a->hooks[i].resource) == 0))
                json_object_array_add(list, webhook_data(&a->hooks[i]));
        pthread_mutex_unlock(&a->lock);
        return answer_data(reply, 200, list, buf, buflen);
    }
    if (*rest != '/')
        return refuse(a, reply, 404, "Unknown route", buf, buflen);
    const char *gid = rest + 1;
    pthread_mutex_lock(&a->lock);
    struct webhook *w = NULL;
    for (size_t i = 0; i < a->n_hooks && !w; i++)
        if (!a->hooks[i].deleted && strcmp(a->hooks[i].gid, gid) == 0)
            w = &a->hooks[i];
    struct json_object *d = NULL;
    if (w && strcmp(req->method, "DELETE") == 0) {
        w->deleted = true;
        d = json_object_new_object();
    } else if (w && strcmp(req->method, "GET") == 0) {
        d = webhook_data(w);
    }
    pthread_mutex_unlock(&a->lock);
    if (!d)
        return refuse(a, reply, 404, "webhook: Unknown object", buf, buflen);
    return answer_data(reply, 200, d, buf, buflen);
}

/* The check on every /api/1.0/ route (arg: the struct asana_api). */
static bool asana_check(void *arg, const struct standin_request *req, struct standin_reply *reply,
                        char *buf, size_t buflen)
{
    struct asana_api *a = arg;
    const char *auth = standin_header(req, "Authorization");
    if (!auth || strncmp(auth, "Bearer ", 7) != 0 || strcmp(auth + 7, a->token) != 0)
        return refuse(a, reply, 401, "Not Authorized", buf, buflen);
    struct json_object *body = NULL, *data = NULL;
    if (req->body_len) {
        const char *ct = standin_header(req, "Content-Type");
        if (!ct || strncasecmp(ct, "application/json", 16) != 0)
            return refuse(a, reply, 400, "Could not parse request data, invalid JSON", buf, buflen);
        body = json_tokener_parse(req->body);
        if (!body || !json_object_object_get_ex(body, "data", &data) ||
            !json_object_is_type(data, json_type_object)) {
            json_object_put(body);
            return refuse(a, reply, 400, "data: Missing input", buf, buflen);
        }
    }
    const char *path = req->path + strlen("/api/1.0");
    bool write = strcmp(req->method, "GET") != 0;
    if (write) {
        pthread_mutex_lock(&a->lock);
        bool over = a->in_flight >= WRITE_LIMIT;
        if (!over && ++a->in_flight > a->max_in_flight)
            a->max_in_flight = a->in_flight;
        int delay = a->delay_ms;
        pthread_mutex_unlock(&a->lock);
        if (over) {
            json_object_put(body);
            refuse(a, reply, 429, "You have made too many concurrent requests", buf, buflen);
            reply->headers = "Retry-After: 1\n";
            return false;
        }
        if (delay > 0) {
            struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    bool answered;
    bool posted = strcmp(req->method, "POST") == 0;
    if (posted && !data) {
        answered = !refuse(a, reply, 400, "data: Missing input", buf, buflen);
    } else if (strcmp(path, "/tasks") == 0 && posted) {
        answered = !create_task(a, data, reply, buf, buflen);
    } else if (strncmp(path, "/tasks/", 7) == 0 && strcmp(req->method, "POST") == 0 &&
               strstr(path + 7, "/stories") &&
               strcmp(strstr(path + 7, "/stories"), "/stories") == 0) {
        char task[64];
        snprintf(task, sizeof(task), "%.*s", (int)(strstr(path + 7, "/stories") - (path + 7)),
                 path + 7);
        answered = !add_story(a, task, data, reply, buf, buflen);
    } else if (strncmp(path, "/webhooks", 9) == 0) {
        answered = !webhooks_route(a, req, path + 9, data, reply, buf, buflen);
    } else {
        answered = take_fault(a, reply, buf, buflen);
    }
    if (write) {
        pthread_mutex_lock(&a->lock);
        a->in_flight--;
        pthread_mutex_unlock(&a->lock);
    }
    json_object_put(body);
    return !answered;
}

/* --- the API ---------------------------------------------------------------------------- */

struct asana_api *asana_api_install(struct standin *s, const char *token)
{
    struct asana_api *a = calloc(1, sizeof(*a));
    if (!a) {
        fputs("asana_checks: out of memory\n", stderr);
        abort();
    }
    a->token = ac_strdup(token);
    pthread_mutex_init(&a->lock, NULL);
    standin_check(s, "*", "/api/1.0/*", asana_check, a);
    return a;
}

void asana_api_free(struct asana_api *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_faults; i++) {
        free(a->faults[i].body);
        free(a->faults[i].headers);
    }
    pthread_mutex_destroy(&a->lock);
    free(a->token);
    free(a);
}

void asana_api_write_delay(struct asana_api *a, int ms)
{
    pthread_mutex_lock(&a->lock);
    a->delay_ms = ms;
    pthread_mutex_unlock(&a->lock);
}

void asana_api_fail_next(struct asana_api *a, int status, const char *body, const char *headers)
{
    pthread_mutex_lock(&a->lock);
    if (a->n_faults < MAX_FAULTS) {
        a->faults[a->n_faults].status = status;
        a->faults[a->n_faults].body = ac_strdup(body);
        a->faults[a->n_faults].headers = ac_strdup(headers);
        a->n_faults++;
    }
    pthread_mutex_unlock(&a->lock);
}

static size_t read_count(struct asana_api *a, const size_t *field)
{
    pthread_mutex_lock(&a->lock);
    size_t n = *field;
    pthread_mutex_unlock(&a->lock);
    return n;
}

size_t asana_api_tasks(struct asana_api *a)
{
    return read_count(a, &a->n_tasks);
}

size_t asana_api_comments(struct asana_api *a)
{
    return read_count(a, &a->n_comments);
}

size_t asana_api_refused(struct asana_api *a)
{
    return read_count(a, &a->refused);
}

size_t asana_api_max_writes(struct asana_api *a)
{
    return read_count(a, &a->max_in_flight);
}

size_t asana_api_webhooks(struct asana_api *a)
{
    pthread_mutex_lock(&a->lock);
    size_t n = 0;
    for (size_t i = 0; i < a->n_hooks; i++)
        n += !a->hooks[i].deleted;
    pthread_mutex_unlock(&a->lock);
    return n;
}

bool asana_api_last_secret(struct asana_api *a, char *out, size_t len)
{
    pthread_mutex_lock(&a->lock);
    bool found = a->n_hooks > 0;
    if (found)
        snprintf(out, len, "%s", a->hooks[a->n_hooks - 1].secret);
    pthread_mutex_unlock(&a->lock);
    return found;
}

long asana_api_deliver(struct asana_api *a, const char *body)
{
    pthread_mutex_lock(&a->lock);
    struct webhook w = {0};
    bool found = a->n_hooks > 0 && !a->hooks[a->n_hooks - 1].deleted;
    if (found)
        w = a->hooks[a->n_hooks - 1];
    pthread_mutex_unlock(&a->lock);
    if (!found)
        return 0;
    unsigned char mac[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), w.secret, (int)strlen(w.secret), (const unsigned char *)body, strlen(body),
         mac, &n);
    char sig[128] = "X-Hook-Signature: ";
    for (unsigned int i = 0; i < n; i++)
        snprintf(sig + strlen(sig), sizeof(sig) - strlen(sig), "%02x", mac[i]);
    const char *headers[] = {"Content-Type: application/json; charset=UTF-8", sig, NULL};
    struct http_reply r;
    if (http_do("POST", w.target, headers, body, strlen(body), 10000, &r) < 0)
        return 0;
    long status = r.status;
    http_reply_free(&r);
    return status;
}
