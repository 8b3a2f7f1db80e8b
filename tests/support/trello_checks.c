/*
 * trello_checks: what the Trello API checks on the routes the trello
 * connector calls, and realistic answers (see trello_checks.h).
 */
#include "trello_checks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "standin.h"

#define MAX_FAULTS 16
#define MAX_WEBHOOKS 16

struct trello_fault {
    int status;
    char *content_type;
    char *body;
};

/* A webhook Trello keeps (owned by the token that created it). */
struct trello_webhook {
    char id[25];
    char *callback_url, *id_model, *description;
};

struct trello_api {
    char *key, *token;
    pthread_mutex_t lock;
    struct trello_fault faults[MAX_FAULTS];
    size_t n_faults;
    size_t created, refused;
    struct trello_webhook webhooks[MAX_WEBHOOKS];
    size_t n_webhooks, webhook_seq;
};

static char *tc_strdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) {
        fputs("trello_checks: out of memory\n", stderr);
        abort();
    }
    return d;
}

/* --- answers ---------------------------------------------------------------------- */

static bool refuse(struct trello_api *t, struct standin_reply *reply, int status, const char *text)
{
    pthread_mutex_lock(&t->lock);
    t->refused++;
    pthread_mutex_unlock(&t->lock);
    *reply = (struct standin_reply){status, "text/plain; charset=utf-8", text, NULL, 0};
    return false;
}

/* Copy a JSON answer into buf and point the reply at it. */
static bool answer_json(struct standin_reply *reply, struct json_object *obj, char *buf,
                        size_t buflen)
{
    snprintf(buf, buflen, "%s",
             json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(obj);
    *reply = (struct standin_reply){200, "application/json; charset=utf-8", buf, NULL, 0};
    return false;
}

/* The next queued fault into reply (its strings copied into buf); false
 * when none is queued. */
static bool take_fault(struct trello_api *t, struct standin_reply *reply, char *buf, size_t buflen)
{
    pthread_mutex_lock(&t->lock);
    if (t->n_faults == 0) {
        pthread_mutex_unlock(&t->lock);
        return false;
    }
    struct trello_fault f = t->faults[0];
    memmove(&t->faults[0], &t->faults[1], (t->n_faults - 1) * sizeof(t->faults[0]));
    t->n_faults--;
    pthread_mutex_unlock(&t->lock);
    size_t half = buflen / 2;
    snprintf(buf, half, "%s", f.body);
    snprintf(buf + half, buflen - half, "%s", f.content_type);
    *reply = (struct standin_reply){f.status, buf + half, buf, NULL, 0};
    free(f.body);
    free(f.content_type);
    return true;
}

/* --- checks ------------------------------------------------------------------------- */

/* The value of name="value" in an OAuth header into out; false if absent
 * or unquoted. */
static bool oauth_param(const char *header, const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    for (const char *p = header; (p = strstr(p, name)) != NULL; p += n) {
        bool starts = p == header || p[-1] == ' ' || p[-1] == ',';
        if (!starts || p[n] != '=')
            continue;
        const char *v = p + n + 1;
        if (*v != '"')
            return false;
        const char *end = strchr(v + 1, '"');
        if (!end || (size_t)(end - v - 1) >= outlen)
            return false;
        memcpy(out, v + 1, (size_t)(end - v - 1));
        out[end - v - 1] = '\0';
        return true;
    }
    return false;
}

/* Whether the query string holds a parameter `name`. */
static bool query_has(const char *query, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = query; p && *p;) {
        if (strncmp(p, name, n) == 0 && (p[n] == '=' || p[n] == '&' || p[n] == '\0'))
            return true;
        p = strchr(p, '&');
        p = p ? p + 1 : NULL;
    }
    return false;
}

static bool is_hex_id(const char *s)
{
    if (!s || strlen(s) != 24)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static bool is_short_link(const char *s, size_t n)
{
    if (n != 8)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= 'A' && s[i] <= 'Z')))
            return false;
    return true;
}

