/*
 * switchboard SDK 1.x: the one public header for connector plugins.
 *
 * A plugin is a shared object that exports exactly one symbol, produced by
 * SB_PLUGIN_DEFINE(). Everything else it tells the core is static data: a
 * table of triggers and a table of actions, each with a table of parameters.
 * The core reads these tables, validates every workflow file against them
 * and only then runs plugin code. Everything the plugin asks of the core goes
 * through the host function table (struct sb_host) handed to every callback;
 * a plugin never links against the core (plugins are linked with
 * -Wl,-z,defs and the core exports nothing).
 *
 * ---------------------------------------------------------------------------
 * Compatibility rules
 * ---------------------------------------------------------------------------
 * - SB_ABI_MAJOR changes only when an existing struct field, callback
 *   signature or rule changes. The core refuses a plugin whose major differs.
 * - SB_ABI_MINOR grows when fields are appended to a struct or functions are
 *   appended to struct sb_host. The core loads a plugin built for its own
 *   minor or any older one, and refuses one built for a newer minor (with a
 *   sentence saying to upgrade switchboard or rebuild against the older SDK).
 *   Structs are only ever appended to, and the core reads each table with the
 *   element size the plugin was compiled with (recorded by SB_PLUGIN_DEFINE
 *   in struct sb_abi): fields a plugin's older header lacks are zero, so a
 *   1.0 plugin loads in a 1.1 core without the 1.1 callbacks.
 * - Therefore every host function declared in the header a plugin was built
 *   with is present, and non-NULL, in every core that loads the plugin:
 *   SB_HOST_HAS(sb, name) is true for each of them, and a plugin may call
 *   them without testing. SB_HOST_HAS is for source that is compiled against
 *   several SDK minors (the name must exist in the header it is built with).
 * - struct sb_abi itself and the entry symbol "sb_plugin_entry" never change.
 * - Each released minor's struct sizes are pinned by the core (static_assert
 *   on x86_64); SDK 1.0 is kept as a frozen header in the core's tests, and a
 *   plugin built against it must load and run in every 1.x core.
 *
 * ---------------------------------------------------------------------------
 * Ownership
 * ---------------------------------------------------------------------------
 * - Every pointer handed to a callback is borrowed for the duration of that
 *   call unless its comment says otherwise. Copy what you keep.
 * - Strings returned by host accessors are borrowed from the call and stay
 *   valid until the callback returns.
 * - A json_object passed to a host function marked "consumed" belongs to the
 *   core afterwards (its reference is taken over; do not json_object_put it).
 *   A json_object returned by a host function marked "borrowed" must not be
 *   released or modified. One marked "caller owns" must be released with
 *   json_object_put().
 * - Memory the host allocates for the plugin (marked "release with
 *   sb->free") must be released with sb->free.
 *
 * ---------------------------------------------------------------------------
 * Threading
 * ---------------------------------------------------------------------------
 * - init, fini, validate, setup, teardown, start and stop run on the main
 *   thread, one at a time.
 * - receive, run and poll run on worker threads, concurrently with each
 *   other, including several calls of the same callback at once. State made
 *   in init or setup is read-only afterwards unless the plugin locks it.
 * - sign runs in `switchboard sign`, and register_hook, unregister_hook and
 *   list_hooks in `switchboard hooks`: on the main thread of that command,
 *   one at a time, never in the engine. The hooks callbacks run after init
 *   (sb->plugin_state works) but without setup (sb->state is NULL); sign runs
 *   without either.
 * - Every host function may be called from any thread during a callback,
 *   with the struct sb_call of that callback. A thread started by `start` may
 *   call sb->emit and sb->log with the call given to `start` until `stop`
 *   returns.
 * - Plugins must not call exit(), abort() on bad input, or change process
 *   state (signals, working directory, locale, environment). Out of memory
 *   is an SB_FAIL, not a crash.
 */
#ifndef SWITCHBOARD_PLUGIN_H
#define SWITCHBOARD_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json_c_version.h>
#include <json-c/json_object.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SB_ABI_MAJOR 1
#define SB_ABI_MINOR 1
#define SB_SDK_VERSION "1.1"

/* First field of struct sb_abi: "SBPL". */
#define SB_ABI_MAGIC 0x5342504cu

/* The one exported symbol; its name and signature never change. */
#define SB_ENTRY_SYMBOL "sb_plugin_entry"

#if defined(__GNUC__) || defined(__clang__)
#define SB_EXPORT __attribute__((visibility("default")))
#define SB_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SB_EXPORT
#define SB_PRINTF(fmt, args)
#endif

#ifdef __cplusplus
#define SB_EXTERN_C extern "C"
#define SB_END                                                                                     \
    {                                                                                              \
    }
#else
#define SB_EXTERN_C
/* Terminates a table of parameters, triggers or actions. */
#define SB_END                                                                                     \
    {                                                                                              \
        .name = NULL                                                                               \
    }
#endif

struct sb_host;
struct sb_call;

