#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "build_config.h"
#include "inifile.h"
#include "params.h"
#include "secret.h"
#include "suggest.h"
#include "xalloc.h"

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_formats[] = {"text", "json", NULL};

static const struct sb_param server_keys[] = {
    {.name = "listen",
     .type = SB_PARAM_STRING,
     .def = "127.0.0.1:8080",
     .help = "host:port to serve webhooks on; port 0 picks a free port"},
    {.name = "max_body",
     .type = SB_PARAM_SIZE,
     .def = "1M",
     .min = 1,
     .max = 1073741824,
     .help = "largest request body accepted (larger: 413)"},
    {.name = "max_header",
     .type = SB_PARAM_SIZE,
     .def = "16K",
     .min = 1024,
     .max = 1048576,
     .help = "largest request head (request line and headers)"},
    {.name = "timeout",
     .type = SB_PARAM_DURATION,
     .def = "30s",
     .min = 1000,
     .max = 3600000,
     .help = "idle time after which a client connection is closed"},
    {.name = "max_connections",
     .type = SB_PARAM_INT,
     .def = "1024",
     .min = 1,
     .max = 1000000,
     .help = "open connections at most"},
    {.name = "max_connections_per_ip",
     .type = SB_PARAM_INT,
     .def = "128",
     .min = 1,
     .max = 1000000,
     .help = "open connections at most from one address"},
    {.name = "threads",
     .type = SB_PARAM_INT,
     .def = "2",
     .min = 1,
     .max = 256,
     .help = "HTTP server threads"},
    {.name = "admin_token",
     .type = SB_PARAM_SECRET,
     .help = "bearer token for the admin API (/admin/...); unset: admin API off"},
    {.name = "public_url",
     .type = SB_PARAM_STRING,
     .help = "the base URL providers call, e.g. https://hooks.example.com (a trigger is at "
             "<public_url>/hooks/<path> unless it sets its own public_url); used by "
             "switchboard hooks register and by signatures over the URL"},
    SB_END,
};

static const struct sb_param engine_keys[] = {
    {.name = "plugin_dir",
     .type = SB_PARAM_LIST,
     .def = SB_DEFAULT_PLUGIN_DIR,
     .help = "folders holding connector .so files"},
    {.name = "workflow_dir",
     .type = SB_PARAM_STRING,
     .def = "workflows",
     .help = "folder of workflow .ini files"},
    {.name = "store",
     .type = SB_PARAM_STRING,
     .def = "sqlite:var/switchboard.db",
     .help = "where events and runs are kept: sqlite:PATH"},
    {.name = "workers",
     .type = SB_PARAM_INT,
     .def = "4",
     .min = 1,
     .max = 256,
     .help = "dispatcher worker threads"},
    {.name = "retention",
     .type = SB_PARAM_DURATION,
     .def = "7d",
     .min = 60000,
     .max = SB_NO_MAX,
     .help = "finished runs and their events are purged after this long"},
    {.name = "shutdown_grace",
     .type = SB_PARAM_DURATION,
     .def = "10s",
     .min = 0,
     .max = 3600000,
     .help = "on SIGTERM, how long in-flight steps may take to finish"},
    {.name = "watch",
     .type = SB_PARAM_BOOL,
     .def = "true",
     .help = "reload the workflows when a file in workflow_dir changes (SIGHUP always does)"},
    SB_END,
};

static const struct sb_param log_keys[] = {
    {.name = "level",
     .type = SB_PARAM_ENUM,
     .def = "info",
     .values = log_levels,
     .help = "debug | info | warn | error"},
    {.name = "format",
     .type = SB_PARAM_ENUM,
     .def = "text",
     .values = log_formats,
     .help = "text | json (one JSON object per line)"},
    SB_END,
};

struct section_keys {
    const char *name;
    const struct sb_param *keys;
};

static const struct section_keys sections[] = {
    {"server", server_keys},
    {"engine", engine_keys},
    {"log", log_keys},
};

int config_parse_listen(const char *text, char **host, int *port)
{
    const char *colon;
    char *h;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return -1;
        h = xstrndup(text + 1, (size_t)(close - text - 1));
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon || colon == text)
            return -1;
        h = xstrndup(text, (size_t)(colon - text));
    }
    int64_t p;
    if (parse_int64(colon + 1, &p) < 0 || p < 0 || p > 65535) {
        free(h);
        return -1;
    }
    *host = h;
    *port = (int)p;
    return 0;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

/* `rel` taken relative to `base` unless absolute. Caller owns. */
static char *resolve_path(const char *base, const char *rel)
{
    if (rel[0] == '/' || !base || strcmp(base, ".") == 0)
        return xstrdup(rel);
    return xasprintf("%s/%s", base, rel);
}

/* "sqlite:PATH" with PATH made relative to base; other URLs unchanged. */
static char *resolve_store(const char *base, const char *url)
{
    if (strncmp(url, "sqlite:", 7) == 0) {
        char *p = resolve_path(base, url + 7);
        char *s = xasprintf("sqlite:%s", p);
        free(p);
        return s;
    }
    return xstrdup(url);
}

