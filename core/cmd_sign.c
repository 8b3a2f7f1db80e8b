/*
 * switchboard sign NAME --secret S [--timestamp T] [--set K=V]... < body:
 * print the headers a provider would send with this body, one "Name: value"
 * line each, so a real-looking signed webhook can be sent with curl (and
 * tests can make one). The signing is the plugin's (the trigger's sign
 * callback, SDK 1.1): this file knows no provider. NAME is a trigger
 * ("acme.webhook"), a plugin ("acme": its first trigger that signs) or an
 * alias a trigger declares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "call.h"
#include "commands.h"
#include "params.h"
#include "strbuf.h"
#include "suggest.h"
#include "xalloc.h"

static const char usage[] =
    "usage: switchboard sign NAME --secret S [--timestamp T] [--set OPTION=VALUE]... "
    "[--url U] [--id I] < body\n";

static char *read_stdin(size_t *len)
{
    struct strbuf sb = STRBUF_INIT;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
        strbuf_add(&sb, buf, n);
    strbuf_grow(&sb, 0); /* a NUL after the body, as struct sb_sign_request says */
    return strbuf_detach(&sb, len);
}

static bool has_alias(const struct loaded_trigger *t, const char *name)
{
    for (size_t i = 0; t->desc.sign_aliases && t->desc.sign_aliases[i]; i++)
        if (strcmp(t->desc.sign_aliases[i], name) == 0)
            return true;
    return false;
}

/* Every name `sign` accepts, as "acme (acme.webhook), acme.other, alias
 * (acme.webhook), ...". Caller owns. */
static char *signer_names(const struct plugin_set *set)
{
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < set->n; i++) {
        const struct plugin *pl = set->plugins[i];
        bool first = true;
        for (size_t j = 0; j < pl->n_triggers; j++) {
            const struct loaded_trigger *t = &pl->triggers[j];
            if (!t->desc.sign)
                continue;
            if (first)
                strbuf_addf(&sb, "%s%s (%s)", sb.len ? ", " : "", pl->name, t->full_name);
            else
                strbuf_addf(&sb, ", %s", t->full_name);
            first = false;
            for (size_t k = 0; t->desc.sign_aliases && t->desc.sign_aliases[k]; k++)
                strbuf_addf(&sb, ", %s (%s)", t->desc.sign_aliases[k], t->full_name);
        }
    }
    if (!sb.len)
        strbuf_addstr(&sb, "none: no loaded plugin signs (is --plugins or -c right?)");
    return strbuf_detach(&sb, NULL);
}

/* The trigger NAME stands for; NULL with the reason on stderr. */
static const struct loaded_trigger *find_signer(const struct plugin_set *set, const char *name)
{
    const struct loaded_trigger *found = NULL;
    if (strchr(name, '.')) {
        found = plugin_set_find_trigger(set, name);
        if (found && !found->desc.sign) {
            fprintf(stderr, "switchboard sign: trigger '%s' has no signing scheme\n", name);
            return NULL;
        }
    } else if (plugin_set_find(set, name)) {
        const struct plugin *pl = plugin_set_find(set, name);
        for (size_t i = 0; i < pl->n_triggers && !found; i++)
            if (pl->triggers[i].desc.sign)
                found = &pl->triggers[i];
        if (!found) {
            fprintf(stderr, "switchboard sign: plugin '%s' has no trigger that signs\n", name);
            return NULL;
        }
    } else {
        size_t n = 0;
        for (size_t i = 0; i < set->n; i++)
            for (size_t j = 0; j < set->plugins[i]->n_triggers; j++)
                if (has_alias(&set->plugins[i]->triggers[j], name) && n++ == 0)
                    found = &set->plugins[i]->triggers[j];
        if (n > 1) {
            fprintf(stderr,
                    "switchboard sign: '%s' is a name of %zu triggers; give one as "
                    "plugin.trigger\n",
                    name, n);
            return NULL;
        }
    }
    if (!found) {
        char *names = signer_names(set);
        fprintf(stderr, "switchboard sign: unknown provider '%s'; known: %s\n", name, names);
        free(names);
    }
    return found;
}

/* Put "name" = v, or "name.key" into the object "name" for a map option. */
static void put_option(struct json_object *obj, const struct sb_param *p, const char *key,
                       struct json_object *v)
{
    if (!key) {
        json_object_object_add(obj, p->name, v);
        return;
    }
    struct json_object *map;
    if (!json_object_object_get_ex(obj, p->name, &map)) {
        map = json_object_new_object();
        json_object_object_add(obj, p->name, map);
    }
    json_object_object_add(map, key, v);
}

/*
 * The sign options of trigger t from the command line: each "NAME=VALUE"
 * checked against t's sign_params (unknown names with did-you-mean, typed
 * values, required ones), defaults applied. Returns the object (caller
 * owns), or NULL with the reason on stderr.
 */
