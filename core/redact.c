#include "redact.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "textsafe.h"
#include "xalloc.h"

/* base64 cores: [alphabet][offset mod 3]; a core shorter than this is not
 * kept (it would mask unrelated base64 text by chance) */
#define B64_CORE_MIN 6
/* choice points kept while matching a secret whose '%' or '\' may be
 * literal or the start of an escape */
#define MAX_CHOICES 16
/* a text that ends with at least this many bytes of a secret's start is
 * masked there: it was cut inside the secret */
#define PARTIAL_MIN 8

enum { B64_STD, B64_URL, B64_ALPHABETS };

struct secret {
    char *value;
    size_t len;
    char *core[B64_ALPHABETS][3];
    size_t core_len[B64_ALPHABETS][3];
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct secret *secrets;
static size_t n_secrets, cap_secrets;

/*
 * The index the scan uses, rebuilt when a secret is added: which secrets
 * can start at a byte (as is, or escaped: every secret can start at '%' or
 * '\\', one that starts with a space at '+'), and a hash table of the
 * base64 cores by their first four bytes. One pass over a text then looks
 * at each byte once, whatever the number of secrets.
 */
struct core_ref {
    uint32_t key; /* the first four bytes */
    const char *text;
    size_t len;
    int alphabet;
};

static struct {
    size_t *by_first[256];
    size_t n_first[256];
    size_t *spaced;
    size_t n_spaced;
    struct core_ref *cores;
    size_t n_cores;
    uint32_t *slots; /* core index + 1; 0 is empty */
    size_t n_slots;  /* a power of two */
    int slot_bits;
} ix;

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* base64 of data without padding, in `alphabet` 0 (std) or 1 (URL-safe).
 * Caller owns. */
static char *b64_encode(const unsigned char *data, size_t len, int alphabet)
{
    char *out = xmalloc((len + 2) / 3 * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        size_t n = len - i < 3 ? len - i : 3;
        if (n > 1)
            v |= (uint32_t)data[i + 1] << 8;
        if (n > 2)
            v |= data[i + 2];
        for (size_t k = 0; k <= n; k++)
            out[o++] = b64_std[(v >> (18 - 6 * k)) & 63];
    }
    out[o] = '\0';
    if (alphabet == B64_URL) {
        for (size_t i = 0; i < o; i++)
            out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    }
    return out;
}

/*
 * The part of base64(P + value + Q) that does not depend on P or Q when
 * len(P) mod 3 == shift: encode shift zero bytes and the value, drop the
 * leading characters that mix in bits of P and the last one that mixes in
 * bits of Q.
 */
static char *b64_core(const char *value, size_t len, size_t shift, int alphabet, size_t *out_len)
{
    static const size_t skip[3] = {0, 2, 3};
    unsigned char *buf = xcalloc(len + shift, 1);
    memcpy(buf + shift, value, len);
    char *enc = b64_encode(buf, len + shift, alphabet);
    free(buf);
    size_t end = (len + shift) * 8 / 6;
    size_t n = end > skip[shift] ? end - skip[shift] : 0;
    if (n < B64_CORE_MIN) {
        free(enc);
        return NULL;
    }
    memmove(enc, enc + skip[shift], n);
    enc[n] = '\0';
    *out_len = n;
    return enc;
}

static uint32_t load4(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static size_t slot_of(uint32_t key)
{
    return (size_t)((key * 0x9e3779b1u) >> (32 - ix.slot_bits));
}

static void index_release(void)
{
    for (size_t c = 0; c < 256; c++)
        free(ix.by_first[c]);
    free(ix.spaced);
    free(ix.cores);
    free(ix.slots);
    memset(&ix, 0, sizeof(ix));
}

/* Under the write lock. */
static void index_build(void)
{
    index_release();
    size_t cap_first[256] = {0}, cap_spaced = 0;
    for (size_t k = 0; k < n_secrets; k++) {
        unsigned char c = (unsigned char)secrets[k].value[0];
        XGROW(ix.by_first[c], cap_first[c], ix.n_first[c] + 1);
        ix.by_first[c][ix.n_first[c]++] = k;
        if (c == ' ') {
            XGROW(ix.spaced, cap_spaced, ix.n_spaced + 1);
            ix.spaced[ix.n_spaced++] = k;
        }
    }
    size_t cap_cores = 0;
    for (size_t k = 0; k < n_secrets; k++) {
        for (int a = 0; a < B64_ALPHABETS; a++) {
            for (size_t shift = 0; shift < 3; shift++) {
                if (!secrets[k].core[a][shift])
                    continue;
                XGROW(ix.cores, cap_cores, ix.n_cores + 1);
                struct core_ref *r = &ix.cores[ix.n_cores++];
                r->text = secrets[k].core[a][shift];
                r->len = secrets[k].core_len[a][shift];
                r->key = load4(r->text);
                r->alphabet = a;
            }
        }
    }
    if (!ix.n_cores)
        return;
    ix.slot_bits = 4;
    while (((size_t)1 << ix.slot_bits) < ix.n_cores * 2)
        ix.slot_bits++;
    ix.n_slots = (size_t)1 << ix.slot_bits;
    ix.slots = xcalloc(ix.n_slots, sizeof(*ix.slots));
    for (size_t j = 0; j < ix.n_cores; j++) {
        size_t h = slot_of(ix.cores[j].key);
        while (ix.slots[h])
            h = (h + 1) & (ix.n_slots - 1);
        ix.slots[h] = (uint32_t)(j + 1);
    }
}

void redact_add(const char *value, size_t len)
{
    if (!value || len < REDACT_MIN_LEN)
        return;
    pthread_rwlock_wrlock(&lock);
    for (size_t i = 0; i < n_secrets; i++) {
        if (secrets[i].len == len && memcmp(secrets[i].value, value, len) == 0) {
            pthread_rwlock_unlock(&lock);
            return;
        }
    }
    XGROW(secrets, cap_secrets, n_secrets + 1);
    struct secret *s = &secrets[n_secrets++];
    memset(s, 0, sizeof(*s));
    s->value = xstrndup(value, len);
    s->len = len;
    for (int a = 0; a < B64_ALPHABETS; a++)
        for (size_t k = 0; k < 3; k++)
            s->core[a][k] = b64_core(value, len, k, a, &s->core_len[a][k]);
    index_build();
    pthread_rwlock_unlock(&lock);
}

void redact_clear(void)
{
    pthread_rwlock_wrlock(&lock);
    for (size_t i = 0; i < n_secrets; i++) {
        free(secrets[i].value);
        for (int a = 0; a < B64_ALPHABETS; a++)
            for (size_t k = 0; k < 3; k++)
                free(secrets[i].core[a][k]);
    }
    free(secrets);
    secrets = NULL;
    n_secrets = cap_secrets = 0;
    index_release();
    pthread_rwlock_unlock(&lock);
}

size_t redact_count(void)
{
    pthread_rwlock_rdlock(&lock);
    size_t n = n_secrets;
    pthread_rwlock_unlock(&lock);
    return n;
}

/* --- matching ------------------------------------------------------------ */

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The length of an escaped form of byte c at p (left bytes): %XX, '+' for
 * a space, or a JSON escape. 0 when there is none. */
static size_t escaped_len(const unsigned char *p, size_t left, unsigned char c)
{
    if (p[0] == '%') {
        if (left >= 3 && hexval(p[1]) >= 0 && hexval(p[2]) >= 0 &&
            hexval(p[1]) * 16 + hexval(p[2]) == c)
            return 3;
        return 0;
    }
    if (p[0] == '+')
        return c == ' ' ? 1 : 0;
    if (p[0] != '\\' || left < 2)
        return 0;
    static const char from[] = "\"\\/nrtbf", to[] = "\"\\/\n\r\t\b\f";
    const char *e = memchr(from, p[1], sizeof(from) - 1);
    if (e)
        return (unsigned char)to[e - from] == c ? 2 : 0;
    if (p[1] == 'u' && left >= 6 && c < 0x80) {
        int v = 0;
        for (size_t i = 2; i < 6; i++) {
            int h = hexval(p[i]);
            if (h < 0)
                return 0;
            v = v * 16 + h;
        }
        return v == c ? 6 : 0;
    }
    return 0;
}

/* The byte an escape at p (%XX or a JSON escape of an ASCII character)
 * stands for, in *byte; false when there is no escape there. */
static bool escape_at(const unsigned char *p, size_t left, unsigned char *byte)
{
    if (p[0] == '%') {
        if (left < 3 || hexval(p[1]) < 0 || hexval(p[2]) < 0)
            return false;
        *byte = (unsigned char)(hexval(p[1]) * 16 + hexval(p[2]));
        return true;
    }
    if (left < 2)
        return false;
    static const char from[] = "\"\\/nrtbf", to[] = "\"\\/\n\r\t\b\f";
    const char *e = memchr(from, p[1], sizeof(from) - 1);
    if (e) {
        *byte = (unsigned char)to[e - from];
        return true;
    }
    if (p[1] != 'u' || left < 6)
        return false;
    int v = 0;
    for (size_t i = 2; i < 6; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return false;
        v = v * 16 + h;
    }
    if (v >= 0x80)
        return false;
    *byte = (unsigned char)v;
    return true;
}

/*
 * Whether the secret starts at text[start], each of its bytes written as is
 * or escaped; the end of the match, or 0. A '%' or '\' of the secret can be
 * either; the escaped reading is tried first, the literal one on failure.
 * The text may also end inside the secret, after PARTIAL_MIN of its bytes.
 */
static size_t match_at(const unsigned char *text, size_t n, size_t start, const struct secret *s)
{
    const unsigned char *v = (const unsigned char *)s->value;
    struct {
        size_t si, ti;
    } choices[MAX_CHOICES];
    size_t n_choices = 0, si = 0, ti = start;
    while (si < s->len) {
        unsigned char c = v[si];
        size_t esc = ti < n ? escaped_len(text + ti, n - ti, c) : 0;
        bool lit = ti < n && text[ti] == c;
        if (esc && lit && n_choices < MAX_CHOICES) {
            choices[n_choices].si = si;
            choices[n_choices].ti = ti;
            n_choices++;
        }
        if (esc) {
            ti += esc;
        } else if (lit) {
            ti++;
        } else {
            /* the text ends inside the secret: a message cut before it was
             * masked (a plugin's snippet of an answer) keeps no part of it */
            if (ti >= n && si >= PARTIAL_MIN)
                return ti;
            if (n_choices == 0)
                return 0;
            n_choices--;
            si = choices[n_choices].si;
            ti = choices[n_choices].ti + 1; /* the literal reading */
        }
        si++;
    }
    return ti;
}

static bool b64_char(unsigned char c, int alphabet)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return alphabet == B64_STD ? (c == '+' || c == '/') : (c == '-' || c == '_');
}

struct span {
    size_t start, end;
};

struct spans {
    struct span *items;
    size_t n, cap;
};

static void spans_add(struct spans *sp, size_t start, size_t end)
{
    XGROW(sp->items, sp->cap, sp->n + 1);
    sp->items[sp->n].start = start;
    sp->items[sp->n].end = end;
    sp->n++;
}

/* A scan's progress per secret and per core: a match is not looked for
 * again inside the previous one. */
struct scan {
    const unsigned char *text;
    size_t n;
    struct spans *sp;
    size_t *next_secret, *next_core;
};

/* Whether secret k matches at i (recorded in the spans). */
static bool try_secret(struct scan *sc, size_t k, size_t i)
{
    if (i < sc->next_secret[k])
        return false;
    size_t end = match_at(sc->text, sc->n, i, &secrets[k]);
    if (!end)
        return false;
    spans_add(sc->sp, i, end);
    sc->next_secret[k] = end;
    return true;
}

/* Whether a base64 core starts at i (its whole token recorded). */
static bool try_cores(struct scan *sc, size_t i)
{
    uint32_t key = load4(sc->text + i);
    bool hit = false;
    for (size_t h = slot_of(key); ix.slots[h]; h = (h + 1) & (ix.n_slots - 1)) {
        size_t j = ix.slots[h] - 1;
        const struct core_ref *r = &ix.cores[j];
        if (r->key != key || i < sc->next_core[j] || r->len > sc->n - i ||
            memcmp(sc->text + i, r->text, r->len) != 0)
            continue;
        /* the whole base64 token around it: its other characters carry
         * bits of the secret too */
        size_t start = i, end = i + r->len;
        while (start > 0 && b64_char(sc->text[start - 1], r->alphabet))
            start--;
        while (end < sc->n && b64_char(sc->text[end], r->alphabet))
            end++;
        while (end < sc->n && sc->text[end] == '=')
            end++;
        spans_add(sc->sp, start, end);
        sc->next_core[j] = end;
        hit = true;
    }
    return hit;
}

/* Collect the spans of text that hold a secret (under the read lock), in
 * one pass; with first_only, stop at the first. */
static void find_spans(const unsigned char *text, size_t n, struct spans *sp, bool first_only)
{
    struct scan sc = {
        .text = text,
        .n = n,
        .sp = sp,
        .next_secret = xcalloc(n_secrets ? n_secrets : 1, sizeof(size_t)),
        .next_core = xcalloc(ix.n_cores ? ix.n_cores : 1, sizeof(size_t)),
    };
    for (size_t i = 0; i < n && !(first_only && sp->n); i++) {
        unsigned char c = text[i];
        for (size_t k = 0; k < ix.n_first[c]; k++)
            try_secret(&sc, ix.by_first[c][k], i);
        unsigned char decoded;
        if ((c == '%' || c == '\\') && escape_at(text + i, n - i, &decoded)) {
            for (size_t k = 0; k < ix.n_first[decoded]; k++)
                try_secret(&sc, ix.by_first[decoded][k], i);
        } else if (c == '+') {
            for (size_t k = 0; k < ix.n_spaced; k++)
                try_secret(&sc, ix.spaced[k], i);
        }
        if (ix.n_cores && n - i >= 4)
            try_cores(&sc, i);
    }
    free(sc.next_secret);
    free(sc.next_core);
}

static int cmp_span(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end < y->end ? 1 : x->end > y->end ? -1 : 0;
}

bool redact_found(const char *text, size_t len)
{
    if (!text || !len)
        return false;
    struct spans sp = {0};
    pthread_rwlock_rdlock(&lock);
    find_spans((const unsigned char *)text, len, &sp, true);
    pthread_rwlock_unlock(&lock);
    bool found = sp.n > 0;
    free(sp.items);
    return found;
}

size_t redact_append(struct strbuf *out, const char *text, size_t len)
{
    struct spans sp = {0};
    pthread_rwlock_rdlock(&lock);
    if (n_secrets && len)
        find_spans((const unsigned char *)text, len, &sp, false);
    pthread_rwlock_unlock(&lock);
    if (sp.n > 1)
        qsort(sp.items, sp.n, sizeof(*sp.items), cmp_span);
    /* sorted by start: overlapping spans become one mask */
    size_t at = 0, masked = 0;
    for (size_t i = 0; i < sp.n;) {
        size_t start = sp.items[i].start, end = sp.items[i].end;
        for (i++; i < sp.n && sp.items[i].start < end; i++)
            if (sp.items[i].end > end)
                end = sp.items[i].end;
        strbuf_add(out, text + at, start - at);
        strbuf_addstr(out, REDACT_MASK);
        at = end;
        masked++;
    }
    strbuf_add(out, text + at, len - at);
    free(sp.items);
    return masked;
}

void redact_copy(const char *text, char *out, size_t outlen)
{
    if (!outlen)
        return;
    struct strbuf sb = STRBUF_INIT;
    redact_append(&sb, text, strlen(text));
    size_t n = sb.len < outlen - 1 ? sb.len : outlen - 1;
    memcpy(out, strbuf_str(&sb), n);
    out[n] = '\0';
    strbuf_release(&sb);
}

void redact_line(const char *text, char *out, size_t outlen)
{
    if (!outlen)
        return;
    struct strbuf masked = STRBUF_INIT, line = STRBUF_INIT;
    redact_append(&masked, text, strlen(text));
    textsafe_append(&line, strbuf_str(&masked), masked.len, TEXTSAFE_LINE);
    size_t n = line.len < outlen - 1 ? line.len : outlen - 1;
    while (n > 0 && n < line.len && ((unsigned char)line.buf[n] & 0xc0) == 0x80)
        n--;
    memcpy(out, strbuf_str(&line), n);
    out[n] = '\0';
    strbuf_release(&masked);
    strbuf_release(&line);
}

/* --- JSON ---------------------------------------------------------------- */

/* Whether text is exactly one registered secret. */
static bool is_secret(const char *text, size_t len)
{
    bool found = false;
    pthread_rwlock_rdlock(&lock);
    for (size_t i = 0; i < n_secrets && !found; i++)
        found = secrets[i].len == len && memcmp(secrets[i].value, text, len) == 0;
    pthread_rwlock_unlock(&lock);
    return found;
}

/* The masked copy of a string, or NULL when it holds no secret. */
static struct json_object *masked_string(const char *s, size_t len, size_t *count)
{
    if (!redact_found(s, len))
        return NULL;
    struct strbuf sb = STRBUF_INIT;
    *count += redact_append(&sb, s, len);
    struct json_object *v = json_object_new_string_len(sb.buf, (int)sb.len);
    strbuf_release(&sb);
    return v;
}

/* The replacement of v, or NULL when v is kept (its contents masked in
 * place). */
static struct json_object *walk(struct json_object *v, size_t *count)
{
    switch (json_object_get_type(v)) {
    case json_type_string:
        return masked_string(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                             count);
    case json_type_int:
    case json_type_double: {
        /* only a number that is a secret: digits of ids and times would
         * otherwise match a short numeric secret by chance */
        const char *text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        if (!is_secret(text, strlen(text)))
            return NULL;
        (*count)++;
        return json_object_new_string(REDACT_MASK);
    }
    case json_type_array: {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
            struct json_object *r = walk(json_object_array_get_idx(v, i), count);
            if (r)
                json_object_array_put_idx(v, i, r);
        }
        return NULL;
    }
    case json_type_object: {
        char **renamed = NULL;
        size_t n_renamed = 0, cap = 0;
        json_object_object_foreach(v, key, child)
        {
            struct json_object *r = walk(child, count);
            if (r)
                json_object_object_add(v, key, r); /* replaces in place */
            if (redact_found(key, strlen(key))) {
                XGROW(renamed, cap, n_renamed + 1);
                renamed[n_renamed++] = xstrdup(key);
            }
        }
        for (size_t i = 0; i < n_renamed; i++) {
            struct json_object *moved = NULL;
            json_object_object_get_ex(v, renamed[i], &moved);
            json_object_get(moved);
            json_object_object_del(v, renamed[i]);
            struct strbuf sb = STRBUF_INIT;
            *count += redact_append(&sb, renamed[i], strlen(renamed[i]));
            json_object_object_add(v, strbuf_str(&sb), moved);
            strbuf_release(&sb);
            free(renamed[i]);
        }
        free(renamed);
        return NULL;
    }
    default:
        return NULL;
    }
}

struct json_object *redact_json(struct json_object *v, size_t *count)
{
    size_t n = 0;
    if (v && redact_count() > 0) {
        struct json_object *r = walk(v, &n);
        if (r) {
            json_object_put(v);
            v = r;
        }
    }
    if (count)
        *count = n;
    return v;
}