/*
 * Result of a callback.
 * SB_OK    done (for run: output set with sb->set_output, if any).
 * SB_RETRY transient failure (network, 5xx, 429): the core schedules another
 *          attempt, no earlier than a retry-after given with sb->retry.
 * SB_FAIL  permanent failure (bad request, 4xx, provider says no): the run
 *          is dead unless the step says on_error = continue.
 * Use `return sb->fail(call, ...)` and `return sb->retry(call, ...)` so the
 * core records the error text with the result.
 */
enum sb_status {
    SB_OK = 0,
    SB_RETRY = 1,
    SB_FAIL = 2,
};

enum sb_log_level {
    SB_LOG_DEBUG = 0,
    SB_LOG_INFO = 1,
    SB_LOG_WARN = 2,
    SB_LOG_ERROR = 3,
};

/* ------------------------------------------------------------------------- */
/* Parameters                                                                */
/* ------------------------------------------------------------------------- */

/*
 * Parameter types, as written in a workflow file:
 * STRING   any text.
 * INT      a decimal integer (64-bit), checked against min/max.
 * BOOL     true/false, yes/no, on/off, 1/0.
 * DURATION a number with a unit: 250ms, 30s, 5m, 1h, 2d (a bare number is
 *          seconds); read with param_int in milliseconds; min/max in ms.
 * SIZE     a number with an optional unit: 512, 64K, 1M, 2G (powers of 1024);
 *          read with param_int in bytes; min/max in bytes.
 * ENUM     one of `values`.
 * LIST     items separated by spaces or commas ("double quotes" keep an item
 *          with spaces together); param_json gives an array of strings.
 * SECRET   must be a reference, ${env:NAME} or ${file:/path}; resolved at load
 *          time, never logged or printed (dry runs show ****).
 */
enum sb_param_type {
    SB_PARAM_STRING = 1,
    SB_PARAM_INT = 2,
    SB_PARAM_BOOL = 3,
    SB_PARAM_DURATION = 4,
    SB_PARAM_SIZE = 5,
    SB_PARAM_ENUM = 6,
    SB_PARAM_LIST = 7,
    SB_PARAM_SECRET = 8,
};

/* The workflow must set this parameter (a default makes no sense with it). */
#define SB_PARAM_REQUIRED (1u << 0)
/* The value may contain {{ ... }} templates, rendered per run before the
 * callback sees it. Without this flag braces are literal text. */
#define SB_PARAM_TEMPLATE (1u << 1)
/* The value is sensitive even when written literally: masked in describe
 * output, dry runs and logs (SECRET parameters always are). */
#define SB_PARAM_SENSITIVE (1u << 2)
/* A map, written as one line per entry: `name.<key> = value`
 * (header.X-Request-Id = ...). param_json gives an object of strings. */
#define SB_PARAM_MULTI (1u << 3)
/* Triggers only: a LIST of glob patterns over the event type (events =
 * invoice.* charge.succeeded). The core matches each workflow's patterns,
 * so workflows sharing one hook path may differ here. */
#define SB_PARAM_EVENT_TYPES (1u << 4)
/* Since 1.1. The value is a URL, or the part of one that says where a
 * request goes (a base address, a host or shop name): a template may not
 * render into its scheme, userinfo, host or port, so event data cannot
 * choose where the step's credentials are sent. `check` refuses such a
 * template unless the step sets dynamic_host = true (then the address is
 * checked when connecting). The core treats parameters with .escape =
 * SB_ESCAPE_URL, and those named url, api_base or *_url, the same way
 * without this flag; an older core ignores it. */
#define SB_PARAM_URL (1u << 5)
/* Since 1.1. A TEMPLATE value sent as rendered with no escaping for where
 * it goes (a raw request body): `check` warns where it holds a template,
 * because event data can then change the structure of what is sent. An
 * older core ignores it. */
#define SB_PARAM_UNESCAPED (1u << 6)

/*
 * How values inserted by templates are escaped in a TEMPLATE parameter.
 * NONE   inserted as text.
 * JSON   the parameter is a JSON document with templates in it: inside a
 *        JSON string a value is string-escaped; elsewhere it must be a
 *        scalar, inserted as a JSON value (strings quoted): an object or
 *        array fails the step unless the template asks for `| json`. The
 *        result is always valid JSON of the template's shape.
 * HEADER an HTTP header value: a value with CR or LF fails the step.
 * URL    values in the path or query are percent-encoded ("." and ".."
 *        as %2E, %2E%2E); a template may not render into the scheme,
 *        userinfo, host or port (see SB_PARAM_URL).
 * SLACK  Slack mrkdwn text: &, < and > become &amp; &lt; &gt;, so payload
 *        data cannot mention users or make links.
 * SLACK_JSON  a JSON document whose text is Slack mrkdwn (Block Kit): as
 *        JSON, and every inserted text is Slack-escaped first.
 * A `| raw` filter in the template opts one value out on purpose (in JSON
 * it must still be one JSON value outside quotes, or stay inside its
 * string).
 */
enum sb_escape {
    SB_ESCAPE_NONE = 0,
    SB_ESCAPE_JSON = 1,
    SB_ESCAPE_HEADER = 2,
    SB_ESCAPE_URL = 3,
    SB_ESCAPE_SLACK = 4,
    SB_ESCAPE_SLACK_JSON = 5,
};

