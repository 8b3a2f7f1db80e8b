#include "secret.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diag.h"
#include "inifile.h"
#include "redact.h"
#include "strbuf.h"
#include "xalloc.h"

#define SECRET_FILE_MAX (64 * 1024)

bool secret_has_ref(const char *value)
{
    for (const char *p = strstr(value, "${"); p; p = strstr(p + 2, "${"))
        if (p == value || p[-1] != '$')
            return true;
    return false;
}

static int read_secret_file(const char *path, char **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        char msg[128];
        strerror_r(errno, msg, sizeof(msg));
        snprintf(err, errlen, "secret file '%s' cannot be read: %s", path, msg);
        return -1;
    }
    char *buf = xmalloc(SECRET_FILE_MAX + 1);
    size_t n = fread(buf, 1, SECRET_FILE_MAX + 1, f);
    fclose(f);
    if (n > SECRET_FILE_MAX) {
        free(buf);
        snprintf(err, errlen, "secret file '%s' is larger than %d bytes", path, SECRET_FILE_MAX);
        return -1;
    }
    buf[n] = '\0';
    /* one trailing newline is how editors and `echo` end files, not part
     * of the secret */
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    if (memchr(buf, '\0', n)) {
        free(buf);
        snprintf(err, errlen, "secret file '%s' contains a NUL byte", path);
        return -1;
    }
    *out = buf;
    return 0;
}

int secret_expand(const char *value, const char *base_dir, char **out, bool *had_ref, char *err,
                  size_t errlen)
{
    struct strbuf sb = STRBUF_INIT;
    bool any = false;
    const char *p = value;
    while (*p) {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            strbuf_addstr(&sb, "${");
            p += 3;
            continue;
        }
        if (!(p[0] == '$' && p[1] == '{')) {
            strbuf_addch(&sb, *p++);
            continue;
        }
        const char *end = strchr(p, '}');
        if (!end) {
            snprintf(err, errlen, "unterminated reference '%.40s': close it with '}'", p);
            goto fail;
        }
        char *ref = xstrndup(p + 2, (size_t)(end - p - 2));
        char *colon = strchr(ref, ':');
        if (!colon) {
            snprintf(err, errlen,
                     "reference '${%s}' needs a kind: write ${env:NAME} or ${file:/path}", ref);
            free(ref);
            goto fail;
        }
        *colon = '\0';
        const char *kind = ref, *name = colon + 1;
        if (strcmp(kind, "env") == 0) {
            const char *v = *name ? getenv(name) : NULL;
            if (!v) {
                snprintf(err, errlen, "environment variable '%s' is not set", name);
                free(ref);
                goto fail;
            }
            redact_add(v, strlen(v));
            strbuf_addstr(&sb, v);
        } else if (strcmp(kind, "file") == 0) {
            char *path =
                (name[0] == '/' || !base_dir) ? xstrdup(name) : xasprintf("%s/%s", base_dir, name);
            char *v = NULL;
            int rc = read_secret_file(path, &v, err, errlen);
            free(path);
            if (rc < 0) {
                free(ref);
                goto fail;
            }
            redact_add(v, strlen(v));
            strbuf_addstr(&sb, v);
            free(v);
        } else {
            snprintf(err, errlen, "unknown reference kind '%s': use ${env:NAME} or ${file:/path}",
                     kind);
            free(ref);
            goto fail;
        }
        free(ref);
        any = true;
        p = end + 1;
    }
    *out = strbuf_detach(&sb, NULL);
    *had_ref = any;
    return 0;
fail:
    strbuf_release(&sb);
    return -1;
}

size_t secret_register_dir(const char *dir)
{
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d)
        return 0;
    size_t before = redact_count();
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".ini") != 0)
            continue;
        char *path = xasprintf("%s/%s", dir, de->d_name);
        struct ini_doc doc;
        struct diag diag;
        diag_init(&diag);
        ini_doc_load(&doc, path, &diag);
        for (size_t i = 0; i < doc.n_entries; i++) {
            const char *value = doc.entries[i].value;
            char *text = NULL, err[256];
            bool had_ref = false;
            /* resolving registers the values; one that cannot be resolved
             * in this process is skipped */
            if (value && secret_has_ref(value) &&
                secret_expand(value, dir, &text, &had_ref, err, sizeof(err)) == 0)
                free(text);
        }
        ini_doc_release(&doc);
        diag_release(&diag);
        free(path);
    }
    closedir(d);
    return redact_count() - before;
}