static const struct sb_param *find_key(const struct sb_param *keys, const char *name)
{
    for (const struct sb_param *k = keys; k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

/* The values of one section after defaults and file values, as JSON. */
static void apply_defaults(const struct sb_param *keys, struct json_object *obj)
{
    char err[256];
    for (const struct sb_param *k = keys; k->name; k++) {
        struct json_object *v = NULL;
        if (k->def && !json_object_object_get_ex(obj, k->name, NULL) &&
            param_parse_value(k, k->def, &v, err, sizeof(err)) == 0)
            json_object_object_add(obj, k->name, v);
    }
}

static const char *get_str(struct json_object *obj, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(obj, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t get_int(struct json_object *obj, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(obj, key, &v) ? json_object_get_int64(v) : 0;
}

/* Check every entry of the file against the key tables; store good values
 * in values[section]. */
static void read_file(const struct ini_doc *doc, struct json_object *values[3], int lines[3][16],
                      struct diag *diag)
{
    const char *names[3] = {"server", "engine", "log"};
    for (size_t s = 1; s < doc->n_sections; s++) {
        const char *sec = doc->sections[s].name;
        int known = 0;
        for (size_t i = 0; i < 3; i++)
            known |= strcmp(sec, names[i]) == 0;
        if (!known) {
            const char *hint = suggest_closest(sec, names, 3);
            diag_error(diag, doc->path, doc->sections[s].line, sec, NULL,
                       "unknown section; expected [server], [engine] or [log]%s%s%s",
                       hint ? " (did you mean [" : "", hint ? hint : "", hint ? "]?)" : "");
        }
    }
    for (size_t e = 0; e < doc->n_entries; e++) {
        const struct ini_entry *en = &doc->entries[e];
        const char *sec = doc->sections[en->section].name;
        int si = -1;
        for (int i = 0; i < 3; i++)
            if (strcmp(sec, sections[i].name) == 0)
                si = i;
        if (en->section == 0) {
            diag_error(diag, doc->path, en->line, NULL, en->key,
                       "key outside any section; put it under [server], [engine] or [log]");
            continue;
        }
        if (si < 0)
            continue; /* the section was reported */
        const struct sb_param *k = find_key(sections[si].keys, en->key);
        if (!k) {
            const char *cands[16];
            size_t n = 0;
            for (const struct sb_param *p = sections[si].keys; p->name && n < 16; p++)
                cands[n++] = p->name;
            const char *hint = suggest_closest(en->key, cands, n);
            if (hint)
                diag_error(diag, doc->path, en->line, sec, en->key,
                           "unknown key (did you mean '%s'?)", hint);
            else
                diag_error(diag, doc->path, en->line, sec, en->key, "unknown key");
            continue;
        }
        int idx = (int)(k - sections[si].keys);
        if (lines[si][idx]) {
            diag_error(diag, doc->path, en->line, sec, en->key,
                       "repeated key (first set on line %d); keep one", lines[si][idx]);
            continue;
        }
        lines[si][idx] = en->line;
        char err[512];
        char *expanded = NULL;
        bool had_ref = false;
        if (secret_expand(en->value, NULL, &expanded, &had_ref, err, sizeof(err)) < 0) {
            diag_error(diag, doc->path, en->line, sec, en->key, "%s", err);
            continue;
        }
        if (k->type == SB_PARAM_SECRET && !had_ref && expanded[0]) {
            diag_error(diag, doc->path, en->line, sec, en->key,
                       "secrets must be references: write ${env:NAME} or ${file:/path}");
            free(expanded);
            continue;
        }
        struct json_object *v = NULL;
        if (param_parse_value(k, expanded, &v, err, sizeof(err)) < 0)
            diag_error(diag, doc->path, en->line, sec, en->key, "%s", err);
        else
            json_object_object_add(values[si], k->name, v);
        free(expanded);
    }
}

static char *find_config_file(const struct config_overrides *ov)
{
    if (ov && ov->config)
        return xstrdup(ov->config);
    const char *env = getenv("SWITCHBOARD_CONFIG");
    if (env && *env)
        return xstrdup(env);
    struct stat st;
    if (stat("conf/switchboard.ini", &st) == 0)
        return xstrdup("conf/switchboard.ini");
    if (stat(SB_DEFAULT_SYSCONF, &st) == 0)
        return xstrdup(SB_DEFAULT_SYSCONF);
    return NULL;
}

int config_load(struct config *cfg, const struct config_overrides *ov, struct diag *diag)
{
    memset(cfg, 0, sizeof(*cfg));
    size_t errors_before = diag->errors;
    struct json_object *values[3] = {json_object_new_object(), json_object_new_object(),
                                     json_object_new_object()};
    int lines[3][16] = {{0}};
    cfg->path = find_config_file(ov);
    cfg->dir = cfg->path ? dir_of(cfg->path) : xstrdup(".");
    if (cfg->path) {
        struct ini_doc doc;
        ini_doc_load(&doc, cfg->path, diag);
        read_file(&doc, values, lines, diag);
        ini_doc_release(&doc);
    }
    for (size_t i = 0; i < 3; i++)
        apply_defaults(sections[i].keys, values[i]);

    const char *listen = ov && ov->listen ? ov->listen : get_str(values[0], "listen");
    if (config_parse_listen(listen, &cfg->listen_host, &cfg->listen_port) < 0) {
        if (ov && ov->listen)
            diag_error(diag, "--listen", 0, NULL, NULL,
                       "'%s' is not host:port (for example 127.0.0.1:8080)", listen);
        else
            diag_error(diag, cfg->path, lines[0][0], "server", "listen",
                       "'%s' is not host:port (for example 127.0.0.1:8080)", listen);
        cfg->listen_host = xstrdup("127.0.0.1");
        cfg->listen_port = 8080;
    }
    cfg->max_body = get_int(values[0], "max_body");
    cfg->max_header = get_int(values[0], "max_header");
    cfg->conn_timeout_ms = get_int(values[0], "timeout");
    cfg->max_connections = (int)get_int(values[0], "max_connections");
    cfg->max_connections_per_ip = (int)get_int(values[0], "max_connections_per_ip");
    cfg->server_threads = (int)get_int(values[0], "threads");
    const char *tok = get_str(values[0], "admin_token");
    cfg->admin_token = tok && *tok ? xstrdup(tok) : NULL;
    const char *pub = get_str(values[0], "public_url");
    if (pub && *pub) {
        if ((strncmp(pub, "https://", 8) != 0 && strncmp(pub, "http://", 7) != 0) ||
            strpbrk(pub, " \t\r\n?#"))
            diag_error(diag, cfg->path, lines[0][find_key(server_keys, "public_url") - server_keys],
                       "server", "public_url",
                       "'%s' is not a base URL; write the scheme, host and any path prefix, "
                       "e.g. https://hooks.example.com",
                       pub);
        else
            cfg->public_url = xstrdup(pub);
    }

    if (ov && ov->plugins) {
        struct json_object *list = parse_list(ov->plugins);
        cfg->n_plugin_dirs = json_object_array_length(list);
        cfg->plugin_dirs = xcalloc(cfg->n_plugin_dirs, sizeof(char *));
        for (size_t i = 0; i < cfg->n_plugin_dirs; i++)
            cfg->plugin_dirs[i] =
                xstrdup(json_object_get_string(json_object_array_get_idx(list, i)));
        json_object_put(list);
    } else {
        struct json_object *list;
        json_object_object_get_ex(values[1], "plugin_dir", &list);
        cfg->n_plugin_dirs = json_object_array_length(list);
        cfg->plugin_dirs = xcalloc(cfg->n_plugin_dirs, sizeof(char *));
        for (size_t i = 0; i < cfg->n_plugin_dirs; i++)
            cfg->plugin_dirs[i] =
                resolve_path(cfg->dir, json_object_get_string(json_object_array_get_idx(list, i)));
    }
    cfg->workflow_dir = ov && ov->workflows
                            ? xstrdup(ov->workflows)
                            : resolve_path(cfg->dir, get_str(values[1], "workflow_dir"));
    cfg->store =
        ov && ov->store ? xstrdup(ov->store) : resolve_store(cfg->dir, get_str(values[1], "store"));
    if (strncmp(cfg->store, "sqlite:", 7) != 0 && strncmp(cfg->store, "postgresql:", 11) != 0 &&
        strncmp(cfg->store, "postgres:", 9) != 0) {
        if (ov && ov->store)
            diag_error(diag, "--store", 0, NULL, NULL, "'%s' is not a store URL; write sqlite:PATH",
                       cfg->store);
        else
            diag_error(diag, cfg->path, lines[1][2], "engine", "store",
                       "'%s' is not a store URL; write sqlite:PATH", cfg->store);
    }
    cfg->workers = (int)get_int(values[1], "workers");
    cfg->retention_ms = get_int(values[1], "retention");
    cfg->shutdown_grace_ms = get_int(values[1], "shutdown_grace");
    struct json_object *w;
    cfg->watch = !json_object_object_get_ex(values[1], "watch", &w) || json_object_get_boolean(w);
    cfg->log_level = (enum sb_log_level)log_level_parse(get_str(values[2], "level"));
    cfg->log_format = strcmp(get_str(values[2], "format"), "json") == 0 ? LOG_JSON : LOG_TEXT;

    for (size_t i = 0; i < 3; i++)
        json_object_put(values[i]);
    return diag->errors > errors_before ? -1 : 0;
}

void config_release(struct config *cfg)
{
    free(cfg->path);
    free(cfg->dir);
    free(cfg->listen_host);
    free(cfg->admin_token);
    free(cfg->public_url);
    for (size_t i = 0; i < cfg->n_plugin_dirs; i++)
        free(cfg->plugin_dirs[i]);
    free(cfg->plugin_dirs);
    free(cfg->workflow_dir);
    free(cfg->store);
    memset(cfg, 0, sizeof(*cfg));
}
