/*
 * trigger_harness: drive one connector's webhook trigger through the core's
 * host table as the engine does, for the unit vector tests
 * (tests/unit/test_*_vectors.c, test_http_webhook.c). A workflow is written
 * to a file and loaded (so defaults and validate apply), setup runs as in
 * engine.c, and receive gets a struct sb_request as ingress.c builds it,
 * with the clock fixed by a call hook. Signatures to compare against are
 * computed with OpenSSL directly, never with the core.
 *
 * One harness per test program: trigger_harness_setup in the cmocka group
 * setup, trigger_harness_teardown as the group teardown. Every helper that
 * checks something fails the running test (cmocka) rather than returning.
 */
#ifndef SB_TRIGGER_HARNESS_H
#define SB_TRIGGER_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json_object.h>
#include <openssl/evp.h>
#include <switchboard/plugin.h>

#include "call.h"
#include "diag.h"
#include "loader.h"
#include "workflow.h"

/* What differs between the test programs (borrowed for the whole group;
 * only step may be NULL). */
struct trigger_harness {
    const char *plugin;     /* the connector: SB_PLUGIN_DIR/<plugin>.so (log.so is loaded too) */
    const char *trigger;    /* what [trigger] uses unless a helper is told otherwise */
    const char *secret_env; /* the environment variable that carries the secret */
    const char *step;       /* the workflow's step section; NULL: a log.write step */
    int64_t *clock_ms;      /* the clock receive sees, in Unix ms; the test moves it */
};

/* Load the plugins and make the folder workflows are written to. 0, or
 * nonzero with the problems on stderr. */
int trigger_harness_setup(const struct trigger_harness *config);
/* Release what setup made; a cmocka group teardown. */
int trigger_harness_teardown(void **state);

/* --- a loaded workflow, its trigger set up ----------------------------------- */

struct hook {
    struct workflow_set set;
    struct workflow *wf;
    const struct loaded_trigger *t;
    struct json_object *params; /* the trigger's, defaults applied; owned */
    void *state;                /* what the trigger's setup stored */
    bool set_up;
};

/* Load the workflow `text` (written to a file first). 0, or -1 with the
 * problems in d. Either way release h with hook_close. */
int hook_load_text(struct hook *h, const char *text, struct diag *d);
/*
 * Load a workflow whose [trigger] uses the harness's trigger with `path = t`,
 * then `lines` (more trigger keys, from line 4; may be NULL) and the secret
 * (when not NULL, through the environment), and the harness's step. As
 * hook_load_text.
 */
int hook_load(struct hook *h, const char *secret, const char *lines, struct diag *d);
/* hook_load, then the trigger's setup as engine.c runs it; an error of
 * either fails the test. */
void hook_open(struct hook *h, const char *secret, const char *lines);
/* Tear the trigger down when it was set up and release everything; h may
 * be one whose load failed. */
void hook_close(struct hook *h);

/* The workflow `text` loads (warnings allowed), or the test fails. h holds
 * it, the trigger not set up (for tests of actions); release with
 * hook_close. */
void expect_loads(struct hook *h, const char *text);
/*
 * A workflow as hook_load writes it, but with `trigger` (NULL: the
 * harness's) and `step` (the whole step section; NULL: the harness's),
 * loads without a word (no error, no warning), or the test fails. As
 * expect_loads.
 */
void expect_clean_load(struct hook *h, const char *trigger, const char *secret, const char *lines,
                       const char *step);
/* Loading that workflow must fail with a problem on parameter `key` whose
 * message contains `want`. */
void expect_load_error(const char *trigger, const char *secret, const char *lines, const char *step,
                       const char *key, const char *want);
/* The same for a whole workflow text. */
void expect_text_load_error(const char *text, const char *key, const char *want);

/* --- requests ------------------------------------------------------------------ */

#define REQ_MAX_HEADERS 16
#define REQ_MAX_QUERY 8

/* A request as ingress.c passes it on. The strings are borrowed. */
struct req {
    const char *method; /* "POST" unless the test changes it */
    struct sb_header headers[REQ_MAX_HEADERS];
    size_t n_headers;
    struct sb_header query[REQ_MAX_QUERY];
    size_t n_query;
    const char *body;
    size_t body_len;
    const char *content_type; /* may be NULL */
    const char *raw_query;    /* the query string as sent, without '?'; NULL: "" */
};

/* A POST of `body` (NULL: empty), with a Content-Type header first when
 * content_type is not NULL. */
void req_init(struct req *r, const char *content_type, const char *body);
void req_header(struct req *r, const char *name, const char *value);
void req_query(struct req *r, const char *name, const char *value);

/* Call the trigger's receive as ingress.c does; rx is filled (the caller
 * releases it). No assertions, so a forked child may call it. */
enum sb_status hook_receive(struct hook *h, const struct req *r, struct receive_result *rx);
/* The request is accepted with one event; the caller releases rx. */
void expect_event(struct hook *h, const struct req *r, struct receive_result *rx);
void expect_accepted(struct hook *h, const struct req *r);
/* The request is refused with `status` and a reason containing `why`
 * (any reason when why is NULL). */
void expect_rejected(struct hook *h, const struct req *r, int status, const char *why);

/* --- the trigger's durable kv (kv_get / kv_set), kept in memory ------------------ */

/* Forget every key (and mend a broken store). */
void harness_kv_clear(void);
/* Set a key of a scope as the store would hold it ("/hooks/t" for the
 * harness's hook path). */
void harness_kv_set(const char *scope, const char *key, const char *value);
/* A key's value, or NULL. Borrowed until the key changes. */
const char *harness_kv_value(const char *scope, const char *key);
/* While broken, kv_get and kv_set fail as an unavailable store does. */
void harness_kv_break(bool broken);

/* --- signatures, computed with OpenSSL -------------------------------------------- */

/* `prefix` then HMAC(md, key, a || b) in lowercase hex into out; b may be
 * NULL. Fails the test when out is too small. */
void sig_hex(const EVP_MD *md, const char *key, const char *a, const char *b, const char *prefix,
             char *out, size_t out_size);
/* The same in base64. */
void sig_b64(const EVP_MD *md, const char *key, const char *a, const char *b, const char *prefix,
             char *out, size_t out_size);
/* sig_b64 with a key of key_len bytes that may hold NULs. */
void sig_b64_key(const EVP_MD *md, const unsigned char *key, size_t key_len, const char *a,
                 const char *b, const char *prefix, char *out, size_t out_size);

#endif