/* Use as max when only a minimum applies. */
#define SB_NO_MAX INT64_MAX

struct sb_param {
    const char *name;          /* lower_snake_case; a MULTI param "header" is
                                  written header.<key> */
    uint32_t type;             /* enum sb_param_type */
    uint32_t flags;            /* SB_PARAM_REQUIRED | ... */
    const char *def;           /* default, written as in a workflow file; NULL
                                  for none. The loader refuses a plugin whose
                                  default does not parse as its type. */
    const char *help;          /* one line, shown by `switchboard describe` */
    const char *const *values; /* ENUM: the allowed values, NULL-terminated */
    int64_t min;               /* INT/DURATION/SIZE bounds, checked when */
    int64_t max;               /*   min < max; leave both 0 for none */
    uint32_t escape;           /* enum sb_escape, for TEMPLATE parameters */
};

/* ------------------------------------------------------------------------- */
/* Rate and concurrency limits                                               */
/* ------------------------------------------------------------------------- */

/*
 * A limit the core enforces around an action's run calls, so a burst of
 * events waits instead of failing. `key` is a template over the action's
 * rendered parameters ("slack:{{ channel }}", "trello:{{ token }}"); calls
 * with the same rendered key share the limit. The rendered key is kept
 * inside the core and never logged (it may hold a credential).
 * rate/per_ms: at most `rate` calls per `per_ms` milliseconds, with bursts of
 *   up to `burst` (0 = rate); rate 0 means no rate limit.
 * concurrency: at most this many calls at once; 0 means no cap.
 */
struct sb_limit {
    const char *key;
    uint32_t rate;
    uint32_t per_ms;
    uint32_t burst;
    uint32_t concurrency;
};

/* ------------------------------------------------------------------------- */
/* HTTP as seen by triggers                                                  */
/* ------------------------------------------------------------------------- */

struct sb_header {
    const char *name;
    const char *value;
};

/* Methods a push trigger accepts (struct sb_trigger.methods). */
#define SB_METHOD_POST (1u << 0)
#define SB_METHOD_GET (1u << 1)
#define SB_METHOD_HEAD (1u << 2)
#define SB_METHOD_PUT (1u << 3)

/*
 * An incoming webhook request, made by the core and borrowed by receive.
 * The core appends fields in later minor versions; `size` tells how many
 * this core filled.
 */
struct sb_request {
    uint32_t size;
    const char *method;                   /* "POST", "GET", "HEAD", "PUT" */
    const char *path;                     /* "/hooks/stripe" */
    const char *hook;                     /* "stripe": the path parameter */
    const char *query;                    /* raw query string without '?'; "" if none */
    const struct sb_header *query_params; /* decoded, in order */
    size_t n_query_params;
    const struct sb_header *headers; /* as received, in order */
    size_t n_headers;
    const unsigned char *body; /* the raw bytes, exactly as sent; a NUL
                                  follows body[body_len] */
    size_t body_len;
    const char *content_type; /* the Content-Type header or "" */
    const char *remote_addr;  /* "127.0.0.1" */
    int64_t received_at_ms;   /* Unix milliseconds */
};

/*
 * One event for the store. Give `size = sizeof(struct sb_event)` (use
 * SB_EVENT_INIT). `id` is the provider's event id, used to deduplicate
 * within `source`; NULL lets the core generate a unique one (no dedupe).
 * `source` namespaces ids; NULL means "<plugin>.<trigger>:<hook path or
 * workflow>". Triggers that must deduplicate against each other (a webhook
 * and a poller of the same provider account) use the same source.
 * `payload` is consumed by emit, whatever the result.
 * `payload_json`, when set, is the payload's JSON text exactly as received
 * (the request body, when the payload is that body parsed and unchanged):
 * the core stores these bytes instead of serializing `payload`, which keeps
 * the provider's own number formatting and saves the work. It must be the
 * text `payload` was parsed from. Borrowed for the call of emit.
 * `record_only` stores the event (so its id counts for deduplication) but
 * starts no run: a poller's first look at what already exists.
 */
struct sb_event {
    uint32_t size;
    const char *id;
    const char *type;
    const char *source;
    struct json_object *payload;
    int64_t occurred_at_ms; /* when it happened, if the provider says (a
                               poller's event: trigger.occurred_at); the
                               store counts from when it was received */
    const char *payload_json;
    size_t payload_json_len;
    bool record_only;
};
#define SB_EVENT_INIT                                                                              \
    {                                                                                              \
        sizeof(struct sb_event), NULL, NULL, NULL, NULL, 0, NULL, 0, false                         \
    }

/* ------------------------------------------------------------------------- */
/* HTTP as used by actions and pollers (the core's client)                   */
/* ------------------------------------------------------------------------- */

#define SB_HTTP_FOLLOW_REDIRECTS (1u << 0)