static struct json_object *sign_options(const struct loaded_trigger *t, const char *const *pairs,
                                        size_t n)
{
    const struct param_table *tab = &t->sign_table;
    struct json_object *obj = json_object_new_object();
    char err[256];
    for (size_t i = 0; i < tab->n; i++) {
        const struct sb_param *p = &tab->params[i];
        struct json_object *v = NULL;
        if (p->def && !(p->flags & SB_PARAM_MULTI) &&
            param_parse_value(p, p->def, &v, err, sizeof(err)) == 0)
            json_object_object_add(obj, p->name, v);
    }
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(pairs[i], '=');
        char *name = xstrndup(pairs[i], (size_t)(eq - pairs[i]));
        char *dot = strchr(name, '.');
        if (dot)
            *dot = '\0';
        const struct sb_param *p = param_table_find(tab, name);
        if (!p || (dot && !(p->flags & SB_PARAM_MULTI)) || (!dot && (p->flags & SB_PARAM_MULTI))) {
            const char *cands[64];
            size_t nc = 0;
            for (size_t k = 0; k < tab->n && nc < 64; k++)
                cands[nc++] = tab->params[k].name;
            const char *hint = p ? NULL : suggest_closest(name, cands, nc);
            fprintf(stderr, "switchboard sign: %s takes no option '%s'%s%s%s", t->full_name,
                    pairs[i], hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            if (tab->n) {
                fprintf(stderr, "; its options:");
                for (size_t k = 0; k < tab->n; k++)
                    fprintf(stderr, " %s%s", tab->params[k].name,
                            (tab->params[k].flags & SB_PARAM_MULTI) ? ".<key>" : "");
            }
            fprintf(stderr, "\n");
            free(name);
            json_object_put(obj);
            return NULL;
        }
        struct sb_param as = *p;
        if (as.flags & SB_PARAM_MULTI)
            as.type = SB_PARAM_STRING;
        struct json_object *v = NULL;
        if (param_parse_value(&as, eq + 1, &v, err, sizeof(err)) < 0) {
            fprintf(stderr, "switchboard sign: --set %s: %s\n", pairs[i], err);
            free(name);
            json_object_put(obj);
            return NULL;
        }
        put_option(obj, p, dot ? dot + 1 : NULL, v);
        free(name);
    }
    for (size_t i = 0; i < tab->n; i++) {
        if ((tab->params[i].flags & SB_PARAM_REQUIRED) &&
            !json_object_object_get_ex(obj, tab->params[i].name, NULL)) {
            fprintf(stderr, "switchboard sign: %s needs --set %s=... (%s)\n", t->full_name,
                    tab->params[i].name, tab->params[i].help ? tab->params[i].help : "");
            json_object_put(obj);
            return NULL;
        }
    }
    return obj;
}

/* Print the plugin's output: an object of header name -> string value. */
static int print_headers(const char *what, struct json_object *out)
{
    if (!json_object_is_type(out, json_type_object) || json_object_object_length(out) == 0) {
        fprintf(stderr, "switchboard sign: %s gave no headers (a bug in the plugin)\n", what);
        return -1;
    }
    json_object_object_foreach(out, name, value)
    {
        const char *v = json_object_get_string(value);
        if (!json_object_is_type(value, json_type_string) || !*name || strpbrk(name, ":\r\n ") ||
            strpbrk(v, "\r\n")) {
            fprintf(stderr,
                    "switchboard sign: %s gave a malformed header '%s' (a bug in the "
                    "plugin)\n",
                    what, name);
            return -1;
        }
    }
    json_object_object_foreach(out, n, val)
    {
        printf("%s: %s\n", n, json_object_get_string(val));
    }
    return 0;
}

int cmd_sign(struct cli *cli)
{
    if (cli->n_positional != 1 || !cli->opt_secret) {
        fputs(usage, stderr);
        return 2;
    }
    const char *name = cli->positional[0];
    int64_t ts = (int64_t)time(NULL);
    if (cli->opt_timestamp && parse_int64(cli->opt_timestamp, &ts) < 0) {
        fprintf(stderr, "switchboard sign: --timestamp wants Unix seconds, not '%s'\n",
                cli->opt_timestamp);
        return 2;
    }
    struct app app;
    app_load(&app, &cli->ov, APP_PLUGINS);
    int rc = 2;
    char *body = NULL;
    struct json_object *options = NULL;
    const struct loaded_trigger *t = find_signer(&app.plugins, name);
    if (!t) {
        /* a plugin that failed to load may be the one asked for */
        diag_print(&app.diag, stderr);
        goto out;
    }
    /* --url and --id are short for --set url=... and --set id=... */
    const char *pairs[sizeof(cli->opt_set) / sizeof(cli->opt_set[0]) + 2];
    size_t n = 0;
    char *url_pair = cli->opt_url ? xasprintf("url=%s", cli->opt_url) : NULL;
    char *id_pair = cli->opt_id ? xasprintf("id=%s", cli->opt_id) : NULL;
    if (url_pair)
        pairs[n++] = url_pair;
    if (id_pair)
        pairs[n++] = id_pair;
    for (int i = 0; i < cli->n_set; i++)
        pairs[n++] = cli->opt_set[i];
    options = sign_options(t, pairs, n);
    free(url_pair);
    free(id_pair);
    if (!options)
        goto out;
    size_t len = 0;
    body = read_stdin(&len);
    struct sb_sign_request req = {
        .size = sizeof(req),
        .body = (const unsigned char *)body,
        .body_len = len,
        .secret = cli->opt_secret,
        .timestamp_s = ts,
    };
    struct sb_call c;
    call_init(&c, CALL_SIGN, t->full_name);
    c.plugin = t->plugin;
    c.table = &t->sign_table;
    c.params = options;
    enum sb_status st = t->desc.sign(&core_host, &c, &req);
    if (st != SB_OK)
        fprintf(stderr, "switchboard sign %s: %s\n", name,
                c.error.len ? strbuf_str(&c.error) : "the plugin could not sign");
    else if (print_headers(t->full_name, c.output) == 0)
        rc = 0;
    call_release(&c);
out:
    json_object_put(options);
    free(body);
    app_release(&app);
    return rc;
}
