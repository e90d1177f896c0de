/*
 * Charset conversion of form text to UTF-8 with iconv (see charset.h). Used by body/dispatch.c
 * for multipart fields (part charset, the form's _charset_) and urlencoded bodies (the request's
 * charset). Deliberately not done: guessing a charset from the bytes, transliteration or
 * skipping bytes that do not convert (//TRANSLIT, //IGNORE: a name with '/' is refused), or
 * converting file parts (a file is stored and scanned as sent).
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "body/charset.h"

#define MAX_NAME 40      /* longer than any IANA charset name */
#define MAX_OPEN 6       /* distinct charsets converted per request */

typedef struct open_t {
    const char *charset;
    iconv_t cd;
} open_t;

struct pp_charset_conv_t {
    apr_pool_t *pool;
    open_t open[MAX_OPEN];
    int n;
};

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

const char *pp_charset_param(apr_pool_t *p, pp_str_t ct, const char **out)
{
    const char *s = ct.data, *end = ct.data + ct.len;
    *out = NULL;
    s = memchr(s, ';', ct.len);
    while (s != NULL && s < end) {
        s++; /* past ';' */
        while (s < end && is_ows(*s)) {
            s++;
        }
        const char *name = s;
        while (s < end && *s != '=' && *s != ';' && !is_ows(*s)) {
            s++;
        }
        apr_size_t nlen = (apr_size_t)(s - name);
        while (s < end && is_ows(*s)) {
            s++;
        }
        if (s >= end || *s != '=') {
            s = memchr(s, ';', (apr_size_t)(end - s));
            continue;
        }
        s++;
        while (s < end && is_ows(*s)) {
            s++;
        }
        const char *v = s;
        apr_size_t vlen;
        if (s < end && *s == '"') {
            const char *close = memchr(s + 1, '"', (apr_size_t)(end - s - 1));
            if (close == NULL) {
                return nlen == 7 && strncasecmp(name, "charset", 7) == 0
                           ? "unterminated quoted charset parameter"
                           : NULL;
            }
            v = s + 1;
            vlen = (apr_size_t)(close - v);
            s = close + 1;
        } else {
            while (s < end && *s != ';' && !is_ows(*s)) {
                s++;
            }
            vlen = (apr_size_t)(s - v);
        }
        if (nlen == 7 && strncasecmp(name, "charset", 7) == 0) {
            if (*out != NULL) {
                return "two charset parameters";
            }
            *out = apr_pstrmemdup(p, v, vlen);
        }
        s = memchr(s, ';', (apr_size_t)(end - s));
    }
    return NULL;
}

bool pp_charset_is_identity(const char *cs)
{
    static const char *const same[] = { "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968" };
    for (apr_size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        if (strcasecmp(cs, same[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* UTF-16 and UTF-32 without an explicit byte order: the BOM decides, and without one Java
 * (big-endian, RFC 2781) and .NET (little-endian; its StringContent writes no BOM) read
 * different text. Returns the big-endian name, or NULL when cs has an explicit order. */
static const char *unmarked_be(const char *cs)
{
    static const char *const unmarked[][2] = {
        { "utf-16", "UTF-16BE" }, { "utf16", "UTF-16BE" }, { "unicode", "UTF-16BE" },
        { "utf-32", "UTF-32BE" }, { "utf32", "UTF-32BE" }, { "ucs-2", "UCS-2BE" },
        { "ucs2", "UCS-2BE" },    { "ucs-4", "UCS-4BE" },  { "ucs4", "UCS-4BE" },
    };
    for (apr_size_t i = 0; i < sizeof unmarked / sizeof unmarked[0]; i++) {
        if (strcasecmp(cs, unmarked[i][0]) == 0) {
            return unmarked[i][1];
        }
    }
    return NULL;
}

static bool has_bom(pp_str_t in)
{
    const unsigned char *b = (const unsigned char *)in.data;
    return in.len >= 2 && ((b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE) ||
                           (in.len >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0xFE && b[3] == 0xFF));
}

/* IANA charset names use letters, digits and a few punctuation characters; '/' would select
 * iconv's //TRANSLIT or //IGNORE, which no application does. */
static bool name_ok(const char *cs)
{
    apr_size_t n = strlen(cs);
    if (n == 0 || n > MAX_NAME) {
        return false;
    }
    for (apr_size_t i = 0; i < n; i++) {
        char c = cs[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("-_.:+", c) != NULL)) {
            return false;
        }
    }
    return true;
}

static apr_status_t close_all(void *data)
{
    pp_charset_conv_t *c = data;
    for (int i = 0; i < c->n; i++) {
        iconv_close(c->open[i].cd);
    }
    c->n = 0;
    return APR_SUCCESS;
}

pp_charset_conv_t *pp_charset_conv_create(apr_pool_t *p)
{
    pp_charset_conv_t *c = apr_pcalloc(p, sizeof *c);
    c->pool = p;
    apr_pool_cleanup_register(p, c, close_all, apr_pool_cleanup_null);
    return c;
}

/* The descriptor for cs, opened on first use; NULL when iconv does not know cs. */
static iconv_t get_cd(pp_charset_conv_t *c, const char *cs, const char **err)
{
    for (int i = 0; i < c->n; i++) {
        if (strcasecmp(c->open[i].charset, cs) == 0) {
            iconv(c->open[i].cd, NULL, NULL, NULL, NULL); /* initial shift state */
            return c->open[i].cd;
        }
    }
    if (c->n == MAX_OPEN) {
        *err = "too many different charsets in one request";
        return (iconv_t)-1;
    }
    iconv_t cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1) {
        *err = "charset unknown to iconv";
        return cd;
    }
    c->open[c->n].charset = apr_pstrdup(c->pool, cs);
    c->open[c->n].cd = cd;
    c->n++;
    return cd;
}

static const char *convert_one(pp_charset_conv_t *c, const char *cs, pp_str_t in,
                               pp_str_t *out)
{
    const char *err = NULL;
    iconv_t cd = get_cd(c, cs, &err);
    if (cd == (iconv_t)-1) {
        return err;
    }
    apr_size_t cap = in.len * 4 + 16;
    char *buf = apr_palloc(c->pool, cap + 1);
    char *src = (char *)in.data, *dst = buf;
    size_t left = in.len, room = cap;
    if (iconv(cd, &src, &left, &dst, &room) == (size_t)-1 ||
        iconv(cd, NULL, NULL, &dst, &room) == (size_t)-1) {
        return errno == E2BIG ? "converted text too long"
                              : "text that does not convert from its charset";
    }
    *dst = '\0';
    *out = (pp_str_t){ buf, (apr_size_t)(dst - buf) };
    return NULL;
}

const char *pp_charset_to_utf8(pp_charset_conv_t *c, const char *cs, pp_str_t in, pp_str_t *out,
                               pp_str_t *alt)
{
    *alt = (pp_str_t){ NULL, 0 };
    if (!name_ok(cs)) {
        return "charset name with characters no charset has";
    }
    if (pp_charset_is_identity(cs)) {
        *out = in;
        return NULL;
    }
    const char *be = unmarked_be(cs);
    if (be == NULL || in.len == 0 || has_bom(in)) {
        return convert_one(c, cs, in, out);
    }
    /* No byte order mark: read both ways, as Java and .NET would; refused only when neither
     * reading converts. */
    char le[16];
    apr_cpystrn(le, be, sizeof le);
    le[strlen(le) - 2] = 'L';
    const char *err_be = convert_one(c, be, in, out);
    const char *err_le = convert_one(c, le, in, err_be ? out : alt);
    return err_be && err_le ? err_be : NULL;
}