/* Give `size = sizeof(struct sb_http_request)`; use SB_HTTP_REQUEST_INIT. */
struct sb_http_request {
    uint32_t size;
    const char *method; /* "GET", "POST", ... */
    const char *url;
    const struct sb_header *headers;
    size_t n_headers;
    const void *body; /* may be NULL */
    size_t body_len;
    int64_t timeout_ms; /* whole request; 0 = 30 s */
    uint32_t flags;     /* SB_HTTP_FOLLOW_REDIRECTS */
};
#define SB_HTTP_REQUEST_INIT                                                                       \
    {                                                                                              \
        sizeof(struct sb_http_request), "GET", NULL, NULL, 0, NULL, 0, 0, 0                        \
    }

/* Filled by sb->http; release with sb->http_release. */
struct sb_http_response {
    uint32_t size;
    long status;               /* HTTP status; 0 when nothing came back */
    struct sb_header *headers; /* names as received */
    size_t n_headers;
    char *body; /* NUL-terminated; never NULL after http */
    size_t body_len;
    int64_t retry_after_s; /* Retry-After in seconds (delta or date),
                              -1 when absent */
    char error[256];       /* transport error when status is 0 */
    void *internal_;       /* the core's; do not touch */
};

/* sb->http return values. */
#define SB_HTTP_SENT 0     /* a response came back (any status) */
#define SB_HTTP_DRY_RUN 1  /* a dry run: the request was printed, not sent */
#define SB_HTTP_ERROR (-1) /* no response: resp->error says why */

/* ------------------------------------------------------------------------- */
/* Crypto helpers                                                            */
/* ------------------------------------------------------------------------- */

enum sb_hash {
    SB_HASH_MD5 = 1,
    SB_HASH_SHA1 = 2,
    SB_HASH_SHA256 = 3,
    SB_HASH_SHA512 = 4,
};
#define SB_HASH_MAX_SIZE 64

/* One piece of a message that is hashed in several parts. */
struct sb_bytes {
    const void *data;
    size_t len;
};

/* ------------------------------------------------------------------------- */
/* Triggers and actions                                                      */
/* ------------------------------------------------------------------------- */

/*
 * Trigger kinds.
 * HTTP   push: the core serves POST /hooks/<path> (and the other `methods`)
 *        and calls receive with the raw request.
 * POLL   the core calls poll every `interval` (the trigger's own `interval`
 *        parameter when it declares one, else poll_interval_ms), or at the
 *        time given by sb->schedule_next; poll calls sb->emit.
 * THREAD start runs a thread of the plugin's own that calls sb->emit; stop
 *        ends and joins it.
 */
enum sb_trigger_kind {
    SB_TRIGGER_HTTP = 1,
    SB_TRIGGER_POLL = 2,
    SB_TRIGGER_THREAD = 3,
};

/*
 * What `switchboard sign NAME --secret S [--timestamp T] < body` asks a
 * trigger's sign callback to sign (SDK 1.1). Made by the core, borrowed for
 * the call. The command's `--set NAME=VALUE` options (and `--url U`,
 * `--id I`, which stand for `--set url=U`, `--set id=I`) are the call's
 * parameters, checked against the trigger's sign_params like a workflow's
 * (unknown names are refused, defaults applied) and read with
 * sb->param_string.
 */
struct sb_sign_request {
    uint32_t size;             /* sizeof(struct sb_sign_request) in this core */
    const unsigned char *body; /* the bytes to sign, as they will be sent;
                                  a NUL follows body[body_len] */
    size_t body_len;
    const char *secret;  /* --secret, exactly as given */
    int64_t timestamp_s; /* --timestamp, else now (Unix seconds) */
};

/*
 * What `switchboard hooks register|unregister|list WORKFLOW` hands the
 * trigger's hooks callbacks (SDK 1.1). Made by the core, borrowed. The
 * call's parameters are the workflow's trigger parameters (defaults
 * applied, secrets resolved, templates as written).
 */
struct sb_hook_target {
    uint32_t size;        /* sizeof(struct sb_hook_target) in this core */
    const char *url;      /* the URL the provider must call: the trigger's
                             public_url, else [server] public_url +
                             /hooks/<path> (what sb->public_url gives);
                             NULL when neither is configured */
    const char *workflow; /* the workflow's name, for descriptions */
};

/*
 * Callbacks shared by triggers and actions (any may be NULL):
 * validate  checks rules between parameters that a table cannot express
 *           ("verify = hmac needs secret"); reports each problem with
 *           sb->config_error and returns SB_FAIL if there was one. Runs on
 *           `switchboard check` too: no network I/O (reading local data,
 *           such as time zone files, is fine).
 * setup     prepares per-binding state from the parameters (parse secrets,
 *           compile patterns); stores it with sb->set_state. SB_FAIL stops
 *           the engine from starting, with the error text.
 * teardown  releases what setup made; gets that state (may be NULL).
 */
