#include "describe.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "params.h"
#include "suggest.h"
#include "xalloc.h"

static const char *escape_name(uint32_t e)
{
    switch (e) {
    case SB_ESCAPE_JSON:
        return "json";
    case SB_ESCAPE_HEADER:
        return "header";
    case SB_ESCAPE_URL:
        return "url";
    case SB_ESCAPE_SLACK:
        return "slack";
    case SB_ESCAPE_SLACK_JSON:
        return "slack_json";
    default:
        return "none";
    }
}

static const char *trigger_kind_name(uint32_t k)
{
    switch (k) {
    case SB_TRIGGER_HTTP:
        return "http";
    case SB_TRIGGER_POLL:
        return "poll";
    default:
        return "thread";
    }
}

static struct json_object *param_json(const struct sb_param *p, bool core)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(p->name));
    json_object_object_add(o, "type", json_object_new_string(param_type_name(p->type)));
    json_object_object_add(o, "required", json_object_new_boolean(p->flags & SB_PARAM_REQUIRED));
    json_object_object_add(o, "template", json_object_new_boolean(p->flags & SB_PARAM_TEMPLATE));
    json_object_object_add(
        o, "sensitive",
        json_object_new_boolean(p->type == SB_PARAM_SECRET || (p->flags & SB_PARAM_SENSITIVE)));
    json_object_object_add(o, "multi", json_object_new_boolean(p->flags & SB_PARAM_MULTI));
    json_object_object_add(o, "event_types",
                           json_object_new_boolean(p->flags & SB_PARAM_EVENT_TYPES));
    json_object_object_add(o, "default", p->def ? json_object_new_string(p->def) : NULL);
    json_object_object_add(o, "help", json_object_new_string(p->help ? p->help : ""));
    if (p->type == SB_PARAM_ENUM && p->values) {
        struct json_object *vals = json_object_new_array();
        for (size_t i = 0; p->values[i]; i++)
            json_object_array_add(vals, json_object_new_string(p->values[i]));
        json_object_object_add(o, "values", vals);
    }
    if (p->min < p->max) {
        json_object_object_add(o, "min", json_object_new_int64(p->min));
        json_object_object_add(o, "max",
                               p->max == SB_NO_MAX ? NULL : json_object_new_int64(p->max));
    }
    if (p->flags & SB_PARAM_TEMPLATE)
        json_object_object_add(o, "escape", json_object_new_string(escape_name(p->escape)));
    json_object_object_add(o, "core", json_object_new_boolean(core));
    return o;
}

static struct json_object *params_json(const struct param_table *t)
{
    struct json_object *arr = json_object_new_array();
    for (size_t i = 0; i < t->n; i++)
        json_object_array_add(arr, param_json(&t->params[i], t->core[i]));
    return arr;
}

static struct json_object *limit_json(const struct loaded_action *a)
{
    if (!a->has_limit)
        return NULL;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "key", json_object_new_string(a->limit.key));
    json_object_object_add(o, "rate", json_object_new_int64(a->limit.rate));
    json_object_object_add(o, "per_ms", json_object_new_int64(a->limit.per_ms));
    json_object_object_add(o, "burst",
                           json_object_new_int64(a->limit.burst ? a->limit.burst : a->limit.rate));
    json_object_object_add(o, "concurrency", json_object_new_int64(a->limit.concurrency));
    return o;
}

static struct json_object *trigger_json(const struct loaded_trigger *t)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "schema", json_object_new_string(DESCRIBE_SCHEMA));
    json_object_object_add(o, "name", json_object_new_string(t->full_name));
    json_object_object_add(o, "kind", json_object_new_string("trigger"));
    json_object_object_add(o, "trigger_kind",
                           json_object_new_string(trigger_kind_name(t->desc.kind)));
    json_object_object_add(o, "plugin", json_object_new_string(t->plugin->name));
    json_object_object_add(
        o, "plugin_version",
        json_object_new_string(t->plugin->desc.version ? t->plugin->desc.version : ""));
    json_object_object_add(o, "summary",
                           json_object_new_string(t->desc.summary ? t->desc.summary : ""));
    json_object_object_add(o, "output",
                           json_object_new_string(t->desc.output ? t->desc.output : ""));
    if (t->desc.kind == SB_TRIGGER_HTTP) {
        struct json_object *m = json_object_new_array();
        uint32_t methods = t->desc.methods ? t->desc.methods : SB_METHOD_POST;
        static const char *const names[] = {"POST", "GET", "HEAD", "PUT"};
        for (int i = 0; i < 4; i++)
            if (methods & (1u << i))
                json_object_array_add(m, json_object_new_string(names[i]));
        json_object_object_add(o, "methods", m);
    }
    json_object_object_add(o, "params", params_json(&t->table));
    if (t->desc.sign) {
        struct json_object *sign = json_object_new_object(), *names = json_object_new_array();
        json_object_array_add(names, json_object_new_string(t->full_name));
        for (size_t i = 0; t->desc.sign_aliases && t->desc.sign_aliases[i]; i++)
            json_object_array_add(names, json_object_new_string(t->desc.sign_aliases[i]));
        json_object_object_add(sign, "names", names);
        json_object_object_add(sign, "options", params_json(&t->sign_table));
        json_object_object_add(o, "sign", sign);
    }
    struct json_object *hooks = json_object_new_array();
    if (t->desc.register_hook)
        json_object_array_add(hooks, json_object_new_string("register"));
    if (t->desc.unregister_hook)
        json_object_array_add(hooks, json_object_new_string("unregister"));
    if (t->desc.list_hooks)
        json_object_array_add(hooks, json_object_new_string("list"));
    json_object_object_add(o, "hooks", hooks);
    return o;
}