/* "a,b,c" of 24-hex ids (or a JSON array of them). */
static bool valid_id_list(struct json_object *v)
{
    if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++)
            if (!is_hex_id(json_object_get_string(json_object_array_get_idx(v, i))))
                return false;
        return true;
    }
    if (!json_object_is_type(v, json_type_string))
        return false;
    const char *s = json_object_get_string(v);
    if (!*s)
        return true;
    char id[32];
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n >= sizeof(id))
            return false;
        memcpy(id, s, n);
        id[n] = '\0';
        if (!is_hex_id(id))
            return false;
        s += n + (s[n] == ',');
    }
    return true;
}

static bool valid_pos(struct json_object *v)
{
    if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
        return json_object_get_double(v) > 0;
    if (!json_object_is_type(v, json_type_string))
        return false;
    const char *s = json_object_get_string(v);
    if (strcmp(s, "top") == 0 || strcmp(s, "bottom") == 0)
        return true;
    char *end;
    double d = strtod(s, &end);
    return end != s && !*end && d > 0;
}

/* Trello's message for the first bad field of a card body ("invalid value
 * for idList", "unknown field 'x'"; may be written to buf), or NULL when
 * every field is good. */
static const char *bad_card_field(struct json_object *body, bool need_list, char *buf,
                                  size_t buflen)
{
    static const char *const known[] = {
        "idList",         "name",      "desc",     "pos",       "due",
        "dueComplete",    "idMembers", "idLabels", "urlSource", "idCardSource",
        "keepFromSource", "closed",    "start",    NULL};
    struct json_object *v;
    if (json_object_object_get_ex(body, "idList", &v)) {
        if (!json_object_is_type(v, json_type_string) || !is_hex_id(json_object_get_string(v)))
            return "invalid value for idList";
    } else if (need_list) {
        return "invalid value for idList";
    }
    json_object_object_foreach(body, key, val)
    {
        bool found = false;
        for (size_t i = 0; known[i] && !found; i++)
            found = strcmp(key, known[i]) == 0;
        if (!found) {
            snprintf(buf, buflen, "unknown field '%s'", key);
            return buf;
        }
        if ((strcmp(key, "name") == 0 || strcmp(key, "desc") == 0) &&
            !json_object_is_type(val, json_type_string)) {
            snprintf(buf, buflen, "invalid value for %s", key);
            return buf;
        }
        if (strcmp(key, "desc") == 0 && strlen(json_object_get_string(val)) > 16384)
            return "invalid value for desc";
        if (strcmp(key, "pos") == 0 && !valid_pos(val))
            return "invalid value for pos";
        if ((strcmp(key, "idLabels") == 0 || strcmp(key, "idMembers") == 0) &&
            !valid_id_list(val)) {
            snprintf(buf, buflen, "invalid value for %s", key);
            return buf;
        }
        if (strcmp(key, "due") == 0 && !json_object_is_type(val, json_type_string) &&
            !json_object_is_type(val, json_type_null))
            return "invalid value for due";
    }
    return NULL;
}

/* "1-printer-on-fire" from a card name, as Trello makes its URLs. */
static void slug(const char *name, char *out, size_t outlen)
{
    size_t o = (size_t)snprintf(out, outlen, "1-");
    bool dash = true;
    for (const char *p = name; *p && o + 2 < outlen; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            out[o++] = c;
            dash = false;
        } else if (!dash) {
            out[o++] = '-';
            dash = true;
        }
    }
    while (o > 2 && out[o - 1] == '-')
        o--;
    out[o] = '\0';
}

static void add_str(struct json_object *o, const char *key, const char *value)
{
    json_object_object_add(o, key, json_object_new_string(value));
}

/* The card Trello would answer for these fields. Caller owns. */
static struct json_object *card_answer(struct json_object *body, const char *id_list)
{
    struct json_object *v, *card = json_object_new_object();
    const char *name = json_object_object_get_ex(body, "name", &v) ? json_object_get_string(v) : "";
    char url[512], s[400];
    slug(name, s, sizeof(s));
    snprintf(url, sizeof(url), "%s/%s", TRELLO_CARD_SHORT_URL, s);
    add_str(card, "id", TRELLO_CARD_ID);
    json_object_object_add(card, "badges", json_object_new_object());
    json_object_object_add(card, "closed", json_object_new_boolean(0));
    add_str(card, "desc",
            json_object_object_get_ex(body, "desc", &v) ? json_object_get_string(v) : "");
    json_object_object_add(card, "due",
                           json_object_object_get_ex(body, "due", &v) ? json_object_get(v) : NULL);
    add_str(card, "idBoard", "5abbe4b7ddc1b351ef961400");
    add_str(card, "idList", id_list);
    json_object_object_add(card, "idShort", json_object_new_int(1));
    json_object_object_add(card, "idLabels", json_object_new_array());
    json_object_object_add(card, "idMembers", json_object_new_array());
    add_str(card, "name", name);
    json_object_object_add(card, "pos", json_object_new_int(65535));
    add_str(card, "shortLink", "AbCd1234");
    add_str(card, "shortUrl", TRELLO_CARD_SHORT_URL);
    add_str(card, "url", url);
    return card;
}