struct sb_trigger {
    const char *name;              /* "webhook": the user writes stripe.webhook */
    const char *summary;           /* one line */
    const char *output;            /* what the event payload holds */
    uint32_t kind;                 /* enum sb_trigger_kind */
    uint32_t methods;              /* HTTP: SB_METHOD_*; 0 means POST only */
    const struct sb_param *params; /* SB_END-terminated; may be NULL */
    enum sb_status (*validate)(const struct sb_host *sb, struct sb_call *call);
    enum sb_status (*setup)(const struct sb_host *sb, struct sb_call *call);
    void (*teardown)(const struct sb_host *sb, void *state);
    /*
     * HTTP: verify the raw request and answer it through the host:
     *   sb->emit     the request is an event (may be called up to 100 times
     *                for batched deliveries); the core stores it and answers
     *                200 once it is on disk (or `respond`'s answer);
     *   sb->respond  answer directly (handshakes: Slack url_verification,
     *                HEAD checks, slash command replies), with or without
     *                an event;
     *   sb->reject   refuse with an HTTP status (401 bad signature, 400
     *                unparseable body) and a short reason; returns SB_FAIL.
     * Return SB_OK or the result of sb->reject. Verify before parsing, over
     * req->body, and compare with sb->ct_equal.
     */
    enum sb_status (*receive)(const struct sb_host *sb, struct sb_call *call,
                              const struct sb_request *req);
    /* POLL: fetch what is new and sb->emit each item. SB_RETRY backs off. */
    enum sb_status (*poll)(const struct sb_host *sb, struct sb_call *call);
    int64_t poll_interval_ms; /* POLL default interval */
    /* THREAD: start a thread that emits; stop must join it. */
    enum sb_status (*start)(const struct sb_host *sb, struct sb_call *call);
    void (*stop)(const struct sb_host *sb, struct sb_call *call);

    /* --- SDK 1.1 (zero in a plugin built for 1.0) ---------------------- */

    /*
     * sign: the headers the provider would send with req->body, for
     * `switchboard sign`. Set them with sb->set_output as one JSON object of
     * strings, header name -> value, in the order they are printed (one
     * "Name: value" line each). Compute them with the same code that
     * receive verifies with. Return SB_OK, or sb->fail(call, "...") with a
     * sentence for the user (a missing --set option, a malformed secret).
     * `switchboard sign NAME` finds the trigger by NAME: "plugin.trigger",
     * a plugin name (its first trigger with a sign callback), or one of
     * sign_aliases.
     */
    enum sb_status (*sign)(const struct sb_host *sb, struct sb_call *call,
                           const struct sb_sign_request *req);
    /* The options of sign (--set NAME=VALUE), SB_END-terminated; may be
     * NULL (then sign takes none). Shown by `switchboard describe`. */
    const struct sb_param *sign_params;
    /* Other names `switchboard sign` knows this trigger by, NULL-terminated;
     * may be NULL. E.g. {"standard", NULL} for a scheme with its own name. */
    const char *const *sign_aliases;

    /*
     * Remote registration, for `switchboard hooks register|unregister|list
     * WORKFLOW`: create, delete or show the webhook at the provider that
     * calls target->url, with the credentials in the trigger's parameters,
     * through sb->http. Keep what later calls need (a signing secret the
     * provider returns, the webhook's id) with sb->kv_set: the trigger's
     * receive sees the same keys.
     * Each sets its output (sb->set_output) to a JSON array of the webhooks
     * concerned, one object each with at least "id" and "url" (strings),
     * plus any scalar or list of strings worth showing ("events",
     * "status"...):
     *   register_hook   the webhooks the provider has for target->url after
     *                   the call; each with "created": true when this call
     *                   made it, false when it was there already (register
     *                   twice does not make two);
     *   unregister_hook the webhooks deleted (an empty array: there was none);
     *   list_hooks      the provider's webhooks that call target->url.
     * Return SB_OK, or sb->fail with the provider's error. Each is optional.
     */
    enum sb_status (*register_hook)(const struct sb_host *sb, struct sb_call *call,
                                    const struct sb_hook_target *target);
    enum sb_status (*unregister_hook)(const struct sb_host *sb, struct sb_call *call,
                                      const struct sb_hook_target *target);
    enum sb_status (*list_hooks)(const struct sb_host *sb, struct sb_call *call,
                                 const struct sb_hook_target *target);
};

struct sb_action {
    const char *name;              /* "post_message": slack.post_message */
    const char *summary;           /* one line */
    const char *output;            /* what the step output holds */
    const struct sb_param *params; /* SB_END-terminated; may be NULL */
    const struct sb_limit *limit;  /* may be NULL */
    enum sb_status (*validate)(const struct sb_host *sb, struct sb_call *call);
    enum sb_status (*setup)(const struct sb_host *sb, struct sb_call *call);
    void (*teardown)(const struct sb_host *sb, void *state);
    /*
     * Do the work with the rendered parameters. Set the step output with
     * sb->set_output. Return SB_OK, `sb->retry(...)` or `sb->fail(...)`.
     * Send sb->idempotency_key(call) where the provider takes one; it is the
     * same for every attempt and replay of this step of this run's event.
     */
    enum sb_status (*run)(const struct sb_host *sb, struct sb_call *call);
};

