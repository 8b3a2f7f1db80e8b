/*
 * The discord example's test: a stand-in of Discord's webhook endpoint
 * (checking what Discord checks: JSON content type, content or embeds, at
 * most 2000 characters) and the installed switchboard running the plugin
 * with `switchboard fire`.
 *   usage: test_discord SWITCHBOARD_BINARY PLUGIN_FOLDER [INSTALLED_PLUGINS]
 */
#include <microhttpd.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int requests;
static char last_url[512], last_body[4096], last_type[128];
static int answer_status = 200;

struct upload {
    char body[4096];
    size_t len;
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct upload *u = *con_cls;
    if (!u) {
        *con_cls = calloc(1, sizeof(struct upload));
        return MHD_YES;
    }
    if (*size) {
        size_t n = *size < sizeof(u->body) - 1 - u->len ? *size : sizeof(u->body) - 1 - u->len;
        memcpy(u->body + u->len, data, n);
        u->len += n;
        *size = 0;
        return MHD_YES;
    }
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    const char *wait = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "wait");
    pthread_mutex_lock(&lock);
    requests++;
    snprintf(last_url, sizeof(last_url), "%s %s?wait=%s", method, url, wait ? wait : "");
    snprintf(last_body, sizeof(last_body), "%s", u->body);
    snprintf(last_type, sizeof(last_type), "%s", type ? type : "");
    int status = answer_status;
    pthread_mutex_unlock(&lock);
    /* what Discord checks */
    struct json_object *body = json_tokener_parse(u->body);
    struct json_object *content = NULL, *embeds = NULL;
    const char *reply;
    if (!type || strncmp(type, "application/json", 16) != 0) {
        status = 400;
        reply = "{\"message\": \"Cannot send an empty message\", \"code\": 50006}";
    } else if (!body || (!json_object_object_get_ex(body, "content", &content) &&
                         !json_object_object_get_ex(body, "embeds", &embeds))) {
        status = 400;
        reply = "{\"message\": \"Cannot send an empty message\", \"code\": 50006}";
    } else if (content && strlen(json_object_get_string(content)) > 2000) {
        status = 400;
        reply = "{\"content\": [\"Must be 2000 or fewer in length.\"]}";
    } else if (status == 200) {
        reply = "{\"id\": \"1180000000000000001\", \"channel_id\": \"42\", \"type\": 0}";
    } else {
        reply = "{\"message\": \"Unknown Webhook\", \"code\": 10015}";
    }
    json_object_put(body);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(reply), (void *)(size_t)reply,
                                                             MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*con_cls);
}

/* Run switchboard with args; capture stdout+stderr into out. Exit status. */
static int run(char *const argv[], const char *env_url, char *out, size_t outlen)
{
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        if (env_url)
            setenv("DISCORD_WEBHOOK_URL", env_url, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t k;
    while ((k = read(fds[0], out + n, outlen - 1 - n)) > 0)
        n += (size_t)k;
    out[n] = '\0';
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int failures;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #cond);                                \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s SWITCHBOARD PLUGIN_FOLDER [INSTALLED_PLUGINS]\n", argv[0]);
        return 2;
    }
    char *bin = argv[1];
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, NULL,
                         MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_END);
    if (!d)
        return 1;
    int port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    char dir[] = "/tmp/discordtestXXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[600], cfg[600];
    snprintf(path, sizeof(path), "%s/workflows", dir);
    mkdir(path, 0755);
    snprintf(cfg, sizeof(cfg), "%s/switchboard.ini", dir);
    FILE *f = fopen(cfg, "w");
    fprintf(f, "[engine]\nplugin_dir = %s %s\nworkflow_dir = workflows\nstore = sqlite:store.db\n",
            argc > 3 ? argv[3] : "", argv[2]);
    fclose(f);
    snprintf(path, sizeof(path), "%s/workflows/order.ini", dir);
    f = fopen(path, "w");
    fputs("[trigger]\nuse = http.webhook\nverify = none\n\n"
          "[step tell]\nuse = discord.post_message\nwebhook_url = ${env:DISCORD_WEBHOOK_URL}\n"
          "content = New order {{ event.id }} for {{ event.total | money }}\n",
          f);
    fclose(f);
    char event[600];
    snprintf(event, sizeof(event), "%s/event.json", dir);
    f = fopen(event, "w");
    fputs("{\"id\": \"evt_1\", \"total\": 5000}", f);
    fclose(f);
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/webhooks/123/secret-token-value", port);
    static char out[65536];

    char *check[] = {bin, "check", "-c", cfg, NULL};
    CHECK(run(check, url, out, sizeof(out)) == 0);
    char *describe[] = {bin, "describe", "discord.post_message", "-c", cfg, NULL};
    CHECK(run(describe, url, out, sizeof(out)) == 0);
    CHECK(strstr(out, "webhook_url") != NULL);

    char *fire[] = {bin, "fire", "order", "--event", event, "-c", cfg, NULL};
    CHECK(run(fire, url, out, sizeof(out)) == 0);
    CHECK(requests == 1);
    CHECK(strcmp(last_url, "POST /api/webhooks/123/secret-token-value?wait=true") == 0);
    CHECK(strncmp(last_type, "application/json", 16) == 0);
    CHECK(strstr(last_body, "\"content\":\"New order evt_1 for $50.00\"") != NULL);
    CHECK(strstr(out, "1180000000000000001") != NULL); /* the message became the output */

    /* a dry run sends nothing and hides the webhook URL's token */
    char *dry[] = {bin, "fire", "order", "--event", event, "--dry-run", "-c", cfg, NULL};
    CHECK(run(dry, url, out, sizeof(out)) == 0);
    CHECK(requests == 1);
    CHECK(strstr(out, "secret-token-value") == NULL);
    CHECK(strstr(out, "New order evt_1") != NULL);

    /* Discord's error message is surfaced */
    answer_status = 404;
    CHECK(run(fire, url, out, sizeof(out)) == 1);
    CHECK(strstr(out, "Unknown Webhook") != NULL);

    MHD_stop_daemon(d);
    char rm[700];
    snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
    if (system(rm) != 0)
        failures++;
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "ok", failures);
    return failures ? 1 : 0;
}
