/*
 * ModSecurity 2.9's alert text for 2.x rules (reference secrule-2.9 §14.1), so that tools
 * written for ModSecurity's error log (fail2ban's apache-modsecurity filter, go-ftw, log
 * shippers) read ours:
 *
 *   <action> <operator message> [file "f"] [line "n"] [id "i"] [rev "r"] [msg "m"] [data "d"]
 *   [severity "S"] [ver "v"] [maturity "n"] [accuracy "n"] [tag "t"]...
 *
 * Escaping as ModSecurity's: msg, tag, id, rev, ver and the operator message take the "log
 * escape" ('"' and '\' get a backslash, \b \n \r \t \v their C names, other bytes outside
 * 0x20-0x7e \xHH), logdata the hex escape ('"' and '\' too as \x22 \x5c). The [data] item is
 * cut to 509 escaped bytes plus `..."]` when its escaped text is longer than 511 bytes (an
 * escape may be cut in half, as in ModSecurity), and the whole text to 1023 bytes (the size of
 * ModSecurity's message buffer: the closing ']' of a long tag list is lost the same way). The
 * host appends [hostname] [uri] [unique_id] and its own escaping (Apache doubles backslashes).
 *
 * pp_log_alert2 sends the text where ModSecurity sends it: the debug log at the alert's level
 * (1 interception, 2 warning), the host's error log with the "ModSecurity: " prefix, and the
 * audit log's H part (the match record's text).
 */
#include "log/log.h"
#include "rules/actions/actions.h"

#include <stdint.h>
#include <stdlib.h>

#include <apr_lib.h>
#include <apr_strings.h>

/* ModSecurity's data item: more than this many escaped bytes are cut to DATA_KEEP_BYTES. */
#define DATA_MAX_BYTES 511
#define DATA_KEEP_BYTES 509
/* The operator message quotes at most this much of a regex pattern, then " ...". */
#define PATTERN_MAX_BYTES 252

/* One byte escaped at o (it is '"', '\\' or outside 0x20-0x7e); returns the end. */
static char *escape_byte(char *o, unsigned char c, bool hex_quotes)
{
    const char *named = NULL;
    if (!hex_quotes) {
        switch (c) {
        case '"': named = "\\\""; break;
        case '\\': named = "\\\\"; break;
        case '\b': named = "\\b"; break;
        case '\n': named = "\\n"; break;
        case '\r': named = "\\r"; break;
        case '\t': named = "\\t"; break;
        case '\v': named = "\\v"; break;
        default: break;
        }
    }
    if (named) {
        *o++ = named[0];
        *o++ = named[1];
        return o;
    }
    *o++ = '\\';
    *o++ = 'x';
    *o++ = "0123456789abcdef"[c >> 4];
    *o++ = "0123456789abcdef"[c & 15];
    return o;
}