/* --- webhooks (connectors.md 4.1) --------------------------------------------------- */

static struct json_object *webhook_json(const struct trello_webhook *w)
{
    struct json_object *o = json_object_new_object();
    add_str(o, "id", w->id);
    add_str(o, "description", w->description);
    add_str(o, "idModel", w->id_model);
    add_str(o, "callbackURL", w->callback_url);
    json_object_object_add(o, "active", json_object_new_boolean(1));
    json_object_object_add(o, "consecutiveFailures", json_object_new_int(0));
    json_object_object_add(o, "firstConsecutiveFailDate", NULL);
    return o;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* Trello's check before it creates a webhook: HEAD callbackURL must answer
 * 200. The status it got (0: no answer). */
static long head_status(const char *url)
{
    CURL *h = curl_easy_init();
    if (!h)
        return 0;
    long status = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    return status;
}

static bool http_url(const char *s)
{
    return s && (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0) &&
           !strpbrk(s, " \t\r\n");
}

/*
 * POST /1/webhooks, GET /1/tokens/{token}/webhooks, DELETE /1/webhooks/{id}
 * (the caller checked the credentials). True when it answered; false lets
 * the script answer (other routes).
 */
static bool webhook_route(struct trello_api *t, const struct standin_request *req,
                          struct json_object *body, struct standin_reply *reply, char *buf,
                          size_t buflen)
{
    if (strcmp(req->method, "POST") == 0 && strcmp(req->path, "/1/webhooks") == 0) {
        struct json_object *v;
        const char *url = NULL, *model = NULL, *desc = "";
        if (body && json_object_object_get_ex(body, "callbackURL", &v) &&
            json_object_is_type(v, json_type_string))
            url = json_object_get_string(v);
        if (body && json_object_object_get_ex(body, "idModel", &v) &&
            json_object_is_type(v, json_type_string))
            model = json_object_get_string(v);
        if (body && json_object_object_get_ex(body, "description", &v))
            desc = json_object_get_string(v);
        if (!http_url(url))
            return !refuse(t, reply, 400, "invalid value for callbackURL");
        if (!is_hex_id(model))
            return !refuse(t, reply, 400, "invalid value for idModel");
        pthread_mutex_lock(&t->lock);
        bool dup = false;
        for (size_t i = 0; i < t->n_webhooks; i++)
            dup |= strcmp(t->webhooks[i].callback_url, url) == 0 &&
                   strcmp(t->webhooks[i].id_model, model) == 0;
        pthread_mutex_unlock(&t->lock);
        if (dup)
            return !refuse(t, reply, 400,
                           "A webhook with that callback, model, and token already exists");
        long head = head_status(url);
        if (head != 200) {
            snprintf(buf, buflen, "URL (%s) did not return 200 status code, got %ld", url, head);
            return !refuse(t, reply, 400, buf);
        }
        pthread_mutex_lock(&t->lock);
        if (t->n_webhooks == MAX_WEBHOOKS) {
            pthread_mutex_unlock(&t->lock);
            return !refuse(t, reply, 400, "too many webhooks");
        }
        struct trello_webhook *w = &t->webhooks[t->n_webhooks++];
        snprintf(w->id, sizeof(w->id), "5f0c%020zx", ++t->webhook_seq);
        w->callback_url = tc_strdup(url);
        w->id_model = tc_strdup(model);
        w->description = tc_strdup(desc);
        struct json_object *answer = webhook_json(w);
        pthread_mutex_unlock(&t->lock);
        return !answer_json(reply, answer, buf, buflen);
    }
    if (strcmp(req->method, "GET") == 0 && strncmp(req->path, "/1/tokens/", 10) == 0) {
        const char *tok = req->path + 10;
        size_t n = strcspn(tok, "/");
        if (strcmp(tok + n, "/webhooks") != 0)
            return false;
        if (n != strlen(t->token) || strncmp(tok, t->token, n) != 0)
            return !refuse(t, reply, 401, "invalid token");
        struct json_object *list = json_object_new_array();
        pthread_mutex_lock(&t->lock);
        for (size_t i = 0; i < t->n_webhooks; i++)
            json_object_array_add(list, webhook_json(&t->webhooks[i]));
        pthread_mutex_unlock(&t->lock);
        return !answer_json(reply, list, buf, buflen);
    }
    if (strcmp(req->method, "DELETE") == 0 && strncmp(req->path, "/1/webhooks/", 12) == 0) {
        const char *id = req->path + 12;
        pthread_mutex_lock(&t->lock);
        size_t i = 0;
        while (i < t->n_webhooks && strcmp(t->webhooks[i].id, id) != 0)
            i++;
        bool found = i < t->n_webhooks;
        if (found) {
            free(t->webhooks[i].callback_url);
            free(t->webhooks[i].id_model);
            free(t->webhooks[i].description);
            t->webhooks[i] = t->webhooks[--t->n_webhooks];
        }
        pthread_mutex_unlock(&t->lock);
        if (!found)
            return !refuse(t, reply, 404, "The requested resource was not found.");
        return !answer_json(reply, json_tokener_parse("{\"_value\": null}"), buf, buflen);
    }
    return false;
}

size_t trello_api_webhooks(struct trello_api *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->n_webhooks;
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* The check on every /1/ route (arg: the struct trello_api). */
static bool trello_check(void *arg, const struct standin_request *req, struct standin_reply *reply,
                         char *buf, size_t buflen)
{
    struct trello_api *t = arg;
    /* credentials in the URL: refused outright */
    if (query_has(req->query, "key") || query_has(req->query, "token"))
        return refuse(t, reply, 400,
                      "key and token belong in the Authorization header, not the query string");
    const char *auth = standin_header(req, "Authorization");
    char key[256], token[256];
    if (!auth || strncmp(auth, "OAuth ", 6) != 0 ||
        !oauth_param(auth, "oauth_consumer_key", key, sizeof(key)))
        return refuse(t, reply, 401, "invalid key");
    if (strcmp(key, t->key) != 0)
        return refuse(t, reply, 401, "invalid key");
    if (!oauth_param(auth, "oauth_token", token, sizeof(token)) || strcmp(token, t->token) != 0)
        return refuse(t, reply, 401, "invalid token");

    struct json_object *body = NULL;
    if (req->body_len) {
        const char *ct = standin_header(req, "Content-Type");
        if (!ct || strncasecmp(ct, "application/json", 16) != 0)
            return refuse(t, reply, 400, "invalid JSON");
        body = json_tokener_parse(req->body);
        if (!body || !json_object_is_type(body, json_type_object)) {
            json_object_put(body);
            return refuse(t, reply, 400, "invalid JSON");
        }
    }
    if (strncmp(req->path, "/1/webhooks", 11) == 0 || strncmp(req->path, "/1/tokens/", 10) == 0) {
        bool answered = webhook_route(t, req, body, reply, buf, buflen);
        json_object_put(body);
        return !answered;
    }
    /* which route: /1/cards, /1/cards/{card}, /1/cards/{card}/actions/comments */
    enum { OTHER, CREATE, UPDATE, COMMENT } route = OTHER;
    const char *card = NULL;
    size_t card_len = 0;
    if (strcmp(req->path, "/1/cards") == 0 && strcmp(req->method, "POST") == 0) {
        route = CREATE;
    } else if (strncmp(req->path, "/1/cards/", 9) == 0) {
        card = req->path + 9;
        card_len = strcspn(card, "/");
        const char *rest = card + card_len;
        if (*rest == '\0' && strcmp(req->method, "PUT") == 0)
            route = UPDATE;
        else if (strcmp(rest, "/actions/comments") == 0 && strcmp(req->method, "POST") == 0)
            route = COMMENT;
    }
    if (route == OTHER) {
        json_object_put(body);
        return true; /* the script answers */
    }
    char idtext[64] = "";
    if (card) {
        snprintf(idtext, sizeof(idtext), "%.*s", (int)(card_len < 60 ? card_len : 60), card);
        if (!is_hex_id(idtext) && !is_short_link(card, card_len)) {
            json_object_put(body);
            return refuse(t, reply, 400, "invalid id");
        }
    }
    if (!body)
        body = json_object_new_object();
    const char *why = NULL;
    struct json_object *v;
    if (route == COMMENT) {
        const char *text =
            json_object_object_get_ex(body, "text", &v) && json_object_is_type(v, json_type_string)
                ? json_object_get_string(v)
                : NULL;
        if (!text || !*text || strlen(text) > 16384)
            why = "invalid value for text";
    } else {
        char local[200];
        why = bad_card_field(body, route == CREATE, local, sizeof(local));
        if (why) {
            /* the reply must outlive this call: the buffer does */
            snprintf(buf, buflen, "%s", why);
            why = buf;
        }
    }
    if (why) {
        json_object_put(body);
        return refuse(t, reply, 400, why);
    }
    if (take_fault(t, reply, buf, buflen)) {
        json_object_put(body);
        return false;
    }
    struct json_object *answer;
    if (route == COMMENT) {
        answer = json_object_new_object();
        add_str(answer, "id", "5abbe4b7ddc1b351ef961499");
        add_str(answer, "type", "commentCard");
        add_str(answer, "date", "2025-01-15T10:00:00.000Z");
        struct json_object *data = json_object_new_object(), *c = json_object_new_object();
        json_object_object_add(data, "text", json_object_get(json_object_object_get(body, "text")));
        add_str(c, "id", is_hex_id(idtext) ? idtext : TRELLO_CARD_ID);
        add_str(c, "shortLink", is_hex_id(idtext) ? "AbCd1234" : idtext);
        json_object_object_add(data, "card", c);
        json_object_object_add(answer, "data", data);
    } else {
        const char *id_list = json_object_object_get_ex(body, "idList", &v)
                                  ? json_object_get_string(v)
                                  : "5abbe4b7ddc1b351ef961401";
        answer = card_answer(body, id_list);
        if (route == UPDATE && is_hex_id(idtext))
            add_str(answer, "id", idtext);
    }
    json_object_put(body);
    pthread_mutex_lock(&t->lock);
    t->created++;
    pthread_mutex_unlock(&t->lock);
    return answer_json(reply, answer, buf, buflen);
}

/* --- the API ---------------------------------------------------------------------------- */

struct trello_api *trello_api_install(struct standin *s, const char *key, const char *token)
{
    struct trello_api *t = calloc(1, sizeof(*t));
    if (!t) {
        fputs("trello_checks: out of memory\n", stderr);
        abort();
    }
    t->key = tc_strdup(key);
    t->token = tc_strdup(token);
    pthread_mutex_init(&t->lock, NULL);
    standin_check(s, "*", "/1/*", trello_check, t);
    return t;
}

void trello_api_free(struct trello_api *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_faults; i++) {
        free(t->faults[i].body);
        free(t->faults[i].content_type);
    }
    for (size_t i = 0; i < t->n_webhooks; i++) {
        free(t->webhooks[i].callback_url);
        free(t->webhooks[i].id_model);
        free(t->webhooks[i].description);
    }
    pthread_mutex_destroy(&t->lock);
    free(t->key);
    free(t->token);
    free(t);
}

void trello_api_fail_next(struct trello_api *t, int status, const char *content_type,
                          const char *body)
{
    pthread_mutex_lock(&t->lock);
    if (t->n_faults < MAX_FAULTS) {
        struct trello_fault *f = &t->faults[t->n_faults++];
        f->status = status;
        f->content_type = tc_strdup(content_type ? content_type : "application/json");
        f->body = tc_strdup(body);
    }
    pthread_mutex_unlock(&t->lock);
}

size_t trello_api_created(struct trello_api *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->created;
    pthread_mutex_unlock(&t->lock);
    return n;
}

size_t trello_api_refused(struct trello_api *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->refused;
    pthread_mutex_unlock(&t->lock);
    return n;
}
