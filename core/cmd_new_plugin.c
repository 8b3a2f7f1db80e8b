/* switchboard new-plugin NAME [--dir D]: write a starter connector (one
 * trigger, one action, CMakeLists.txt, Makefile, a test) that builds
 * against the installed SDK and passes its test as written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "strbuf.h"
#include "xalloc.h"

/* in parts: ISO C compilers need only take string literals of 4095 bytes */
static const char *const source_template[] = {
    "/*\n"
    " * @NAME@: a switchboard connector (started with `switchboard new-plugin`).\n"
    " *\n"
    " * Trigger @NAME@.webhook: receives JSON webhooks whose X-@NAME@-Token header\n"
    " * holds the shared secret. Action @NAME@.send: POSTs {\"text\": ...} to a URL.\n"
    " * Rules to keep (see docs/plugin-guide.md): verify over the raw body before\n"
    " * parsing; compare secrets with sb->ct_equal; never abort; every pointer the\n"
    " * host gives you is borrowed for the call.\n"
    " */\n"
    "#include <stdio.h>\n"
    "#include <string.h>\n"
    "\n"
    "#include <json-c/json.h>\n"
    "#include <switchboard/plugin.h>\n"
    "\n"
    "static const struct sb_param webhook_params[] = {\n"
    "    {.name = \"secret\",\n"
    "     .type = SB_PARAM_SECRET,\n"
    "     .flags = SB_PARAM_REQUIRED,\n"
    "     .help = \"the token senders put in the X-@NAME@-Token header\"},\n"
    "    {.name = \"events\",\n"
    "     .type = SB_PARAM_LIST,\n"
    "     .flags = SB_PARAM_EVENT_TYPES,\n"
    "     .help = \"only these event types start the workflow (globs)\"},\n"
    "    SB_END,\n"
    "};\n"
    "\n"
    "static enum sb_status webhook_receive(const struct sb_host *sb, struct sb_call *call,\n"
    "                                      const struct sb_request *req)\n"
    "{\n"
    "    const char *secret = sb->param_string(call, \"secret\");\n"
    "    const char *token = sb->header(req, \"X-@NAME@-Token\");\n"
    "    if (!token || strlen(token) != strlen(secret) ||\n"
    "        !sb->ct_equal(token, secret, strlen(secret)))\n"
    "        return sb->reject(call, 401, \"invalid token\");\n"
    "    struct json_object *payload = json_tokener_parse((const char *)req->body);\n"
    "    if (!payload || !json_object_is_type(payload, json_type_object)) {\n"
    "        json_object_put(payload);\n"
    "        return sb->reject(call, 400, \"body is not a JSON object\");\n"
    "    }\n"
    "    struct sb_event ev = SB_EVENT_INIT;\n"
    "    struct json_object *v;\n"
    "    if (json_object_object_get_ex(payload, \"id\", &v))\n"
    "        ev.id = json_object_get_string(v); /* duplicates of an id are dropped */\n"
    "    ev.type = json_object_object_get_ex(payload, \"type\", &v) ? json_object_get_string(v)\n"
    "                                                               : \"@NAME@.event\";\n"
    "    ev.payload = payload; /* consumed by emit */\n"
    "    return sb->emit(call, &ev);\n"
    "}\n"
    "\n"
    "/* switchboard sign @NAME@ --secret S < body: the headers a sender adds,\n"
    " * as an object of name -> value (SDK 1.1). */\n"
    "static enum sb_status webhook_sign(const struct sb_host *sb, struct sb_call *call,\n"
    "                                   const struct sb_sign_request *req)\n"
    "{\n"
    "    struct json_object *out = json_object_new_object();\n"
    "    if (!out)\n"
    "        return sb->fail(call, \"out of memory\");\n"
    "    json_object_object_add(out, \"X-@NAME@-Token\", json_object_new_string(req->secret));\n"
    "    sb->set_output(call, out);\n"
    "    return SB_OK;\n"
    "}\n"
    "\n",
    "static const struct sb_param send_params[] = {\n"
    "    {.name = \"url\",\n"
    "     .type = SB_PARAM_STRING,\n"
    "     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,\n"
    "     .escape = SB_ESCAPE_URL,\n"
    "     .help = \"where to send the message\"},\n"
    "    {.name = \"text\",\n"
    "     .type = SB_PARAM_STRING,\n"
    "     .flags = SB_PARAM_REQUIRED | SB_PARAM_TEMPLATE,\n"
    "     .help = \"the message\"},\n"
    "    {.name = \"token\", .type = SB_PARAM_SECRET, .help = \"sent as Authorization: Bearer\"},\n"
    "    SB_END,\n"
    "};\n"
    "\n"
    "static enum sb_status send_run(const struct sb_host *sb, struct sb_call *call)\n"
    "{\n"
    "    struct json_object *body = json_object_new_object();\n"
    "    json_object_object_add(body, \"text\", json_object_new_string(sb->param_string(call, "
    "\"text\")));\n"
    "    const char *json = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);\n"
    "    char auth[512] = \"\";\n"
    "    const char *token = sb->param_string(call, \"token\");\n"
    "    struct sb_header headers[2] = {{\"Content-Type\", \"application/json\"}, {NULL, NULL}};\n"
    "    size_t n = 1;\n"
    "    if (token) {\n"
    "        snprintf(auth, sizeof(auth), \"Bearer %s\", token);\n"
    "        headers[n++] = (struct sb_header){\"Authorization\", auth};\n"
    "    }\n"
    "    struct sb_http_request req = SB_HTTP_REQUEST_INIT;\n"
    "    req.method = \"POST\";\n"
    "    req.url = sb->param_string(call, \"url\");\n"
    "    req.headers = headers;\n"
    "    req.n_headers = n;\n"
    "    req.body = json;\n"
    "    req.body_len = strlen(json);\n"
    "    struct sb_http_response resp;\n"
    "    int rc = sb->http(call, &req, &resp);\n"
    "    json_object_put(body);\n"
    "    enum sb_status st = SB_OK;\n"
    "    if (rc == SB_HTTP_DRY_RUN) /* the request was printed, not sent */\n"
    "        sb->set_output(call, json_object_new_object());\n"
    "    else if (rc != SB_HTTP_SENT) /* no answer: try again later */\n"
    "        st = sb->retry(call, -1, \"@NAME@: %s\", resp.error);\n"
    "    else if (resp.status == 429 || resp.status >= 500)\n"
    "        st = sb->retry(call, resp.retry_after_s, \"@NAME@: HTTP %ld\", resp.status);\n"
    "    else if (resp.status >= 300)\n"
    "        st = sb->fail(call, \"@NAME@: HTTP %ld: %.200s\", resp.status, resp.body);\n"
    "    else {\n"
    "        struct json_object *out = json_object_new_object();\n"
    "        json_object_object_add(out, \"status\", json_object_new_int64(resp.status));\n"
    "        sb->set_output(call, out);\n"
    "    }\n"
    "    sb->http_release(&resp);\n"
    "    return st;\n"
    "}\n"
    "\n",
    "static const struct sb_trigger triggers[] = {\n"
    "    {.name = \"webhook\",\n"
    "     .summary = \"Receive JSON webhooks that carry the shared token\",\n"
    "     .output = \"the JSON body\",\n"
    "     .kind = SB_TRIGGER_HTTP,\n"
    "     .params = webhook_params,\n"
    "     .receive = webhook_receive,\n"
    "     .sign = webhook_sign},\n"
    "    SB_END,\n"
    "};\n"
    "\n"
    "static const struct sb_action actions[] = {\n"
    "    {.name = \"send\",\n"
    "     .summary = \"POST a text message as JSON\",\n"
    "     .output = \"status: the HTTP status of the answer\",\n"
    "     .params = send_params,\n"
    "     .run = send_run},\n"
    "    SB_END,\n"
    "};\n"
    "\n"
    "static const struct sb_plugin plugin = {\n"
    "    .name = \"@NAME@\",\n"
    "    .version = \"0.1.0\",\n"
    "    .summary = \"@NAME@ connector\",\n"
    "    .triggers = triggers,\n"
    "    .actions = actions,\n"
    "};\n"
    "\n"
    "SB_PLUGIN_DEFINE(plugin)\n",
    NULL,
};