struct sb_plugin {
    const char *name;                  /* must equal the file stem: slack.so */
    const char *version;               /* the plugin's own version, "1.2.0" */
    const char *summary;               /* one line */
    const struct sb_trigger *triggers; /* SB_END-terminated; may be NULL */
    const struct sb_action *actions;   /* SB_END-terminated; may be NULL */
    /* Main thread, once, before any other callback, only when the engine
     * runs (never on `check`). Store plugin-wide state in *state. */
    enum sb_status (*init)(const struct sb_host *sb, void **state);
    /* Main thread, once, after every other callback has returned. */
    void (*fini)(const struct sb_host *sb, void *state);
};

/*
 * The ABI record, filled by SB_PLUGIN_DEFINE: never write one by hand.
 * Its layout is frozen for every major version.
 */
struct sb_abi {
    uint32_t magic;         /* SB_ABI_MAGIC */
    uint16_t major;         /* SB_ABI_MAJOR the plugin was built with */
    uint16_t minor;         /* SB_ABI_MINOR */
    uint32_t size_abi;      /* sizeof(struct sb_abi) */
    uint32_t size_plugin;   /* sizeof(struct sb_plugin) */
    uint32_t size_trigger;  /* sizeof(struct sb_trigger) */
    uint32_t size_action;   /* sizeof(struct sb_action) */
    uint32_t size_param;    /* sizeof(struct sb_param) */
    uint32_t size_limit;    /* sizeof(struct sb_limit) */
    uint32_t jsonc_version; /* JSON_C_VERSION_NUM at build time */
    const struct sb_plugin *plugin;
};

/*
 * Defines the entry symbol for the static struct sb_plugin `desc`:
 *     static const struct sb_plugin slack = { .name = "slack", ... };
 *     SB_PLUGIN_DEFINE(slack);
 * Use it exactly once per plugin.
 */
#define SB_PLUGIN_DEFINE(desc)                                                                     \
    SB_EXTERN_C SB_EXPORT const struct sb_abi *sb_plugin_entry(void);                              \
    SB_EXTERN_C SB_EXPORT const struct sb_abi *sb_plugin_entry(void)                               \
    {                                                                                              \
        static const struct sb_abi abi = {                                                         \
            SB_ABI_MAGIC,                                                                          \
            SB_ABI_MAJOR,                                                                          \
            SB_ABI_MINOR,                                                                          \
            (uint32_t)sizeof(struct sb_abi),                                                       \
            (uint32_t)sizeof(struct sb_plugin),                                                    \
            (uint32_t)sizeof(struct sb_trigger),                                                   \
            (uint32_t)sizeof(struct sb_action),                                                    \
            (uint32_t)sizeof(struct sb_param),                                                     \
            (uint32_t)sizeof(struct sb_limit),                                                     \
            (uint32_t)JSON_C_VERSION_NUM,                                                          \
            &(desc),                                                                               \
        };                                                                                         \
        return &abi;                                                                               \
    }

/* The signature of the entry symbol, for the loader. */
typedef const struct sb_abi *(*sb_entry_fn)(void);

/* ------------------------------------------------------------------------- */
/* The host function table                                                   */
/* ------------------------------------------------------------------------- */

/* True when this core's host table has function `fn`. Always true for the
 * functions of the header a plugin is built with (see "Compatibility
 * rules"): a core that lacks them refuses to load the plugin. */
#define SB_HOST_HAS(sb, fn)                                                                        \
    ((sb)->size >= offsetof(struct sb_host, fn) + sizeof((sb)->fn) && (sb)->fn != NULL)

/*
 * Append-only: new functions go at the end, with SB_ABI_MINOR raised.
 * Every `call` argument is the struct sb_call given to the current callback.
 */
struct sb_host {
    uint32_t size; /* sizeof(struct sb_host) in this core */
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *core_version; /* "0.1.0" */

    /* -- logging: "[plugin.name wf=... run=...] message", secrets redacted */
    void (*log)(struct sb_call *call, enum sb_log_level level, const char *fmt, ...)
        SB_PRINTF(3, 4);

    /* -- results ---------------------------------------------------------- */
    /* Record the error text and return SB_FAIL. */
    enum sb_status (*fail)(struct sb_call *call, const char *fmt, ...) SB_PRINTF(2, 3);
    /* Record the error text and return SB_RETRY; after_s >= 0 asks for the
     * next attempt no earlier than that many seconds from now (Retry-After),
     * -1 leaves it to the retry schedule. */
    enum sb_status (*retry)(struct sb_call *call, int64_t after_s, const char *fmt, ...)
        SB_PRINTF(3, 4);
    /* Set the step output (an object, usually). Consumed. Calling it again
     * replaces the earlier output. */
    void (*set_output)(struct sb_call *call, struct json_object *output);
    /* Report a configuration problem from validate, naming the parameter;
     * the core adds file:line. */
    void (*config_error)(struct sb_call *call, const char *param, const char *fmt, ...)
        SB_PRINTF(3, 4);

