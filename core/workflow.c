#include "workflow.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "call.h"
#include "inifile.h"
#include "params.h"
#include "secret.h"
#include "strbuf.h"
#include "suggest.h"
#include "xalloc.h"

static const char *const workflow_keys_names[] = {"description", "enabled", "retry",
                                                  "retry_backoff"};
static const char *const template_roots[] = {"event",    "trigger", "steps",
                                             "workflow", "run",     "failure"};

/* What one file is being checked with. */
struct wf_ctx {
    const char *file;
    char *dir;
    struct diag *diag;
    struct workflow *wf;
    const struct ini_doc *doc;
    const char *section; /* for messages */
    int line;            /* of the key being checked */
    const char *key;
    size_t n_earlier_steps; /* steps.X may name steps[0 .. n-1] */
    bool in_on_failure;
    size_t cap_steps;
    size_t cap_on_failure;
};

void workflow_set_init(struct workflow_set *set)
{
    memset(set, 0, sizeof(*set));
}

const struct bound_param *param_binding_find(const struct param_binding *b, const char *name)
{
    for (size_t i = 0; i < b->n; i++)
        if (!b->items[i].map_key && strcmp(b->items[i].name, name) == 0)
            return &b->items[i];
    return NULL;
}

static void param_binding_release(struct param_binding *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct bound_param *p = &b->items[i];
        free(p->name);
        free(p->map_key);
        free(p->text);
        template_free(p->tpl);
        json_object_put(p->value);
    }
    free(b->items);
    memset(b, 0, sizeof(*b));
}

static void step_release(struct step *s)
{
    free(s->name);
    param_binding_release(&s->params);
    free(s->backoff_ms);
    template_free(s->limit_key);
}

static void workflow_free(struct workflow *wf)
{
    if (!wf)
        return;
    free(wf->name);
    free(wf->file);
    free(wf->description);
    param_binding_release(&wf->trigger_params);
    free(wf->hook);
    json_object_put(wf->event_types);
    condition_free(wf->filter);
    free(wf->filter_text);
    for (size_t i = 0; i < wf->n_steps; i++)
        step_release(&wf->steps[i]);
    free(wf->steps);
    for (size_t i = 0; i < wf->n_on_failure; i++)
        step_release(&wf->on_failure[i]);
    free(wf->on_failure);
    free(wf->backoff_ms);
    json_object_put(wf->trigger_static);
    free(wf);
}

/* --- template path checks ------------------------------------------------ */