static struct json_object *action_json(const struct loaded_action *a)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "schema", json_object_new_string(DESCRIBE_SCHEMA));
    json_object_object_add(o, "name", json_object_new_string(a->full_name));
    json_object_object_add(o, "kind", json_object_new_string("action"));
    json_object_object_add(o, "plugin", json_object_new_string(a->plugin->name));
    json_object_object_add(
        o, "plugin_version",
        json_object_new_string(a->plugin->desc.version ? a->plugin->desc.version : ""));
    json_object_object_add(o, "summary",
                           json_object_new_string(a->desc.summary ? a->desc.summary : ""));
    json_object_object_add(o, "output",
                           json_object_new_string(a->desc.output ? a->desc.output : ""));
    json_object_object_add(o, "limit", limit_json(a));
    json_object_object_add(o, "params", params_json(&a->table));
    return o;
}

static void print_json(struct json_object *o, FILE *out)
{
    fprintf(out, "%s\n",
            json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

static void print_params_text(const struct param_table *t, const char *title, FILE *out)
{
    int width = 4;
    for (size_t i = 0; i < t->n; i++) {
        int w = (int)strlen(t->params[i].name) + ((t->params[i].flags & SB_PARAM_MULTI) ? 6 : 0);
        if (w > width)
            width = w;
    }
    for (int pass = 0; pass < 2; pass++) {
        bool header = false;
        for (size_t i = 0; i < t->n; i++) {
            const struct sb_param *p = &t->params[i];
            if (t->core[i] != (pass == 1))
                continue;
            if (!header) {
                fprintf(out, "\n%s\n", pass == 0 ? title : "core parameters:");
                header = true;
            }
            char name[128];
            snprintf(name, sizeof(name), "%s%s", p->name,
                     (p->flags & SB_PARAM_MULTI) ? ".<key>" : "");
            char flags[128] = "";
            size_t n = 0;
            if (p->flags & SB_PARAM_REQUIRED)
                n += (size_t)snprintf(flags + n, sizeof(flags) - n, "required ");
            if (p->flags & SB_PARAM_TEMPLATE)
                n += (size_t)snprintf(flags + n, sizeof(flags) - n, "template ");
            if (p->type == SB_PARAM_SECRET || (p->flags & SB_PARAM_SENSITIVE))
                n += (size_t)snprintf(flags + n, sizeof(flags) - n, "sensitive ");
            if (n)
                flags[n - 1] = '\0';
            fprintf(out, "  %-*s  %-8s  %-26s  %s", width, name, param_type_name(p->type), flags,
                    p->help ? p->help : "");
            if (p->def)
                fprintf(out, " [default: %s]", p->def);
            if (p->type == SB_PARAM_ENUM && p->values) {
                fprintf(out, " (");
                for (size_t k = 0; p->values[k]; k++)
                    fprintf(out, "%s%s", k ? " | " : "", p->values[k]);
                fprintf(out, ")");
            }
            fprintf(out, "\n");
        }
    }
}

static void trigger_text(const struct loaded_trigger *t, FILE *out)
{
    fprintf(out, "%s  (trigger, %s)\n  %s\n", t->full_name, trigger_kind_name(t->desc.kind),
            t->desc.summary ? t->desc.summary : "");
    if (t->desc.output)
        fprintf(out, "\nevent: %s\n", t->desc.output);
    print_params_text(&t->table, "parameters:", out);
    if (t->desc.sign) {
        fprintf(out, "\nsign: switchboard sign %s", t->full_name);
        for (size_t i = 0; t->desc.sign_aliases && t->desc.sign_aliases[i]; i++)
            fprintf(out, " | %s", t->desc.sign_aliases[i]);
        fprintf(out, " --secret S [--timestamp T]%s < body\n",
                t->sign_table.n ? " [--set OPTION=VALUE]..." : "");
        print_params_text(&t->sign_table, "sign options:", out);
    }
    if (t->desc.register_hook || t->desc.unregister_hook || t->desc.list_hooks)
        fprintf(out, "\nhooks: switchboard hooks %s%s%s%s%s WORKFLOW\n",
                t->desc.register_hook ? "register" : "",
                t->desc.register_hook && (t->desc.list_hooks || t->desc.unregister_hook) ? "|" : "",
                t->desc.list_hooks ? "list" : "",
                t->desc.list_hooks && t->desc.unregister_hook ? "|" : "",
                t->desc.unregister_hook ? "unregister" : "");
}

static void action_text(const struct loaded_action *a, FILE *out)
{
    fprintf(out, "%s  (action)\n  %s\n", a->full_name, a->desc.summary ? a->desc.summary : "");
    if (a->desc.output)
        fprintf(out, "\noutput: %s\n", a->desc.output);
    if (a->has_limit) {
        fprintf(out, "\nlimit: per '%s':", a->limit.key);
        if (a->limit.rate)
            fprintf(out, " %u calls per %u ms (burst %u)", a->limit.rate, a->limit.per_ms,
                    a->limit.burst ? a->limit.burst : a->limit.rate);
        if (a->limit.concurrency)
            fprintf(out, " %s%u at once", a->limit.rate ? "and " : "", a->limit.concurrency);
        fprintf(out, "\n");
    }
    print_params_text(&a->table, "parameters:", out);
}

static struct json_object *plugin_json(const struct plugin *pl)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(pl->name));
    json_object_object_add(o, "version",
                           json_object_new_string(pl->desc.version ? pl->desc.version : ""));
    json_object_object_add(o, "summary",
                           json_object_new_string(pl->desc.summary ? pl->desc.summary : ""));
    json_object_object_add(o, "path", json_object_new_string(pl->path));
    json_object_object_add(o, "sdk", json_object_new_string(pl->abi_minor == 0 ? "1.0" : "1.x"));
    struct json_object *tr = json_object_new_array(), *ac = json_object_new_array();
    for (size_t i = 0; i < pl->n_triggers; i++)
        json_object_array_add(tr, trigger_json(&pl->triggers[i]));
    for (size_t i = 0; i < pl->n_actions; i++)
        json_object_array_add(ac, action_json(&pl->actions[i]));
    json_object_object_add(o, "triggers", tr);
    json_object_object_add(o, "actions", ac);
    return o;
}