    /* -- parameters (rendered for this call, defaults applied) ------------ */
    /* STRING, ENUM, SECRET, INT...: the value as text; NULL when unset.
     * Borrowed. */
    const char *(*param_string)(struct sb_call *call, const char *name);
    /* INT, DURATION (ms), SIZE (bytes); `fallback` when unset. */
    int64_t (*param_int)(struct sb_call *call, const char *name, int64_t fallback);
    /* BOOL; `fallback` when unset. */
    bool (*param_bool)(struct sb_call *call, const char *name, bool fallback);
    /* Any parameter as JSON: LIST an array of strings, MULTI an object of
     * strings, INT/DURATION/SIZE an int, BOOL a boolean, others a string.
     * NULL when unset. Borrowed: do not modify or release it. */
    struct json_object *(*param_json)(struct sb_call *call, const char *name);
    /* Render a TEMPLATE parameter of a trigger against an event payload
     * (`event.*`), for replies made in receive. *out: release with sb->free.
     * Returns 0, or -1 with the reason logged. */
    int (*render_param)(struct sb_call *call, const char *name, const struct json_object *event,
                        char **out);

    /* -- state ------------------------------------------------------------ */
    void *(*plugin_state)(struct sb_call *call);          /* what init stored */
    void *(*state)(struct sb_call *call);                 /* what setup stored */
    void (*set_state)(struct sb_call *call, void *state); /* setup only */

    /* -- run context ------------------------------------------------------ */
    /* Stable for this (event, workflow, step) across retries and replays;
     * at most 64 characters of [A-Za-z0-9_-]. Borrowed. */
    const char *(*idempotency_key)(struct sb_call *call);
    /* True during `switchboard fire --dry-run`. */
    bool (*dry_run)(struct sb_call *call);
    /* The current time, Unix milliseconds (tests may fix it). */
    int64_t (*now_ms)(struct sb_call *call);

    /* -- triggers --------------------------------------------------------- */
    /* Hand one event to the core. In receive: queued, stored after receive
     * returns, returns SB_OK. In poll and THREAD triggers: blocks until the
     * event is on disk; SB_OK (stored or a duplicate), SB_RETRY (the store is
     * unavailable: try later), SB_FAIL (bad event). ev->payload is consumed. */
    enum sb_status (*emit)(struct sb_call *call, const struct sb_event *ev);
    /* receive only: answer with this status, content type and body (copied).
     * Returns SB_OK. */
    enum sb_status (*respond)(struct sb_call *call, int status, const char *content_type,
                              const void *body, size_t len);
    /* receive only: refuse with an HTTP status (4xx) and a short reason,
     * sent as {"error": "..."}. Never put a secret in it. Returns SB_FAIL. */
    enum sb_status (*reject)(struct sb_call *call, int status, const char *fmt, ...)
        SB_PRINTF(3, 4);
    /* The request header `name` (case-insensitive), or NULL. Borrowed. */
    const char *(*header)(const struct sb_request *req, const char *name);
    /* The decoded query parameter `name`, or NULL. Borrowed. */
    const char *(*query_param)(const struct sb_request *req, const char *name);
    /* POLL: ask for the next poll at this Unix time in ms (instead of the
     * interval). */
    void (*schedule_next)(struct sb_call *call, int64_t at_ms);
    /* Durable key/value state of this trigger binding (cursors, seen ids,
     * a secret a provider handed out), kept in the store. The binding is the
     * workflow's trigger; for an HTTP trigger it is its hook path, shared by
     * the workflows bound to that path and by `switchboard hooks` for any of
     * them. Keys starting with "secret" are masked by `switchboard
     * triggers`. kv_get: *value is NULL when unset; release with sb->free.
     * Both return 0, or -1 when the store failed or the callback has none
     * (validate, setup, sign). */
    int (*kv_get)(struct sb_call *call, const char *key, char **value);
    int (*kv_set)(struct sb_call *call, const char *key, const char *value);

    /* -- the core's HTTP client ------------------------------------------- */
    /* Send a request: keep-alive, timeouts, outbound policy and metrics by
     * the core; secrets are redacted from its logs. Returns SB_HTTP_SENT,
     * SB_HTTP_DRY_RUN or SB_HTTP_ERROR. `resp` is filled in every case and
     * must be released with http_release. */
    int (*http)(struct sb_call *call, const struct sb_http_request *req,
                struct sb_http_response *resp);
    void (*http_release)(struct sb_http_response *resp);
    /* A response header (case-insensitive), or NULL. Borrowed. */
    const char *(*http_header)(const struct sb_http_response *resp, const char *name);