static void check_path(void *arg, const char *path)
{
    struct wf_ctx *c = arg;
    const char *dot = strchr(path, '.');
    size_t rootlen = dot ? (size_t)(dot - path) : strlen(path);
    char *root = xstrndup(path, rootlen);
    size_t n_roots = sizeof(template_roots) / sizeof(template_roots[0]);
    bool known = false;
    for (size_t i = 0; i < n_roots; i++)
        known |= strcmp(root, template_roots[i]) == 0;
    if (!known) {
        const char *hint = suggest_closest(root, template_roots, n_roots);
        diag_error(c->diag, c->file, c->line, c->section, c->key,
                   "template reads '%s', but '%s' is not a variable; use event, trigger, steps, "
                   "workflow or run%s%s%s",
                   path, root, hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
    } else if (strcmp(root, "failure") == 0 && !c->in_on_failure) {
        diag_error(c->diag, c->file, c->line, c->section, c->key,
                   "'%s' is only set in [on_failure] steps", path);
    } else if (strcmp(root, "steps") == 0) {
        if (!dot) {
            diag_error(c->diag, c->file, c->line, c->section, c->key,
                       "'steps' needs a step name: steps.<name>.<field>");
        } else {
            const char *name = dot + 1;
            const char *end = strchr(name, '.');
            char *step = end ? xstrndup(name, (size_t)(end - name)) : xstrdup(name);
            bool found = false;
            const char *names[256];
            size_t n = 0;
            for (size_t i = 0; i < c->n_earlier_steps && i < c->wf->n_steps; i++) {
                found |= strcmp(c->wf->steps[i].name, step) == 0;
                if (n < 256)
                    names[n++] = c->wf->steps[i].name;
            }
            if (!found) {
                bool later = false;
                for (size_t i = c->n_earlier_steps; i < c->wf->n_steps; i++)
                    later |= strcmp(c->wf->steps[i].name, step) == 0;
                const char *hint = suggest_closest(step, names, n);
                if (later)
                    diag_error(c->diag, c->file, c->line, c->section, c->key,
                               "'%s' reads step '%s', which runs later; a step can only read "
                               "the output of steps above it",
                               path, step);
                else
                    diag_error(c->diag, c->file, c->line, c->section, c->key,
                               "'%s' reads step '%s', which does not exist%s%s%s", path, step,
                               hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            }
            free(step);
        }
    }
    free(root);
}

/* --- parameters ------------------------------------------------------------ */

static struct bound_param *binding_add(struct param_binding *b)
{
    XGROW(b->items, b->cap, b->n + 1);
    struct bound_param *p = &b->items[b->n++];
    memset(p, 0, sizeof(*p));
    return p;
}

static char *name_list(const struct param_table *t, bool include_core)
{
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < t->n; i++) {
        if (t->core[i] && !include_core)
            continue;
        strbuf_addf(&sb, "%s%s%s", sb.len ? ", " : "", t->params[i].name,
                    (t->params[i].flags & SB_PARAM_MULTI) ? ".<key>" : "");
    }
    return strbuf_detach(&sb, NULL);
}

/* Check one `key = value` against the table and add it to the binding. */
static void bind_one(struct wf_ctx *c, const struct param_table *table, const char *owner,
                     const struct ini_entry *en, struct param_binding *b)
{
    const char *key = en->key;
    const char *dot = strchr(key, '.');
    char *base = dot ? xstrndup(key, (size_t)(dot - key)) : xstrdup(key);
    const struct sb_param *desc = param_table_find(table, base);
    size_t idx = desc ? (size_t)(desc - table->params) : 0;
    c->line = en->line;
    c->key = key;
    char err[512];

    if (!desc || (dot && !(desc->flags & SB_PARAM_MULTI))) {
        const char *cands[300];
        size_t n = 0;
        for (size_t i = 0; i < table->n && n < 300; i++)
            cands[n++] = table->params[i].name;
        const char *hint = suggest_closest(base, cands, n);
        char *all = name_list(table, true);
        if (desc && dot)
            diag_error(c->diag, c->file, en->line, c->section, key,
                       "'%s' is not a map parameter; write %s = value", base, base);
        else if (hint)
            diag_error(c->diag, c->file, en->line, c->section, key,
                       "unknown parameter for %s (did you mean '%s'?)", owner, hint);
        else
            diag_error(c->diag, c->file, en->line, c->section, key,
                       "unknown parameter for %s; it takes: %s", owner, all);
        free(all);
        goto out;
    }
    if ((desc->flags & SB_PARAM_MULTI) && (!dot || !dot[1])) {
        diag_error(c->diag, c->file, en->line, c->section, key,
                   "'%s' is a map: write one line per entry, %s.<key> = value", base, base);
        goto out;
    }
    for (size_t i = 0; i < b->n; i++) {
        const struct bound_param *o = &b->items[i];
        bool same =
            strcmp(o->name, base) == 0 &&
            ((!o->map_key && !dot) || (o->map_key && dot && strcmp(o->map_key, dot + 1) == 0));
        if (same) {
            diag_error(c->diag, c->file, en->line, c->section, key,
                       "repeated key (first set on line %d); keep one, or write a multi-line "
                       "value with indented continuation lines",
                       o->line);
            goto out;
        }
    }

    char *text = NULL;
    bool had_ref = false;
    if (secret_expand(en->value, c->dir, &text, &had_ref, err, sizeof(err)) < 0) {
        diag_error(c->diag, c->file, en->line, c->section, key, "%s", err);
        goto out;
    }
    if (desc->type == SB_PARAM_SECRET && !had_ref) {
        diag_error(c->diag, c->file, en->line, c->section, key,
                   "a secret must be a reference, not a literal: write ${env:NAME} or "
                   "${file:/path/to/secret}");
        free(text);
        goto out;
    }
    struct bound_param *p = binding_add(b);
    p->desc = desc;
    p->name = xstrdup(base);
    p->map_key = dot ? xstrdup(dot + 1) : NULL;
    p->text = text;
    p->secret = had_ref || desc->type == SB_PARAM_SECRET || (desc->flags & SB_PARAM_SENSITIVE);
    p->core = table->core[idx];
    p->line = en->line;

    if (desc->flags & SB_PARAM_TEMPLATE) {
        if (template_parse(text, desc->escape, &p->tpl, err, sizeof(err)) < 0) {
            diag_error(c->diag, c->file, en->line, c->section, key, "%s", err);
            goto out;
        }
        if (!template_has_expressions(p->tpl)) {
            template_free(p->tpl);
            p->tpl = NULL;
        } else {
            template_foreach_path(p->tpl, check_path, c);
        }
    } else if (strstr(text, "{{")) {
        /* a text parameter's help says where the data should go instead */
        bool hint = desc->type == SB_PARAM_STRING && desc->help;
        diag_error(c->diag, c->file, en->line, c->section, key,
                   "this parameter does not take templates; '{{' would be sent literally%s%s%s",
                   hint ? " (" : "", hint ? desc->help : "", hint ? ")" : "");
        goto out;
    }
    if (!p->tpl) {
        /* MULTI entries are strings of the map; the rest parse as their type */
        struct sb_param as = *desc;
        if (desc->flags & SB_PARAM_MULTI)
            as.type = desc->type == SB_PARAM_SECRET ? SB_PARAM_SECRET : SB_PARAM_STRING;
        if (param_parse_value(&as, text, &p->value, err, sizeof(err)) < 0)
            diag_error(c->diag, c->file, en->line, c->section, key, "%s", err);
    }
out:
    free(base);
}

/* Bind every key of section `sec` (except `use`) and check required ones. */
static void bind_section(struct wf_ctx *c, size_t sec, const struct param_table *table,
                         const char *owner, struct param_binding *b)
{
    for (size_t i = 0; i < c->doc->n_entries; i++) {
        const struct ini_entry *en = &c->doc->entries[i];
        if (en->section != sec || strcmp(en->key, "use") == 0)
            continue;
        bind_one(c, table, owner, en, b);
    }
    for (size_t i = 0; i < table->n; i++) {
        const struct sb_param *d = &table->params[i];
        if (!(d->flags & SB_PARAM_REQUIRED))
            continue;
        /* a key that is written but did not bind (an unset variable, a bad
         * value) has its own error already: not "missing" too */
        bool found = false;
        size_t len = strlen(d->name);
        for (size_t j = 0; j < c->doc->n_entries && !found; j++) {
            const struct ini_entry *en = &c->doc->entries[j];
            found = en->section == sec && strncmp(en->key, d->name, len) == 0 &&
                    (en->key[len] == '\0' || en->key[len] == '.');
        }
        if (!found)
            diag_error(c->diag, c->file, c->doc->sections[sec].line, c->section, d->name,
                       "missing required parameter of %s (%s)", owner,
                       d->help ? d->help : param_type_name(d->type));
    }
}

/* The `use` key of a section, or NULL (reported). */
static const struct ini_entry *find_use(struct wf_ctx *c, size_t sec, const char *example)
{
    const struct ini_entry *use = NULL;
    for (size_t i = 0; i < c->doc->n_entries; i++) {
        const struct ini_entry *en = &c->doc->entries[i];
        if (en->section != sec || strcmp(en->key, "use") != 0)
            continue;
        if (use) {
            diag_error(c->diag, c->file, en->line, c->section, "use",
                       "repeated key (first set on line %d); keep one", use->line);
            continue;
        }
        use = en;
    }
    if (!use)
        diag_error(c->diag, c->file, c->doc->sections[sec].line, c->section, "use",
                   "missing; say what this section uses, e.g. use = %s", example);
    return use;
}

/* Parse a list of durations ("0 5s 1m"); 0 or -1 with the bad item. */
static int parse_backoff(const char *text, int64_t **out, size_t *n, char *err, size_t errlen)
{
    struct json_object *list = parse_list(text);
    size_t len = json_object_array_length(list);
    int64_t *v = xcalloc(len ? len : 1, sizeof(*v));
    for (size_t i = 0; i < len; i++) {
        const char *item = json_object_get_string(json_object_array_get_idx(list, i));
        if (parse_duration_ms(item, &v[i]) < 0) {
            snprintf(err, errlen, "'%s' is not a duration such as 0, 5s, 1m or 2h", item);
            free(v);
            json_object_put(list);
            return -1;
        }
    }
    json_object_put(list);
    if (len == 0) {
        snprintf(err, errlen, "give at least one delay, e.g. 5s 1m 10m");
        free(v);
        return -1;
    }
    *out = v;
    *n = len;
    return 0;
}

static bool valid_step_name(const char *s)
{
    if (!*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return false;
    return true;
}

/* Apply the core keys of a step binding to the step. */
static void step_core_keys(struct wf_ctx *c, struct step *s)
{
    s->retry = -1;
    s->timeout_ms = 30000;
    for (size_t i = 0; i < s->params.n; i++) {
        const struct bound_param *p = &s->params.items[i];
        if (!p->core || !p->value)
            continue;
        if (strcmp(p->name, "retry") == 0) {
            s->retry = (int)json_object_get_int64(p->value);
        } else if (strcmp(p->name, "timeout") == 0) {
            s->timeout_ms = json_object_get_int64(p->value);
        } else if (strcmp(p->name, "on_error") == 0) {
            s->continue_on_error = strcmp(json_object_get_string(p->value), "continue") == 0;
        } else if (strcmp(p->name, "dynamic_host") == 0) {
            s->dynamic_host = json_object_get_boolean(p->value);
        } else if (strcmp(p->name, "retry_backoff") == 0) {
            char err[256];
            if (parse_backoff(p->text, &s->backoff_ms, &s->n_backoff, err, sizeof(err)) < 0)
                diag_error(c->diag, c->file, p->line, c->section, "retry_backoff", "%s", err);
        }
    }
}

/* Does a parameter say where a request goes? Declared so (SB_PARAM_URL),
 * URL-escaped, or named as such by the convention older plugins follow. */
static bool is_url_param(const struct sb_param *d)
{
    size_t n = strlen(d->name);
    return (d->flags & SB_PARAM_URL) || d->escape == SB_ESCAPE_URL || strcmp(d->name, "url") == 0 ||
           strcmp(d->name, "api_base") == 0 || (n > 4 && strcmp(d->name + n - 4, "_url") == 0);
}

/*
 * Where a step's requests go must not come from event data: a template in
 * a URL's scheme, userinfo, host or port is an error unless the step opts
 * in with dynamic_host = true (the client then checks each address when it
 * connects). A template in a parameter sent with no escaping at all is
 * worth a warning.
 */
static void check_step_outbound(struct wf_ctx *c, const struct step *s)
{
    for (size_t i = 0; i < s->params.n; i++) {
        const struct bound_param *p = &s->params.items[i];
        if (!p->tpl || p->core)
            continue;
        const char *key = p->name;
        char full[256];
        if (p->map_key) {
            snprintf(full, sizeof(full), "%s.%s", p->name, p->map_key);
            key = full;
        }
        if (is_url_param(p->desc) && !s->dynamic_host && template_url_authority_templated(p->tpl))
            diag_error(c->diag, c->file, p->line, c->section, key,
                       "a template decides where this request goes (the scheme, user, host or "
                       "port of its URL), so event data could send the step's credentials "
                       "anywhere; write that part literally, e.g. "
                       "https://api.example.com/v1/{{ event.id }}, or, if the host must come "
                       "from data, set dynamic_host = true on this step (each address is then "
                       "checked when connecting)");
        if (p->desc->flags & SB_PARAM_UNESCAPED)
            diag_warning(c->diag, c->file, p->line, c->section, key,
                         "values go into this text unescaped, so event data can change the "
                         "structure of what is sent; prefer an escaped parameter (a JSON body, "
                         "form fields) or make sure the receiver reads it as plain text");
    }
}

/* [step NAME] or [on_failure NAME]: check and append to `steps`. */
static void load_step(struct wf_ctx *c, size_t sec, const char *name,
                      const struct plugin_set *plugins, bool on_failure)
{
    struct workflow *wf = c->wf;
    if (!valid_step_name(name)) {
        diag_error(c->diag, c->file, c->doc->sections[sec].line, c->section, NULL,
                   "step name '%s' is not valid: use letters, digits, _ and -", name);
        return;
    }
    for (size_t i = 0; i < wf->n_steps; i++) {
        if (strcmp(wf->steps[i].name, name) == 0) {
            diag_error(c->diag, c->file, c->doc->sections[sec].line, c->section, NULL,
                       "duplicate step name '%s' (first on line %d); step names must be unique",
                       name, wf->steps[i].line);
            return;
        }
    }
    for (size_t i = 0; i < wf->n_on_failure; i++) {
        if (strcmp(wf->on_failure[i].name, name) == 0) {
            diag_error(c->diag, c->file, c->doc->sections[sec].line, c->section, NULL,
                       "duplicate step name '%s' (first on line %d); step names must be unique",
                       name, wf->on_failure[i].line);
            return;
        }
    }
    const struct ini_entry *use = find_use(c, sec, "slack.post_message");
    if (!use)
        return;
    const struct loaded_action *action = plugin_set_find_action(plugins, use->value);
    if (!action) {
        c->line = use->line;
        if (plugin_set_find_trigger(plugins, use->value)) {
            diag_error(c->diag, c->file, use->line, c->section, "use",
                       "'%s' is a trigger, not an action; a step uses an action", use->value);
            return;
        }
        char *all = plugin_set_list_actions(plugins);
        const char *cands[512];
        size_t nc = 0;
        for (size_t i = 0; i < plugins->n; i++)
            for (size_t j = 0; j < plugins->plugins[i]->n_actions && nc < 512; j++)
                cands[nc++] = plugins->plugins[i]->actions[j].full_name;
        const char *hint = suggest_closest(use->value, cands, nc);
        if (hint)
            diag_error(c->diag, c->file, use->line, c->section, "use",
                       "unknown action '%s' (did you mean '%s'?)", use->value, hint);
        else
            diag_error(c->diag, c->file, use->line, c->section, "use",
                       "unknown action '%s'; available: %s", use->value, all);
        free(all);
        return;
    }
    c->n_earlier_steps = wf->n_steps;
    c->in_on_failure = on_failure;
    struct step *s;
    if (on_failure) {
        XGROW(wf->on_failure, c->cap_on_failure, wf->n_on_failure + 1);
        s = &wf->on_failure[wf->n_on_failure++];
    } else {
        XGROW(wf->steps, c->cap_steps, wf->n_steps + 1);
        s = &wf->steps[wf->n_steps++];
    }
    memset(s, 0, sizeof(*s));
    s->name = xstrdup(name);
    s->line = c->doc->sections[sec].line;
    s->action = action;
    bind_section(c, sec, &action->table, action->full_name, &s->params);
    step_core_keys(c, s);
    check_step_outbound(c, s);
    if (action->has_limit) {
        char err[256];
        if (template_parse(action->limit.key, SB_ESCAPE_NONE, &s->limit_key, err, sizeof(err)) < 0)
            diag_error(c->diag, c->file, s->line, c->section, NULL,
                       "the limit key of %s does not parse: %s", action->full_name, err);
    }
}

/* --- the file as a whole --------------------------------------------------- */

enum section_kind {
    SEC_NONE,
    SEC_WORKFLOW,
    SEC_TRIGGER,
    SEC_FILTER,
    SEC_STEP,
    SEC_ON_FAILURE,
    SEC_UNKNOWN,
};

/* Classify a section name; *arg gets the NAME of [step NAME]. */
static enum section_kind classify(const char *name, const char **arg)
{
    *arg = NULL;
    if (!*name)
        return SEC_NONE;
    if (strcmp(name, "workflow") == 0)
        return SEC_WORKFLOW;
    if (strcmp(name, "trigger") == 0)
        return SEC_TRIGGER;
    if (strcmp(name, "filter") == 0)
        return SEC_FILTER;
    if (strcmp(name, "on_failure") == 0) {
        *arg = "on_failure";
        return SEC_ON_FAILURE;
    }
    if (strncmp(name, "step", 4) == 0 && (name[4] == ' ' || name[4] == '\t' || !name[4])) {
        const char *p = name + 4;
        while (*p == ' ' || *p == '\t')
            p++;
        *arg = p;
        return SEC_STEP;
    }
    if (strncmp(name, "on_failure", 10) == 0 && (name[10] == ' ' || name[10] == '\t')) {
        const char *p = name + 10;
        while (*p == ' ' || *p == '\t')
            p++;
        *arg = p;
        return SEC_ON_FAILURE;
    }
    return SEC_UNKNOWN;
}

static void sha256_hex(const char *path, char out[65])
{
    out[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    unsigned char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        EVP_DigestUpdate(md, buf, n);
    fclose(f);
    unsigned char dig[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(md, dig, &len);
    EVP_MD_CTX_free(md);
    for (unsigned i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", dig[i]);
}

static void load_workflow_section(struct wf_ctx *c, size_t sec)
{
    struct workflow *wf = c->wf;
    size_t nk = sizeof(workflow_keys_names) / sizeof(workflow_keys_names[0]);
    int seen[4] = {0};
    for (size_t i = 0; i < c->doc->n_entries; i++) {
        const struct ini_entry *en = &c->doc->entries[i];
        if (en->section != sec)
            continue;
        size_t k = 0;
        while (k < nk && strcmp(en->key, workflow_keys_names[k]) != 0)
            k++;
        if (k == nk) {
            const char *hint = suggest_closest(en->key, workflow_keys_names, nk);
            diag_error(c->diag, c->file, en->line, "workflow", en->key,
                       "unknown key; [workflow] takes description, enabled, retry and "
                       "retry_backoff%s%s%s",
                       hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            continue;
        }
        if (seen[k]) {
            diag_error(c->diag, c->file, en->line, "workflow", en->key,
                       "repeated key (first set on line %d); keep one", seen[k]);
            continue;
        }
        seen[k] = en->line;
        char err[256];
        int64_t v;
        bool b;
        switch (k) {
        case 0:
            free(wf->description);
            wf->description = xstrdup(en->value);
            break;
        case 1:
            if (parse_bool(en->value, &b) < 0)
                diag_error(c->diag, c->file, en->line, "workflow", en->key,
                           "expected true or false, found '%s'", en->value);
            else
                wf->enabled = b;
            break;
        case 2:
            if (parse_int64(en->value, &v) < 0 || v < 0 || v > 100)
                diag_error(c->diag, c->file, en->line, "workflow", en->key,
                           "expected a number of retries from 0 to 100, found '%s'", en->value);
            else
                wf->retry = (int)v;
            break;
        default:
            if (parse_backoff(en->value, &wf->backoff_ms, &wf->n_backoff, err, sizeof(err)) < 0)
                diag_error(c->diag, c->file, en->line, "workflow", en->key, "%s", err);
        }
    }
}

static void load_filter_section(struct wf_ctx *c, size_t sec)
{
    struct workflow *wf = c->wf;
    for (size_t i = 0; i < c->doc->n_entries; i++) {
        const struct ini_entry *en = &c->doc->entries[i];
        if (en->section != sec)
            continue;
        if (strcmp(en->key, "when") != 0) {
            const char *w[] = {"when"};
            const char *hint = suggest_closest(en->key, w, 1);
            diag_error(c->diag, c->file, en->line, "filter", en->key,
                       "unknown key; [filter] takes only 'when = <condition>'%s",
                       hint ? " (did you mean 'when'?)" : "");
            continue;
        }
        if (wf->filter_text) {
            diag_error(c->diag, c->file, en->line, "filter", "when",
                       "repeated key (first set on line %d); join conditions with 'and'",
                       wf->filter_line);
            continue;
        }
        wf->filter_text = xstrdup(en->value);
        wf->filter_line = en->line;
        char err[512];
        if (condition_parse(en->value, &wf->filter, err, sizeof(err)) < 0) {
            diag_error(c->diag, c->file, en->line, "filter", "when", "%s", err);
            continue;
        }
        c->line = en->line;
        c->key = "when";
        c->section = "filter";
        c->n_earlier_steps = 0;
        c->in_on_failure = false;
        condition_foreach_path(wf->filter, check_path, c);
    }
}

static void load_trigger_section(struct wf_ctx *c, size_t sec, const struct plugin_set *plugins)
{
    struct workflow *wf = c->wf;
    c->section = "trigger";
    const struct ini_entry *use = find_use(c, sec, "http.webhook");
    if (!use)
        return;
    wf->trigger_line = use->line;
    const struct loaded_trigger *t = plugin_set_find_trigger(plugins, use->value);
    if (!t) {
        if (plugin_set_find_action(plugins, use->value)) {
            diag_error(c->diag, c->file, use->line, "trigger", "use",
                       "'%s' is an action, not a trigger", use->value);
            return;
        }
        const char *cands[512];
        size_t nc = 0;
        for (size_t i = 0; i < plugins->n; i++)
            for (size_t j = 0; j < plugins->plugins[i]->n_triggers && nc < 512; j++)
                cands[nc++] = plugins->plugins[i]->triggers[j].full_name;
        const char *hint = suggest_closest(use->value, cands, nc);
        char *all = plugin_set_list_triggers(plugins);
        if (hint)
            diag_error(c->diag, c->file, use->line, "trigger", "use",
                       "unknown trigger '%s' (did you mean '%s'?)", use->value, hint);
        else
            diag_error(c->diag, c->file, use->line, "trigger", "use",
                       "unknown trigger '%s'; available: %s", use->value, all);
        free(all);
        return;
    }
    wf->trigger = t;
    c->n_earlier_steps = 0;
    c->in_on_failure = false;
    bind_section(c, sec, &t->table, t->full_name, &wf->trigger_params);
    if (t->desc.kind == SB_TRIGGER_HTTP) {
        const struct bound_param *p = param_binding_find(&wf->trigger_params, "path");
        const char *path = p ? p->text : wf->name;
        while (*path == '/')
            path++;
        bool ok = *path != '\0';
        for (const char *q = path; *q; q++)
            ok &= (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                  (*q >= '0' && *q <= '9') || strchr("-_./~", *q) != NULL;
        if (!ok || strstr(path, ".."))
            diag_error(c->diag, c->file, p ? p->line : c->doc->sections[sec].line, "trigger",
                       "path", "'%s' is not a usable hook path: use letters, digits and - _ . / ~",
                       p ? p->text : wf->name);
        wf->hook = xstrdup(path);
    }
    for (size_t i = 0; i < wf->trigger_params.n; i++) {
        const struct bound_param *p = &wf->trigger_params.items[i];
        if ((p->desc->flags & SB_PARAM_EVENT_TYPES) && p->value)
            wf->event_types = json_object_get(p->value);
    }
}

int workflow_set_load_file(struct workflow_set *set, const char *path,
                           const struct plugin_set *plugins, struct diag *diag)
{
    size_t errors_before = diag->errors;
    struct ini_doc doc;
    ini_doc_load(&doc, path, diag);
    struct workflow *wf = xcalloc(1, sizeof(*wf));
    struct wf_ctx c = {.file = path, .diag = diag, .wf = wf, .doc = &doc};
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t blen = strlen(base);
    wf->name = xstrndup(base, blen > 4 && strcmp(base + blen - 4, ".ini") == 0 ? blen - 4 : blen);
    wf->file = xstrdup(path);
    wf->enabled = true;
    wf->retry = -1;
    c.dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
    sha256_hex(path, wf->hash);

    size_t trigger_sec = 0, workflow_sec = 0, filter_sec = 0;
    static const char *const known[] = {"workflow", "trigger", "filter", "step", "on_failure"};
    /* pass 1: classify sections, find repeats and strays */
    for (size_t s = 0; s < doc.n_sections; s++) {
        const char *arg;
        enum section_kind k = classify(doc.sections[s].name, &arg);
        size_t *slot = k == SEC_WORKFLOW  ? &workflow_sec
                       : k == SEC_TRIGGER ? &trigger_sec
                       : k == SEC_FILTER  ? &filter_sec
                                          : NULL;
        if (slot && *slot) {
            diag_error(diag, path, doc.sections[s].line, doc.sections[s].name, NULL,
                       "repeated section (first on line %d); merge them", doc.sections[*slot].line);
        } else if (slot) {
            *slot = s;
        } else if (k == SEC_STEP && (!arg || !*arg)) {
            diag_error(diag, path, doc.sections[s].line, "step", NULL,
                       "a step needs a name: [step NAME]");
        } else if (k == SEC_UNKNOWN) {
            char first[64];
            snprintf(first, sizeof(first), "%s", doc.sections[s].name);
            first[strcspn(first, " \t")] = '\0';
            const char *hint = suggest_closest(first, known, 5);
            diag_error(diag, path, doc.sections[s].line, doc.sections[s].name, NULL,
                       "unknown section; a workflow has [workflow], [trigger], [filter], "
                       "[step NAME] and [on_failure NAME]%s%s%s",
                       hint ? " (did you mean [" : "", hint ? hint : "", hint ? "]?)" : "");
        }
    }
    for (size_t i = 0; i < doc.n_entries; i++)
        if (doc.entries[i].section == 0)
            diag_error(diag, path, doc.entries[i].line, NULL, doc.entries[i].key,
                       "key outside any section; put it under [trigger] or a [step NAME]");

    if (workflow_sec)
        load_workflow_section(&c, workflow_sec);
    /* pass 2: steps in file order, then on_failure steps (which may read any
     * step), then the trigger and the filter */
    for (size_t s = 0; s < doc.n_sections; s++) {
        const char *arg;
        if (classify(doc.sections[s].name, &arg) == SEC_STEP && arg && *arg) {
            c.section = doc.sections[s].name;
            load_step(&c, s, arg, plugins, false);
        }
    }
    for (size_t s = 0; s < doc.n_sections; s++) {
        const char *arg;
        if (classify(doc.sections[s].name, &arg) == SEC_ON_FAILURE) {
            c.section = doc.sections[s].name;
            load_step(&c, s, arg, plugins, true);
        }
    }
    if (trigger_sec)
        load_trigger_section(&c, trigger_sec, plugins);
    else
        diag_error(diag, path, 1, "trigger", NULL,
                   "missing section: a workflow needs a [trigger] with use = <plugin.trigger>");
    if (filter_sec)
        load_filter_section(&c, filter_sec);
    size_t n_step_sections = 0;
    for (size_t s = 0; s < doc.n_sections; s++) {
        const char *arg;
        n_step_sections += classify(doc.sections[s].name, &arg) == SEC_STEP;
    }
    if (n_step_sections == 0)
        diag_error(diag, path, 1, "step", NULL,
                   "missing section: a workflow needs at least one [step NAME] with use = "
                   "<plugin.action>");

    /* plugin-level checks, only for sections the core found valid */
    if (diag->errors == errors_before) {
        if (wf->trigger)
            call_validate_trigger(wf, diag);
        for (size_t i = 0; i < wf->n_steps; i++)
            call_validate_step(wf, &wf->steps[i], diag);
        for (size_t i = 0; i < wf->n_on_failure; i++)
            call_validate_step(wf, &wf->on_failure[i], diag);
    }
    free(c.dir);
    ini_doc_release(&doc);
    if (diag->errors > errors_before) {
        workflow_free(wf);
        return -1;
    }
    XGROW(set->items, set->cap, set->n + 1);
    set->items[set->n++] = wf;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int workflow_set_load(struct workflow_set *set, const char *dir, const struct plugin_set *plugins,
                      struct diag *diag)
{
    DIR *d = opendir(dir);
    if (!d) {
        char msg[128];
        strerror_r(errno, msg, sizeof(msg));
        diag_error(diag, dir, 0, NULL, NULL, "cannot read the workflow folder: %s", msg);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] != '.' && len > 4 && strcmp(de->d_name + len - 4, ".ini") == 0) {
            XGROW(names, cap, n + 1);
            names[n++] = xasprintf("%s/%s", dir, de->d_name);
        }
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (workflow_set_load_file(set, names[i], plugins, diag) < 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    if (workflow_set_link(set, diag) < 0)
        rc = -1;
    return rc;
}

/* Do two workflows bind their shared hook path the same way? Every
 * trigger parameter but the event-type patterns must agree. Returns the
 * name of the first differing parameter, or NULL. */
static const char *binding_conflict(const struct workflow *a, const struct workflow *b)
{
    if (a->trigger != b->trigger)
        return "use";
    const struct param_binding *x = &a->trigger_params, *y = &b->trigger_params;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < x->n; i++) {
            const struct bound_param *p = &x->items[i];
            if ((p->desc->flags & SB_PARAM_EVENT_TYPES) || strcmp(p->name, "path") == 0)
                continue;
            const struct bound_param *q = NULL;
            for (size_t j = 0; j < y->n; j++)
                if (strcmp(y->items[j].name, p->name) == 0 &&
                    ((!p->map_key && !y->items[j].map_key) ||
                     (p->map_key && y->items[j].map_key &&
                      strcmp(p->map_key, y->items[j].map_key) == 0)))
                    q = &y->items[j];
            if (!q || strcmp(p->text, q->text) != 0)
                return p->name;
        }
        const struct param_binding *t = x;
        x = y;
        y = t;
    }
    return NULL;
}

int workflow_set_link(struct workflow_set *set, struct diag *diag)
{
    int rc = 0;
    for (size_t i = 0; i < set->n; i++) {
        struct workflow *wf = set->items[i];
        if (!wf->hook || !wf->enabled)
            continue;
        struct hook_route *r = NULL;
        for (size_t j = 0; j < set->n_routes; j++)
            if (strcmp(set->routes[j].path, wf->hook) == 0)
                r = &set->routes[j];
        if (r) {
            const struct workflow *first = r->workflows[0];
            const char *param = binding_conflict(first, wf);
            if (param) {
                const struct bound_param *p = param_binding_find(&wf->trigger_params, param);
                diag_error(diag, wf->file, p ? p->line : wf->trigger_line, "trigger", param,
                           "hook path '/hooks/%s' is also bound by %s:%d with a different '%s'; "
                           "workflows sharing a path must use the same trigger and settings "
                           "(only event filters may differ), or set a different path",
                           wf->hook, first->file, first->trigger_line, param);
                rc = -1;
                continue;
            }
        } else {
            XGROW(set->routes, set->cap_routes, set->n_routes + 1);
            r = &set->routes[set->n_routes++];
            memset(r, 0, sizeof(*r));
            r->path = xstrdup(wf->hook);
            r->trigger = wf->trigger;
        }
        XGROW(r->workflows, r->cap, r->n + 1);
        r->workflows[r->n++] = wf;
    }
    return rc;
}

void workflow_set_release(struct workflow_set *set)
{
    for (size_t i = 0; i < set->n_routes; i++) {
        free(set->routes[i].path);
        free(set->routes[i].workflows);
    }
    free(set->routes);
    for (size_t i = 0; i < set->n; i++)
        workflow_free(set->items[i]);
    free(set->items);
    workflow_set_init(set);
}

struct workflow *workflow_set_find(const struct workflow_set *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->items[i]->name, name) == 0)
            return set->items[i];
    return NULL;
}

const struct hook_route *workflow_set_route(const struct workflow_set *set, const char *path)
{
    for (size_t i = 0; i < set->n_routes; i++)
        if (strcmp(set->routes[i].path, path) == 0)
            return &set->routes[i];
    return NULL;
}

bool workflow_wants_type(const struct workflow *wf, const char *type)
{
    if (!wf->event_types)
        return true;
    size_t n = json_object_array_length(wf->event_types);
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++) {
        const char *pat = json_object_get_string(json_object_array_get_idx(wf->event_types, i));
        if (strcmp(pat, "*") == 0 || fnmatch(pat, type ? type : "", 0) == 0)
            return true;
    }
    return false;
}

void workflow_set_version(const struct workflow_set *set, char out[17])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    for (size_t i = 0; i < set->n; i++) {
        EVP_DigestUpdate(md, set->items[i]->name, strlen(set->items[i]->name) + 1);
        EVP_DigestUpdate(md, set->items[i]->hash, 64);
    }
    unsigned char d[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(md, d, &len);
    EVP_MD_CTX_free(md);
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}