static const char *const cmake_template[] = {
    "# cmake -S . -B build -DCMAKE_PREFIX_PATH=<switchboard prefix> && cmake --build build\n"
    "cmake_minimum_required(VERSION 3.18)\n"
    "project(switchboard-@NAME@ C)\n"
    "find_package(switchboard-sdk 1.1 REQUIRED)\n"
    "switchboard_add_plugin(@NAME@ SOURCES @NAME@.c)\n"
    "install(TARGETS @NAME@ LIBRARY DESTINATION ${SWITCHBOARD_PLUGIN_DIR})\n",
    NULL,
};

static const char *const make_template[] = {
    "# make        build @NAME@.so with pkg-config\n"
    "# make test   build it and run test.sh with the installed switchboard\n"
    "# make install   copy it into the engine's plugin folder\n"
    "CC ?= cc\n"
    "CFLAGS ?= -O2 -g -Wall -Wextra\n"
    "SWITCHBOARD ?= switchboard\n"
    "SDK_CFLAGS := $(shell pkg-config --cflags switchboard-sdk)\n"
    "SDK_LIBS := $(shell pkg-config --libs switchboard-sdk)\n"
    "PLUGIN_DIR := $(shell pkg-config --variable=plugindir switchboard-sdk)\n"
    "\n"
    "all: @NAME@.so\n"
    "\n"
    "@NAME@.so: @NAME@.c\n"
    "\t$(CC) -std=c11 $(CFLAGS) $(SDK_CFLAGS) -shared -o $@ @NAME@.c $(SDK_LIBS)\n"
    "\tchmod go-w $@\n"
    "\n"
    "test: @NAME@.so\n"
    "\tsh ./test.sh $(SWITCHBOARD) $(CURDIR) $(PLUGIN_DIR)\n"
    "\n"
    "install: @NAME@.so\n"
    "\tinstall -m 0644 @NAME@.so $(DESTDIR)$(PLUGIN_DIR)/\n"
    "\n"
    "clean:\n"
    "\trm -f @NAME@.so\n"
    "\n"
    ".PHONY: all test install clean\n",
    NULL,
};