    /* -- encoding and crypto ---------------------------------------------- */
    /* HMAC over the concatenated parts. Writes the digest to out (at least
     * SB_HASH_MAX_SIZE bytes) and returns its length, or -1. */
    int (*hmac)(enum sb_hash alg, const void *key, size_t key_len, const struct sb_bytes *parts,
                size_t n_parts, unsigned char *out);
    /* Plain digest, same contract. */
    int (*digest)(enum sb_hash alg, const struct sb_bytes *parts, size_t n_parts,
                  unsigned char *out);
    /* Equal in time independent of the contents (both `len` bytes). */
    bool (*ct_equal)(const void *a, const void *b, size_t len);
    /* Standard base64 with padding. Writes a NUL-terminated string; returns
     * its length, or -1 if out_size is too small (4*ceil(len/3)+1 needed). */
    int (*base64_encode)(const void *data, size_t len, char *out, size_t out_size);
    /* Decodes standard or URL-safe base64, padded or not. Returns the number
     * of bytes written, or -1 if invalid or out_size is too small. */
    int (*base64_decode)(const char *text, size_t len, unsigned char *out, size_t out_size);
    /* Lowercase hex; out_size at least 2*len+1. Returns length or -1. */
    int (*hex_encode)(const void *data, size_t len, char *out, size_t out_size);
    /* MD5 of the bytes as 32 lowercase hex digits + NUL into out[33]. */
    void (*md5_hex)(const void *data, size_t len, char out[33]);
    /* Fill buf with cryptographically random bytes; 0 or -1. */
    int (*random_bytes)(void *buf, size_t len);
    /* Percent-encode for a URL path segment, query or form (RFC 3986
     * unreserved kept, space as %20; "." and ".." as %2E and %2E%2E so a
     * value cannot be a dot segment). Returns the length written
     * (NUL-terminated), or -1 if out_size is too small (3*len+1 always
     * suffices). */
    int (*url_encode)(const char *text, size_t len, char *out, size_t out_size);
    /* Decode application/x-www-form-urlencoded (+ as space, %XX, keys with
     * brackets a[b][c] and a[0] literal or percent-encoded) into nested
     * JSON. Caller owns; NULL on invalid input. */
    struct json_object *(*form_decode)(const char *body, size_t len);

    /* Release memory the host allocated for the plugin. */
    void (*free)(void *ptr);

    /* -- added in SDK 1.1 ------------------------------------------------- */

    /* Decode hex (upper or lower case) of even length into out. Returns the
     * number of bytes written, or -1 if the text is not hex or out_size is
     * too small (len/2 needed). */
    int (*hex_decode)(const char *text, size_t len, unsigned char *out, size_t out_size);
    /* Whether `sig` (sig_len bytes, already decoded) is the HMAC of the
     * concatenated parts under any of the keys: the current secret and,
     * while rotating, older ones. Every key is tried, whichever matches, so
     * the time taken does not tell which did; the comparison is constant
     * time. False when sig_len is not the digest's length. */
    bool (*hmac_verify)(enum sb_hash alg, const struct sb_bytes *keys, size_t n_keys,
                        const struct sb_bytes *parts, size_t n_parts, const void *sig,
                        size_t sig_len);
    /* The value at `path` in `root`, in the template dialect: names joined
     * by dots, array indexes as .0 or [0], other keys as ["a.b"]
     * ("data.items[0].sku", "data.items.0.sku"); NULL or "" is root itself.
     * Returns 0 with *out borrowed from root (NULL for a JSON null), -1 when
     * the path does not exist, -2 when it is not a valid path (test a
     * parameter in validate with a NULL root). */
    int (*json_path)(struct json_object *root, const char *path, struct json_object **out);
    /* The URL providers call for this trigger: its `public_url` parameter
     * (a core key of every HTTP trigger), else [server] public_url +
     * "/hooks/<path>". NULL when neither is configured or the trigger is not
     * HTTP. Borrowed until the callback returns. Works in every trigger
     * callback, validate and setup included. */
    const char *(*public_url)(struct sb_call *call);
    /* A cache of short-lived values (OAuth access tokens) shared by every
     * callback of this plugin on every thread, in memory only (never
     * stored, never logged), locked by the core. `key` names the
     * credentials (hash secrets into it rather than use them raw).
     * token_get: *value is a copy (release with sb->free), NULL when absent
     * or expired; *expires_at_ms its expiry (0: none), may be NULL. 0, or -1
     * out of memory.
     * token_set: keep `value` until expires_at_ms (Unix ms; 0: until
     * invalidated). 0 or -1. At most 256 keys per plugin: the oldest go.
     * token_invalidate: forget the key, but only while it still holds
     * `value` (NULL: whatever it holds), so a thread that saw a stale token
     * rejected does not drop the fresh one another thread just stored. */
    int (*token_get)(struct sb_call *call, const char *key, char **value, int64_t *expires_at_ms);
    int (*token_set)(struct sb_call *call, const char *key, const char *value,
                     int64_t expires_at_ms);
    void (*token_invalidate)(struct sb_call *call, const char *key, const char *value);
    /* receive only: add a header to this request's answer (the one given
     * with respond, or the core's own once the events are stored; not a
     * rejection), e.g. the X-Hook-Secret a handshake must echo. Copied. At
     * most 8 per answer; a header the core sets itself (Content-Type,
     * Content-Length, Cache-Control, Allow, Connection, Transfer-Encoding,
     * Date, Server), a name that is not a token, or a value with a control
     * character is refused: SB_FAIL with the reason recorded. */
    enum sb_status (*respond_header)(struct sb_call *call, const char *name, const char *value);
};

#ifdef __cplusplus
}
#endif

#endif /* SWITCHBOARD_PLUGIN_H */
