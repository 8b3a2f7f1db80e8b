#include "run_exec.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "crypto.h"
#include "engine.h"
#include "log.h"
#include "redact.h"
#include "retry.h"
#include "xalloc.h"

/* a limit wait longer than this defers the run instead of holding a worker */
#define LIMIT_WAIT_INLINE_MS 5000
#define ON_FAILURE_IDX 1000

void exec_idempotency_key(const char *source, const char *event_id, const char *workflow,
                          const char *step, char *out, size_t outlen)
{
    struct sb_bytes parts[] = {
        {source, strlen(source) + 1},
        {event_id, strlen(event_id) + 1},
        {workflow, strlen(workflow) + 1},
        {step, strlen(step)},
    };
    unsigned char d[SB_HASH_MAX_SIZE];
    char hex[65];
    crypto_digest(SB_HASH_SHA256, parts, 4, d);
    crypto_hex_encode(d, 16, hex, sizeof(hex));
    snprintf(out, outlen, "sb%s", hex);
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static double jitter(void)
{
    unsigned char b[4];
    if (crypto_random_bytes(b, sizeof(b)) < 0)
        return 0.5;
    return (double)(((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]) /
                    4294967296.0);
}

static void report(const struct exec_env *env, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void report(const struct exec_env *env, const char *fmt, ...)
{
    if (!env->report)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(env->report, fmt, ap);
    va_end(ap);
    fflush(env->report);
}

static void checkpoint(const struct exec_env *env, const struct step_record *rec)
{
    if (env->store && store_step(env->store, rec) < 0)
        log_write(SB_LOG_ERROR, "dispatcher", "run %lld: cannot checkpoint step '%s'",
                  (long long)rec->run_id, rec->name);
}

static void update(const struct exec_env *env, const struct run_update *u)
{
    if (env->store && store_update_run(env->store, u) < 0)
        log_write(SB_LOG_ERROR, "dispatcher", "run %lld: cannot record status %s",
                  (long long)u->run_id, u->status);
}

enum step_outcome { STEP_OK, STEP_FAILED, STEP_RETRY, STEP_DEFERRED };

struct step_ctx {
    const struct exec_env *env;
    const struct workflow *wf;
    struct claimed_run *r;
    struct json_object *root;
    int64_t retry_after_s;
    int64_t defer_until_ms;
    char error[1024];
};

/* Wait for the step's limit; 0 when taken, else the deferral time. */
static int64_t take_limit(struct step_ctx *c, const struct step *step, struct json_object *params,
                          char **key_out)
{
    *key_out = NULL;
    if (!step->limit_key || !c->env->limiter)
        return 0;
    struct strbuf key = STRBUF_INIT;
    char err[256];
    if (template_render(step->limit_key, params, &key, err, sizeof(err)) < 0) {
        /* a limit that cannot be keyed is kept per action */
        strbuf_reset(&key);
        strbuf_addstr(&key, step->action->full_name);
    }
    int64_t waited = 0;
    while (1) {
        int64_t wait =
            limiter_acquire(c->env->limiter, key.buf, &step->action->limit, engine_now_ms());
        if (wait == 0)
            break;
        if (waited + wait > LIMIT_WAIT_INLINE_MS ||
            (c->env->stopping && atomic_load(c->env->stopping))) {
            strbuf_release(&key);
            return engine_now_ms() + wait;
        }
        sleep_ms(wait);
        waited += wait;
    }
    *key_out = strbuf_detach(&key, NULL);
    return 0;
}

/* Run one step. On STEP_OK *output is the step's output (caller owns). */
static enum step_outcome run_step(struct step_ctx *c, const struct step *step, int idx,
                                  struct json_object **output, int64_t *started)
{
    const struct loaded_action *a = step->action;
    char key[64];
    exec_idempotency_key(c->r->source, c->r->event_id, c->wf->name, step->name, key, sizeof(key));
    struct json_object *run_obj;
    if (json_object_object_get_ex(c->root, "run", &run_obj))
        json_object_object_add(run_obj, "idempotency_key", json_object_new_string(key));
    struct json_object *params = NULL;
    char err[1024];
    *started = engine_now_ms();
    if (call_params_render(&a->table, &step->params, c->root, &params, err, sizeof(err)) < 0) {
        snprintf(c->error, sizeof(c->error), "%s", err);
        return STEP_FAILED;
    }
    char *limit_key = NULL;
    int64_t defer = take_limit(c, step, params, &limit_key);
    if (defer) {
        json_object_put(params);
        c->defer_until_ms = defer;
        return STEP_DEFERRED;
    }
    struct sb_call call;
    call_init(&call, CALL_RUN, a->full_name);
    call.wf = c->wf;
    call.step = step->name;
    call.run_id = c->r->id;
    call_set_context(&call);
    call.plugin = a->plugin;
    call.table = &a->table;
    call.binding = &step->params;
    call.params = params;
    call.state = step->state;
    call.idempotency_key = key;
    call.dry_run = c->env->dry_run;
    call.dry_out = c->env->dry_out;
    call.timeout_ms = step->timeout_ms;
    call.hooks = c->env->hooks;
    *started = engine_now_ms();
    enum sb_status st = a->desc.run(&core_host, &call);
    if (limit_key) {
        limiter_release(c->env->limiter, limit_key, &a->limit);
        free(limit_key);
    }
    enum step_outcome out;
    if (st == SB_OK) {
        /* an upstream that echoes the request would put a credential into
         * the store: masked here, before anything keeps or shows it */
        *output = redact_json(call.output ? json_object_get(call.output) : json_object_new_object(),
                              NULL);
        out = STEP_OK;
    } else {
        const char *msg = call.error.len   ? strbuf_str(&call.error)
                          : st == SB_RETRY ? "the action asked for a retry"
                                           : "the action failed";
        redact_line(msg, c->error, sizeof(c->error));
        c->retry_after_s = call.retry_after_s;
        out = st == SB_RETRY ? STEP_RETRY : STEP_FAILED;
    }
    (void)idx;
    call_release(&call);
    json_object_put(params);
    return out;
}

static const char *json_text(struct json_object *v)
{
    return v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE)
             : NULL;
}

/* The [on_failure] steps, once, after the run died at `step_name`. */
static void run_on_failure(struct step_ctx *c, const char *step_name, const char *error)
{
    if (c->wf->n_on_failure == 0)
        return;
    struct json_object *failure = json_object_new_object();
    json_object_object_add(failure, "step", json_object_new_string(step_name));
    json_object_object_add(failure, "error", json_object_new_string(error));
    json_object_object_add(failure, "attempts", json_object_new_int(c->r->attempts));
    json_object_object_add(c->root, "failure", failure);
    struct json_object *steps;
    json_object_object_get_ex(c->root, "steps", &steps);
    for (size_t j = 0; j < c->wf->n_on_failure; j++) {
        const struct step *s = &c->wf->on_failure[j];
        struct json_object *output = NULL;
        int64_t started = 0;
        c->error[0] = '\0';
        enum step_outcome o = run_step(c, s, ON_FAILURE_IDX + (int)j, &output, &started);
        struct step_record rec = {
            .run_id = c->r->id,
            .idx = ON_FAILURE_IDX + (int)j,
            .name = s->name,
            .status = o == STEP_OK ? "succeeded" : "failed",
            .attempt = c->r->attempts,
            .output = o == STEP_OK ? json_text(output) : NULL,
            .error = o == STEP_OK ? NULL : c->error,
            .started_at_ms = started,
            .finished_at_ms = engine_now_ms(),
            .next_step = -1,
        };
        checkpoint(c->env, &rec);
        report(c->env, "== on_failure step %s (%s) -> %s%s%s\n\n", s->name, s->action->full_name,
               rec.status, o == STEP_OK ? "" : ": ", o == STEP_OK ? "" : c->error);
        if (o != STEP_OK)
            log_write(SB_LOG_WARN, "dispatcher", "run %lld: on_failure step '%s' failed: %s",
                      (long long)c->r->id, s->name, c->error);
        if (output)
            json_object_object_add(steps, s->name, output);
    }
}

static int max_retries(const struct workflow *wf, const struct step *s)
{
    if (s->retry >= 0)
        return s->retry;
    if (wf->retry >= 0)
        return wf->retry;
    return RETRY_DEFAULT_COUNT;
}

void exec_run(const struct exec_env *env, const struct workflow *wf, struct claimed_run *r,
              struct exec_result *out)
{
    memset(out, 0, sizeof(*out));
    struct step_ctx c = {.env = env, .wf = wf, .r = r};
    c.root = engine_template_root(wf, r->source, r->event_id, r->type, r->received_at_ms,
                                  r->payload, r->envelope);
    struct json_object *run_obj = json_object_new_object();
    json_object_object_add(run_obj, "id", json_object_new_int64(r->id));
    json_object_object_add(run_obj, "attempt", json_object_new_int(r->attempts - r->budget_base));
    char created[40];
    engine_iso8601(r->created_at_ms, created, sizeof(created));
    json_object_object_add(run_obj, "created_at", json_object_new_string(created));
    json_object_object_add(c.root, "run", run_obj);
    struct json_object *steps = json_object_new_object();
    for (size_t i = 0; i < r->n_steps; i++)
        if (r->steps[i].output)
            json_object_object_add(steps, r->steps[i].name, json_object_get(r->steps[i].output));
    json_object_object_add(c.root, "steps", steps);

    struct run_update u = {.run_id = r->id, .next_step = r->next_step};
    /* from this attempt on, the run follows this version of the workflow */
    if (!r->workflow_hash || strcmp(r->workflow_hash, wf->hash) != 0)
        u.workflow_hash = wf->hash;
    if (r->next_step == 0 && wf->filter) {
        bool pass = false;
        char why[512] = "", err[512] = "";
        if (condition_eval(wf->filter, c.root, &pass, why, sizeof(why), err, sizeof(err)) < 0) {
            snprintf(out->error, sizeof(out->error), "filter: %s", err);
            u.status = RUN_DEAD;
            u.error = out->error;
            u.finished_at_ms = engine_now_ms();
            out->status = RUN_DEAD;
            report(env, "filter: error: %s\n", err);
            update(env, &u);
            goto done;
        }
        if (!pass) {
            char reason[600];
            snprintf(reason, sizeof(reason), "filter: %s", why);
            u.status = RUN_SKIPPED;
            u.reason = reason;
            u.finished_at_ms = engine_now_ms();
            out->status = RUN_SKIPPED;
            report(env, "skipped: %s\n", reason);
            update(env, &u);
            goto done;
        }
    }
    for (size_t i = (size_t)r->next_step; i < wf->n_steps; i++) {
        const struct step *s = &wf->steps[i];
        if (env->stopping && atomic_load(env->stopping)) {
            /* shutting down: hand the rest back without using an attempt */
            u.status = r->attempts - r->budget_base > 1 ? RUN_FAILED : RUN_PENDING;
            u.next_step = (int)i;
            u.next_attempt_at_ms = engine_now_ms();
            u.undo_attempt = true;
            out->status = RUN_PENDING;
            update(env, &u);
            goto done;
        }
        struct json_object *output = NULL;
        int64_t started = 0;
        c.error[0] = '\0';
        c.retry_after_s = -1;
        report(env, "== step %s (%s)\n", s->name, s->action->full_name);
        enum step_outcome o = run_step(&c, s, (int)i, &output, &started);
        if (o == STEP_DEFERRED) {
            u.status = r->attempts - r->budget_base > 1 ? RUN_FAILED : RUN_PENDING;
            u.next_step = (int)i;
            u.next_attempt_at_ms = c.defer_until_ms;
            u.undo_attempt = true;
            out->status = RUN_PENDING;
            out->next_attempt_at_ms = c.defer_until_ms;
            update(env, &u);
            goto done;
        }
        struct step_record rec = {
            .run_id = r->id,
            .idx = (int)i,
            .name = s->name,
            .attempt = r->attempts,
            .started_at_ms = started,
            .finished_at_ms = engine_now_ms(),
            .next_step = -1,
        };
        if (o == STEP_OK) {
            rec.status = "succeeded";
            rec.output = json_text(output);
            rec.next_step = (int)i + 1;
            bool last = i + 1 == wf->n_steps;
            if (last) {
                /* the last checkpoint and the run's end: one write */
                u.status = RUN_SUCCEEDED;
                u.next_step = (int)wf->n_steps;
                u.finished_at_ms = engine_now_ms();
                rec.then = &u;
            }
            checkpoint(env, &rec);
            report(env, "-> succeeded, output:\n%s\n\n",
                   json_object_to_json_string_ext(output, JSON_C_TO_STRING_PRETTY |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE));
            json_object_object_add(steps, s->name, output);
            if (last) {
                out->status = RUN_SUCCEEDED;
                goto done;
            }
            continue;
        }
        rec.error = c.error;
        if (o == STEP_FAILED && s->continue_on_error) {
            rec.status = "failed";
            rec.next_step = (int)i + 1;
            struct json_object *failed = json_object_new_object();
            json_object_object_add(failed, "error", json_object_new_string(c.error));
            json_object_object_add(failed, "failed", json_object_new_boolean(1));
            rec.output = json_text(failed);
            checkpoint(env, &rec);
            report(env, "-> failed, continuing (on_error = continue): %s\n\n", c.error);
            log_write(SB_LOG_WARN, "dispatcher",
                      "run %lld step '%s' failed (on_error = "
                      "continue): %s",
                      (long long)r->id, s->name, c.error);
            json_object_object_add(steps, s->name, failed);
            continue;
        }
        int used = r->attempts - r->budget_base;
        bool give_up = o == STEP_FAILED || used > max_retries(wf, s);
        rec.status = o == STEP_FAILED ? "failed" : "retry";
        u.next_step = (int)i;
        u.error = out->error;
        if (give_up) {
            checkpoint(env, &rec);
            if (o == STEP_RETRY)
                snprintf(out->error, sizeof(out->error), "step '%s' gave up after %d attempts: %s",
                         s->name, used, c.error);
            else
                snprintf(out->error, sizeof(out->error), "step '%s': %s", s->name, c.error);
            report(env, "-> %s: %s\n\n", o == STEP_RETRY ? "gave up" : "failed", c.error);
            log_write(SB_LOG_WARN, "dispatcher", "run %lld (%s) is dead: %s", (long long)r->id,
                      wf->name, out->error);
            run_on_failure(&c, s->name, c.error);
            u.status = RUN_DEAD;
            u.finished_at_ms = engine_now_ms();
            out->status = RUN_DEAD;
        } else {
            const int64_t *backoff = s->backoff_ms ? s->backoff_ms : wf->backoff_ms;
            size_t nb = s->backoff_ms ? s->n_backoff : wf->n_backoff;
            int64_t delay = retry_delay_ms(backoff, nb, used, c.retry_after_s, jitter());
            snprintf(out->error, sizeof(out->error), "step '%s': %s", s->name, c.error);
            u.status = RUN_FAILED;
            u.next_attempt_at_ms = engine_now_ms() + delay;
            out->status = RUN_FAILED;
            out->next_attempt_at_ms = u.next_attempt_at_ms;
            report(env, "-> retry in %lld ms: %s\n\n", (long long)delay, c.error);
            log_write(SB_LOG_INFO, "dispatcher",
                      "run %lld (%s) attempt %d failed, retry in %lld "
                      "ms: %s",
                      (long long)r->id, wf->name, used, (long long)delay, out->error);
            /* the failed attempt and the schedule of the next: one write */
            rec.then = &u;
            checkpoint(env, &rec);
            goto done;
        }
        update(env, &u);
        goto done;
    }
    u.status = RUN_SUCCEEDED;
    u.next_step = (int)wf->n_steps;
    u.finished_at_ms = engine_now_ms();
    out->status = RUN_SUCCEEDED;
    update(env, &u);
done:
    json_object_put(c.root);
}