/* A byte that both escapes keep as it is. */
static inline bool plain_byte(unsigned char c)
{
    return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* True when all 8 bytes of w are plain: none below 0x20, none above 0x7e, none '"' or '\\'
 * (the "any byte less than / more than / equal to" word tests, each exact for "any"). */
static inline bool plain_word(uint64_t w)
{
    uint64_t below = (w - ONES * 0x20) & ~w;
    uint64_t above = (w + ONES * (0x7f - 0x7e)) | w;
    uint64_t q = w ^ (ONES * '"'), bs = w ^ (ONES * '\\');
    uint64_t quote = (q - ONES) & ~q, bslash = (bs - ONES) & ~bs;
    return ((below | above | quote | bslash) & HIGHS) == 0;
}

/* Writes s escaped at out (room for s.len * 4 bytes); returns the end. Eight plain bytes at a
 * time are copied as they are (a CRS alert is ~700 bytes, nearly all plain); the last one to
 * seven bytes of a value of eight or more through the word that ends the value when it is
 * plain (its first bytes, plain too, were written one for one: they are written again). */
static char *escape_to(char *out, pp_str_t s, bool hex_quotes)
{
    char *o = out;
    const unsigned char *d = (const unsigned char *)s.data, *end = d + s.len;
    uint64_t w;
    while (end - d >= 8) {
        memcpy(&w, d, 8);
        if (plain_word(w)) {
            memcpy(o, &w, 8);
            o += 8;
            d += 8;
            continue;
        }
        for (const unsigned char *stop = d + 8; d < stop; d++)
            o = plain_byte(*d) ? (*o = (char)*d, o + 1) : escape_byte(o, *d, hex_quotes);
    }
    apr_size_t left = (apr_size_t)(end - d);
    if (left && s.len >= 8 && (memcpy(&w, end - 8, 8), plain_word(w))) {
        memcpy(o - (8 - left), &w, 8);
        return o + left;
    }
    for (; d < end; d++)
        o = plain_byte(*d) ? (*o = (char)*d, o + 1) : escape_byte(o, *d, hex_quotes);
    return o;
}

static const char *escape(apr_pool_t *p, pp_str_t s, bool hex_quotes)
{
    char *out = apr_palloc(p, s.len * 4 + 1);
    *escape_to(out, s, hex_quotes) = '\0';
    return out;
}

const char *pp_ms2_escape(apr_pool_t *p, pp_str_t s)
{
    return escape(p, s, false);
}

const char *pp_ms2_escape_hex(apr_pool_t *p, pp_str_t s)
{
    return escape(p, s, true);
}

static const char *esc(apr_pool_t *p, const char *s)
{
    return escape(p, pp_str_from_cstr(s), false);
}

/* ---- Operator messages (reference §8) ---------------------------------------------------- */

typedef enum {
    MSG_PATTERN,   /* Pattern match "<param>" at VAR. (param cut at 252) */
    MSG_PHRASE,    /* Matched phrase "<data>" at VAR. */
    MSG_STRING,    /* String match "<param>" at VAR. */
    MSG_WITHIN,    /* String match within "<param>" at VAR. */
    MSG_NUMERIC,   /* Operator EQ matched <param> at VAR. */
    MSG_SQLI,      /* detected SQLi using libinjection with fingerprint '<data>' */
    MSG_XSS,       /* detected XSS using libinjection. */
    MSG_IP,        /* IPmatch: "<value>" matched at VAR. */
    MSG_IPFILE,    /* IPmatchFromFile: "<value>" matched at VAR. */
    MSG_UNCOND,    /* Unconditional match in SecAction. */
} msg_kind_t;

/* clang-format off */
static const struct { const char *op; msg_kind_t kind; } op_messages[] = {
    { "beginsWith", MSG_STRING },    { "contains", MSG_STRING },   { "containsWord", MSG_STRING },
    { "detectSQLi", MSG_SQLI },      { "detectXSS", MSG_XSS },     { "endsWith", MSG_STRING },
    { "eq", MSG_NUMERIC },           { "ge", MSG_NUMERIC },        { "gt", MSG_NUMERIC },
    { "ipMatch", MSG_IP },           { "ipMatchF", MSG_IPFILE },   { "ipMatchFromFile", MSG_IPFILE },
    { "le", MSG_NUMERIC },           { "lt", MSG_NUMERIC },        { "pm", MSG_PHRASE },
    { "pmFromFile", MSG_PHRASE },    { "pmf", MSG_PHRASE },        { "rx", MSG_PATTERN },
    { "streq", MSG_STRING },         { "unconditionalMatch", MSG_UNCOND },
    { "within", MSG_WITHIN },
};
/* clang-format on */

/* Appends n bytes at s (room reserved). */
static inline char *put(char *o, const char *s, apr_size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

/* "<pre><param escaped, cut to PATTERN_MAX_BYTES then " ..."><post><var>.", as
 * apr_psprintf(p, "%s%s%s%s.", pre, cut(esc(param)), post, var) made it: only the bytes of the
 * parameter that can be shown are escaped (each gives one escaped byte or more), into one
 * buffer. */
static const char *pattern_words(apr_pool_t *p, const char *pre, apr_size_t prelen,
                                 const char *param, const char *post, apr_size_t postlen,
                                 const char *var)
{
    apr_size_t plen = strnlen(param, PATTERN_MAX_BYTES + 1), vlen = strlen(var);
    char *t = apr_palloc(p, prelen + plen * 4 + 4 + postlen + vlen + 2);
    char *o = put(t, pre, prelen);
    char *start = o;
    o = escape_to(o, (pp_str_t){ param, plen }, false);
    if ((apr_size_t)(o - start) > PATTERN_MAX_BYTES)
        o = put(start + PATTERN_MAX_BYTES, " ...", 4);
    o = put(o, post, postlen);
    o = put(o, var, vlen);
    *o++ = '.';
    *o = '\0';
    return t;
}

/* "Operator <name> \"<param>\" matched at <var>.", both escaped, in one buffer. */
static const char *other_words(apr_pool_t *p, const char *name, const char *param,
                               const char *var)
{
    apr_size_t nlen = strlen(name), plen = strlen(param), vlen = strlen(var);
    char *t = apr_palloc(p, sizeof "Operator  \"\" matched at ." + nlen * 4 + plen * 4 + vlen);
    char *o = put(t, "Operator ", 9);
    o = escape_to(o, (pp_str_t){ name, nlen }, false);
    o = put(o, " \"", 2);
    o = escape_to(o, (pp_str_t){ param, plen }, false);
    o = put(o, "\" matched at ", 13);
    o = put(o, var, vlen);
    *o++ = '.';
    *o = '\0';
    return t;
}

const char *pp_ms2_op_message(apr_pool_t *p, const pp_ms2_op_t *op)
{
    const char *var = op->var ? op->var : "";
    if (op->negated) {
        /* The parameter is cut at 252 bytes as in a pattern match (reference §5.4). */
        const char *param = esc(p, op->param);
        if (strlen(param) > PATTERN_MAX_BYTES)
            param = apr_psprintf(p, "%.*s ...", PATTERN_MAX_BYTES, param);
        return apr_psprintf(p, "Match of \"%s %s\" against \"%s\" required.", esc(p, op->name),
                            param, esc(p, var));
    }
    for (apr_size_t i = 0; i < sizeof op_messages / sizeof op_messages[0]; i++) {
        /* the table's names are lower case: most rows are passed over on their first byte */
        if (op_messages[i].op[0] != apr_tolower((unsigned char)op->name[0]) ||
            strcasecmp(op_messages[i].op, op->name) != 0)
            continue;
        switch (op_messages[i].kind) {
        case MSG_PATTERN:
            return pattern_words(p, "Pattern match \"", 15, op->param, "\" at ", 5, var);
        case MSG_PHRASE:
            return apr_psprintf(p, "Matched phrase \"%s\" at %s.", pp_ms2_escape(p, op->data),
                                var);
        case MSG_STRING:
            return apr_psprintf(p, "String match \"%s\" at %s.", esc(p, op->param), var);
        case MSG_WITHIN:
            return apr_psprintf(p, "String match within \"%s\" at %s.", esc(p, op->param), var);
        case MSG_NUMERIC: {
            char *up = apr_pstrdup(p, op_messages[i].op);
            for (char *c = up; *c; c++)
                *c = (char)apr_toupper(*c);
            return apr_psprintf(p, "Operator %s matched %s at %s.", up, esc(p, op->param), var);
        }
        case MSG_SQLI:
            return apr_psprintf(p, "detected SQLi using libinjection with fingerprint '%s'",
                                pp_ms2_escape(p, op->data));
        case MSG_XSS:
            return "detected XSS using libinjection.";
        case MSG_IP:
            return apr_psprintf(p, "IPmatch: \"%s\" matched at %s.", pp_ms2_escape(p, op->value),
                                var);
        case MSG_IPFILE:
            return apr_psprintf(p, "IPmatchFromFile: \"%s\" matched at %s.",
                                pp_ms2_escape(p, op->value), var);
        case MSG_UNCOND:
            return "Unconditional match in SecAction.";
        }
    }
    /* An operator whose ModSecurity wording we do not reproduce: its name, argument and
     * variable, in the same quoting. */
    return other_words(p, op->name, op->param, var);
}

/* ---- The alert text ---------------------------------------------------------------------- */

/* Appends s escaped to b, at most max bytes of it (more would be cut from the text anyway). */
static void add_escaped(pp_sbuf_t *b, pp_str_t s, bool hex_quotes, apr_size_t max)
{
    if (s.len > max)
        s.len = max;
    pp_sbuf_reserve(b, s.len * 4);
    b->len = (apr_size_t)(escape_to(b->data + b->len, s, hex_quotes) - b->data);
    b->data[b->len] = '\0';
}

/* Appends ` [name "value"]`, value log-escaped: one reservation, written in place. */
static void add_item_n(pp_sbuf_t *b, const char *name, apr_size_t nlen, const char *value)
{
    apr_size_t vlen = strlen(value);
    if (vlen > PP_MS2_TEXT_MAX_BYTES + 1)
        vlen = PP_MS2_TEXT_MAX_BYTES + 1;
    pp_sbuf_reserve(b, nlen + 6 + vlen * 4);
    char *o = put(b->data + b->len, " [", 2);
    o = put(o, name, nlen);
    o = put(o, " \"", 2);
    o = escape_to(o, (pp_str_t){ value, vlen }, false);
    o = put(o, "\"]", 2);
    *o = '\0';
    b->len = (apr_size_t)(o - b->data);
}
#define add_item(b, name, value) add_item_n((b), name, sizeof name - 1, (value))

/* Appends ` [name "n"]`, n in decimal as "%d" writes it. */
static void add_number_n(pp_sbuf_t *b, const char *name, apr_size_t nlen, int n)
{
    char digits[12];
    char *d = digits + sizeof digits;
    unsigned long u = n < 0 ? 0UL - (unsigned long)(long)n : (unsigned long)n;
    do {
        *--d = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (n < 0)
        *--d = '-';
    apr_size_t dlen = (apr_size_t)(digits + sizeof digits - d);
    pp_sbuf_reserve(b, nlen + 6 + dlen);
    char *o = put(b->data + b->len, " [", 2);
    o = put(o, name, nlen);
    o = put(o, " \"", 2);
    o = put(o, d, dlen);
    o = put(o, "\"]", 2);
    *o = '\0';
    b->len = (apr_size_t)(o - b->data);
}
#define add_number(b, name, n) add_number_n((b), name, sizeof name - 1, (n))

/* Each item is escaped straight into the text: no copy of its own, and nothing past the
 * text's cut (a benign PL4 POST logs ~20 alerts of ~15 items: the copies, each made for four
 * times its length, were ~50 KB of every such request's pool). */
const char *pp_ms2_alert_text(apr_pool_t *p, const pp_ms2_alert_t *a)
{
    pp_sbuf_t b;
    pp_sbuf_init(&b, p, 1024);
    apr_size_t alen = strlen(a->action), wlen = strlen(a->what);
    pp_sbuf_reserve(&b, alen + 1 + wlen);
    char *o = put(b.data, a->action, alen);
    *o++ = ' ';
    o = put(o, a->what, wlen);
    *o = '\0';
    b.len = (apr_size_t)(o - b.data);
    if (a->file)
        add_item(&b, "file", a->file);
    if (a->line > 0)
        add_number(&b, "line", a->line);
    if (a->id)
        add_item(&b, "id", a->id);
    if (a->rev)
        add_item(&b, "rev", a->rev);
    if (a->msg)
        add_item(&b, "msg", a->msg);
    if (a->data) {
        /* Escaped, more than DATA_MAX_BYTES are cut to DATA_KEEP_BYTES: that needs at most
         * DATA_MAX_BYTES + 1 bytes of the value (each gives one escaped byte or more). */
        pp_sbuf_add(&b, " [data \"", 8);
        apr_size_t start = b.len;
        add_escaped(&b, *a->data, true, DATA_MAX_BYTES + 1);
        if (b.len - start > DATA_MAX_BYTES) {
            b.len = start + DATA_KEEP_BYTES;
            pp_sbuf_add(&b, "...", 3);
        }
        pp_sbuf_add(&b, "\"]", 2);
    }
    if (a->severity >= 0 && a->severity <= 7) {
        pp_sbuf_add(&b, " [severity \"", 12);
        pp_sbuf_str(&b, pp_severity_name(a->severity));
        pp_sbuf_add(&b, "\"]", 2);
    }
    if (a->ver)
        add_item(&b, "ver", a->ver);
    if (a->maturity)
        add_number(&b, "maturity", atoi(a->maturity));
    if (a->accuracy)
        add_number(&b, "accuracy", atoi(a->accuracy));
    for (unsigned i = 0; i < a->ntags && b.len <= PP_MS2_TEXT_MAX_BYTES; i++)
        add_item(&b, "tag", a->tags[i]);
    if (b.len > PP_MS2_TEXT_MAX_BYTES) {
        b.data[PP_MS2_TEXT_MAX_BYTES] = '\0';
        b.len = PP_MS2_TEXT_MAX_BYTES;
    }
    return b.data;
}

/* The host's line is made on the stack (the host copies what it keeps, parapet.h): a copy in
 * the transaction's pool per alert was ~17 KB of a benign PL4 POST's. */
void pp_log_alert2(const pp_tx_t *tx, int level, const char *text)
{
    pp_debug_line(tx, level, text);
    if (!tx->errlog)
        return;
    char line[sizeof PP_MS2_PREFIX + PP_MS2_TEXT_MAX_BYTES];
    apr_size_t n = strlen(text);
    if (n > PP_MS2_TEXT_MAX_BYTES) { /* not an alert text: as long as it is */
        tx->errlog(tx->errlog_ctx, level, apr_pstrcat(tx->pool, PP_MS2_PREFIX, text, NULL));
        return;
    }
    memcpy(line, PP_MS2_PREFIX, sizeof PP_MS2_PREFIX - 1);
    memcpy(line + sizeof PP_MS2_PREFIX - 1, text, n + 1);
    tx->errlog(tx->errlog_ctx, level, line);
}
