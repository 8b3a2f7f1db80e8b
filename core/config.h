/*
 * The engine's own configuration, switchboard.ini:
 *   [server] listen, max_body, ...   [engine] plugin_dir, workflow_dir,
 *   store, workers, ...               [log] level, format
 * Keys are declared in tables of struct sb_param, so they are checked the
 * same way as workflow parameters (unknown key with did-you-mean, types,
 * ranges). Relative paths are relative to the file's folder; command-line
 * overrides are relative to the working directory.
 */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "log.h"

struct config_overrides {
    const char *config;    /* -c FILE */
    const char *listen;    /* --listen */
    const char *store;     /* --store */
    const char *workflows; /* --workflows */
    const char *plugins;   /* --plugins */
};

struct config {
    char *path; /* the file read, NULL when none was found */
    char *dir;  /* its folder ("." when none) */
    /* [server] */
    char *listen_host;
    int listen_port;
    int64_t max_body;   /* bytes */
    int64_t max_header; /* bytes */
    int64_t conn_timeout_ms;
    int max_connections;
    int max_connections_per_ip;
    int server_threads;
    char *admin_token; /* NULL: admin API off */
    char *public_url;  /* base URL providers call; NULL: not set */
    /* [engine] */
    char **plugin_dirs;
    size_t n_plugin_dirs;
    char *workflow_dir;
    char *store; /* "sqlite:/abs/or/relative.db", "postgresql://..." */
    int workers;
    int64_t retention_ms;
    int64_t shutdown_grace_ms;
    bool watch; /* reload when workflow files change */
    /* [log] */
    enum sb_log_level log_level;
    enum log_format log_format;
};

/*
 * Load the configuration: the file given by ov->config, else
 * conf/switchboard.ini in the working directory, else the system file;
 * with no file at all, built-in defaults. Errors go to diag with file:line.
 * Returns 0 or -1 (cfg must be released either way).
 */
int config_load(struct config *cfg, const struct config_overrides *ov, struct diag *diag);
void config_release(struct config *cfg);

/* Parse "host:port" ("[::1]:8080" for IPv6); 0 or -1. *host: caller owns. */
int config_parse_listen(const char *text, char **host, int *port);

#endif