static const char *const test_template[] = {
    "#!/bin/sh\n"
    "# The @NAME@ connector in the real engine: it loads, its parameters are\n"
    "# documented, a workflow using it passes `switchboard check` (and a broken\n"
    "# one fails), and a dry run prints the exact request the action sends.\n"
    "# usage: test.sh SWITCHBOARD PLUGIN_FOLDER [INSTALLED_PLUGIN_FOLDER]\n"
    "set -eu\n"
    "bin=$1 here=$2 installed=${3:-}\n"
    "tmp=$(mktemp -d)\n"
    "trap 'rm -rf \"$tmp\"' EXIT\n"
    "mkdir \"$tmp/workflows\"\n"
    "printf '[engine]\\nplugin_dir = %s %s\\nworkflow_dir = workflows\\nstore = sqlite:db\\n' \\\n"
    "    \"$installed\" \"$here\" > \"$tmp/switchboard.ini\"\n"
    "cat > \"$tmp/workflows/try.ini\" <<'INI'\n"
    "[trigger]\n"
    "use = @NAME@.webhook\n"
    "secret = ${env:@UPPER@_SECRET}\n"
    "\n"
    "[step send]\n"
    "use = @NAME@.send\n"
    "url = http://127.0.0.1:9/messages\n"
    "text = got {{ event.type }} {{ event.id }}\n"
    "INI\n"
    "export @UPPER@_SECRET=s3cret-value\n"
    "\"$bin\" plugins -c \"$tmp/switchboard.ini\" | grep -q 'trigger  @NAME@.webhook'\n"
    "\"$bin\" describe @NAME@.send -c \"$tmp/switchboard.ini\" | grep -q 'where to send the "
    "message'\n"
    "\"$bin\" check -c \"$tmp/switchboard.ini\" >/dev/null\n"
    "out=$(echo '{\"id\": \"e1\", \"type\": \"order\"}' |\n"
    "      \"$bin\" fire try --event - --dry-run -c \"$tmp/switchboard.ini\")\n"
    "echo \"$out\" | grep -q 'POST http://127.0.0.1:9/messages'\n"
    "echo \"$out\" | grep -q '{\"text\":\"got order e1\"}'\n"
    "# switchboard sign uses the trigger's sign callback\n"
    "echo '{}' | \"$bin\" sign @NAME@ --secret s3cret-value -c \"$tmp/switchboard.ini\" |\n"
    "    grep -qx 'X-@NAME@-Token: s3cret-value'\n"
    "# a missing required parameter is reported with its file:line\n"
    "printf '[trigger]\\nuse = @NAME@.webhook\\n\\n[step s]\\nuse = @NAME@.send\\ntext = x\\n' \\\n"
    "    > \"$tmp/workflows/bad.ini\"\n"
    "if \"$bin\" check -c \"$tmp/switchboard.ini\" 2> \"$tmp/err\"; then\n"
    "    echo 'FAIL: a broken workflow passed check'; exit 1\n"
    "fi\n"
    "grep -q 'bad.ini:1: \\[trigger\\] secret: missing required parameter' \"$tmp/err\"\n"
    "grep -q 'bad.ini:4: \\[step s\\] url: missing required parameter' \"$tmp/err\"\n"
    "echo ok\n",
    NULL,
};