void describe_plugins(const struct plugin_set *set, bool json, FILE *out)
{
    if (json) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "schema", json_object_new_string(DESCRIBE_SCHEMA));
        struct json_object *arr = json_object_new_array();
        for (size_t i = 0; i < set->n; i++)
            json_object_array_add(arr, plugin_json(set->plugins[i]));
        json_object_object_add(o, "plugins", arr);
        print_json(o, out);
        return;
    }
    if (set->n == 0)
        fprintf(out, "no plugins loaded\n");
    for (size_t i = 0; i < set->n; i++) {
        const struct plugin *pl = set->plugins[i];
        fprintf(out, "%s %s  %s\n", pl->name, pl->desc.version ? pl->desc.version : "",
                pl->desc.summary ? pl->desc.summary : "");
        for (size_t j = 0; j < pl->n_triggers; j++)
            fprintf(out, "  trigger  %-28s %s\n", pl->triggers[j].full_name,
                    pl->triggers[j].desc.summary ? pl->triggers[j].desc.summary : "");
        for (size_t j = 0; j < pl->n_actions; j++)
            fprintf(out, "  action   %-28s %s\n", pl->actions[j].full_name,
                    pl->actions[j].desc.summary ? pl->actions[j].desc.summary : "");
    }
}

int describe_name(const struct plugin_set *set, const char *name, bool json, FILE *out)
{
    const struct loaded_trigger *t = plugin_set_find_trigger(set, name);
    const struct loaded_action *a = plugin_set_find_action(set, name);
    const struct plugin *pl = plugin_set_find(set, name);
    if (t) {
        if (json)
            print_json(trigger_json(t), out);
        else
            trigger_text(t, out);
        return 0;
    }
    if (a) {
        if (json)
            print_json(action_json(a), out);
        else
            action_text(a, out);
        return 0;
    }
    if (pl) {
        if (json) {
            struct json_object *o = plugin_json(pl);
            json_object_object_add(o, "schema", json_object_new_string(DESCRIBE_SCHEMA));
            print_json(o, out);
        } else {
            fprintf(out, "%s %s  %s\n", pl->name, pl->desc.version ? pl->desc.version : "",
                    pl->desc.summary ? pl->desc.summary : "");
            for (size_t j = 0; j < pl->n_triggers; j++) {
                fprintf(out, "\n");
                trigger_text(&pl->triggers[j], out);
            }
            for (size_t j = 0; j < pl->n_actions; j++) {
                fprintf(out, "\n");
                action_text(&pl->actions[j], out);
            }
        }
        return 0;
    }
    const char *cands[1024];
    size_t n = 0;
    for (size_t i = 0; i < set->n && n < 1000; i++) {
        cands[n++] = set->plugins[i]->name;
        for (size_t j = 0; j < set->plugins[i]->n_triggers && n < 1000; j++)
            cands[n++] = set->plugins[i]->triggers[j].full_name;
        for (size_t j = 0; j < set->plugins[i]->n_actions && n < 1000; j++)
            cands[n++] = set->plugins[i]->actions[j].full_name;
    }
    const char *hint = suggest_closest(name, cands, n);
    fprintf(stderr, "switchboard describe: no plugin, trigger or action named '%s'%s%s%s\n", name,
            hint ? " (did you mean '" : "; see 'switchboard plugins'", hint ? hint : "",
            hint ? "'?)" : "");
    return -1;
}
