/*
 * The core's side of struct sb_call: everything one plugin callback may ask
 * the host about (its parameters, its state, where its results go), and the
 * host function table that plugins receive.
 */
#ifndef SB_CALL_H
#define SB_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json_object.h>
#include <switchboard/plugin.h>

#include "diag.h"
#include "strbuf.h"

struct workflow;
struct step;
struct param_table;
struct param_binding;
struct plugin;

enum call_kind {
    CALL_INIT,
    CALL_VALIDATE,
    CALL_SETUP,
    CALL_RECEIVE,
    CALL_RUN,
    CALL_POLL,
    CALL_THREAD,
    CALL_SIGN,  /* switchboard sign */
    CALL_HOOKS, /* switchboard hooks */
};

/* Where receive's answer and events go (filled by emit/respond/reject).
 * At most RECEIVE_MAX_EVENTS events per request, and RECEIVE_MAX_HEADERS
 * headers added with respond_header. */
#define RECEIVE_MAX_EVENTS 100
#define RECEIVE_MAX_HEADERS 8
struct receive_result {
    struct sb_event_rec {
        char *id;
        char *type;
        char *source;
        struct json_object *payload;
        int64_t occurred_at_ms;
        char *payload_json;                /* the text as received, when the plugin gave it */
        const char *payload_json_borrowed; /* that text is the request body,
                                              which outlives the event: not
                                              copied */
        bool record_only;                  /* store for dedupe, start no run */
    } * events;
    size_t n_events;
    size_t cap_events;
    int status;         /* respond/reject status; 0 when neither */
    char *content_type; /* respond */
    char *body;         /* respond body, or reject reason */
    size_t body_len;
    bool rejected;
    /* respond_header: added to the answer unless it is a rejection */
    struct sb_header_rec {
        char *name;
        char *value;
    } headers[RECEIVE_MAX_HEADERS];
    size_t n_headers;
};

/* Hooks the engine plugs into a call so plugin code can reach the store,
 * the HTTP client and the clock without the call knowing the engine. */
struct call_hooks {
    void *ctx;
    enum sb_status (*emit)(void *ctx, struct sb_call *call, const struct sb_event *ev);
    int (*kv_get)(void *ctx, struct sb_call *call, const char *key, char **value);
    int (*kv_set)(void *ctx, struct sb_call *call, const char *key, const char *value);
    int64_t (*now_ms)(void *ctx);
};

struct sb_call {
    enum call_kind kind;
    const char *what;          /* "slack.post_message" */
    const struct workflow *wf; /* may be NULL */
    const char *step;          /* step name or NULL */
    int64_t run_id;            /* 0 when none */
    char context[192];         /* log prefix */
    struct plugin *plugin;
    struct json_object *params; /* name -> typed value; borrowed */
    const struct param_table *table;
    const struct param_binding *binding;
    void *state;       /* what setup stored */
    void **state_slot; /* setup: where set_state writes */
    /* validate */
    struct diag *diag;
    const char *file;
    const char *section;
    int config_errors;
    /* results */
    struct strbuf error;
    int64_t retry_after_s;      /* -1: none asked */
    struct json_object *output; /* owned */
    /* run */
    const char *idempotency_key;
    bool dry_run;
    int64_t timeout_ms;     /* default for sb->http */
    struct strbuf *dry_out; /* dry runs: where requests are printed */
    /* receive */
    struct receive_result *rx;
    const struct sb_request *rx_body; /* the request being received */
    /* poll */
    int64_t next_poll_at_ms; /* 0: the interval */
    const struct call_hooks *hooks;
    char *public_url; /* what sb->public_url returned last (owned) */
};

extern const struct sb_host core_host;

/* Prepare a call (caller storage); release with call_release. */
void call_init(struct sb_call *c, enum call_kind kind, const char *what);
void call_release(struct sb_call *c);
/* Set the log context "[what wf=... step=... run=...]". */
void call_set_context(struct sb_call *c);

/*
 * The parameters of a binding with defaults applied and only static values
 * (a template's source text stands for its value). Caller owns.
 */
struct json_object *call_params_static(const struct param_table *table,
                                       const struct param_binding *binding);
/* A private deep copy of a parameter object, for one call (shared json-c
 * objects must not cross threads: their reference counts are not atomic).
 * Caller owns. */
struct json_object *call_params_copy(struct json_object *params);

/*
 * The parameters of a binding rendered against `root`, typed. Returns 0 with
 * *out (caller owns), or -1 with err naming the parameter.
 */
int call_params_render(const struct param_table *table, const struct param_binding *binding,
                       struct json_object *root, struct json_object **out, char *err,
                       size_t errlen);

/* Run the plugin's validate callbacks for a workflow's trigger and steps;
 * problems go to diag with file:line. */
void call_validate_trigger(const struct workflow *wf, struct diag *diag);
void call_validate_step(const struct workflow *wf, const struct step *step, struct diag *diag);

/*
 * The base URL providers call, [server] public_url ("https://hooks.example.com",
 * no trailing '/'; NULL: none): sb->public_url appends /hooks/<path>. Set
 * once by app_load, before any plugin code runs. Copied.
 */
void call_set_public_base(const char *base);

/*
 * The store scope of sb->kv_get/kv_set for a call of trigger `what`
 * ("stripe.webhook") of workflow wf: "/hooks/<path>" for an HTTP trigger
 * (its hook path, shared by every workflow bound to it), else
 * "<workflow>:<what>". Into out (at most len bytes).
 */
void call_kv_scope(const struct workflow *wf, const char *what, char *out, size_t len);

/* The releaser for receive results. */
void receive_result_release(struct receive_result *rx);

#endif