static const char *const readme_template[] = {
    "# @NAME@\n"
    "\n"
    "A switchboard connector, started with `switchboard new-plugin @NAME@`.\n"
    "\n"
    "    make                 # build @NAME@.so (pkg-config switchboard-sdk)\n"
    "    make test            # check it in the installed engine\n"
    "    make install         # copy it into the engine's plugin folder\n"
    "\n"
    "or with CMake: `cmake -S . -B build -DCMAKE_PREFIX_PATH=<prefix> && cmake --build build`.\n"
    "See the plugin guide (docs/plugin-guide.md) for the rules of the SDK.\n",
    NULL,
};

/* Write `tmpl` with @NAME@ and @UPPER@ replaced. 0 or -1. */
static int write_file(const char *dir, const char *file, const char *const *tmpl, const char *name)
{
    char upper[128];
    size_t n = strlen(name);
    for (size_t i = 0; i <= n && i < sizeof(upper); i++)
        upper[i] = (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 'a' + 'A') : name[i];
    struct strbuf sb = STRBUF_INIT;
    struct strbuf whole = STRBUF_INIT;
    for (size_t i = 0; tmpl[i]; i++)
        strbuf_addstr(&whole, tmpl[i]);
    for (const char *p = strbuf_str(&whole); *p;) {
        if (strncmp(p, "@NAME@", 6) == 0) {
            strbuf_addstr(&sb, name);
            p += 6;
        } else if (strncmp(p, "@UPPER@", 7) == 0) {
            strbuf_addstr(&sb, upper);
            p += 7;
        } else {
            strbuf_addch(&sb, *p++);
        }
    }
    char *path = xasprintf("%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    int rc = -1;
    if (f) {
        rc = fwrite(sb.buf, 1, sb.len, f) == sb.len ? 0 : -1;
        if (fclose(f) != 0)
            rc = -1;
    }
    if (rc < 0)
        fprintf(stderr, "switchboard new-plugin: cannot write %s\n", path);
    free(path);
    strbuf_release(&sb);
    strbuf_release(&whole);
    return rc;
}

int cmd_new_plugin(struct cli *cli)
{
    if (cli->n_positional != 1) {
        fprintf(stderr, "usage: switchboard new-plugin NAME [--dir D]\n");
        return 2;
    }
    const char *name = cli->positional[0];
    bool ok = *name && strlen(name) < 64 && !(name[0] >= '0' && name[0] <= '9');
    for (const char *p = name; *p; p++)
        ok &= (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    if (!ok) {
        fprintf(stderr,
                "switchboard new-plugin: '%s' is not a plugin name: use a-z, 0-9 and _, "
                "starting with a letter\n",
                name);
        return 2;
    }
    char *dir = cli->opt_dir ? xstrdup(cli->opt_dir) : xasprintf("./%s", name);
    int rc = 1;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "switchboard new-plugin: cannot create %s\n", dir);
        goto out;
    }
    char *src = xasprintf("%s.c", name);
    struct stat st;
    char *srcpath = xasprintf("%s/%s", dir, src);
    if (stat(srcpath, &st) == 0) {
        fprintf(stderr, "switchboard new-plugin: %s exists already; not overwriting\n", srcpath);
        free(src);
        free(srcpath);
        goto out;
    }
    free(srcpath);
    if (write_file(dir, src, source_template, name) == 0 &&
        write_file(dir, "CMakeLists.txt", cmake_template, name) == 0 &&
        write_file(dir, "Makefile", make_template, name) == 0 &&
        write_file(dir, "test.sh", test_template, name) == 0 &&
        write_file(dir, "README.md", readme_template, name) == 0) {
        printf("wrote %s/: %s, CMakeLists.txt, Makefile, test.sh, README.md\n"
               "next: cd %s && make test\n",
               dir, src, dir);
        rc = 0;
    }
    free(src);
out:
    free(dir);
    return rc;
}
