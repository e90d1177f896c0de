/*
 * @detectSQLi: SQL injection detection by tokenizing a value as SQL and matching the shape of
 * its first tokens against a table of known injection shapes, the algorithm of libinjection
 * 3.9.2 as compiled into ModSecurity 2.9.7 (the behaviour we must reproduce, quirks included:
 * the reference is the oracle in tests/oracle/, not a newer libinjection).
 *
 * A value is tokenized up to five times: as is (ANSI comments, then MySQL comments when the
 * first pass saw "#" or "--x"), as if preceded by a single quote (same two passes) and as if
 * preceded by a double quote (MySQL). Each pass folds the token stream (merging keywords into
 * phrases, dropping unary operators, collapsing arithmetic and lists), keeps the first five
 * tokens' types as the fingerprint, and looks it up in the fingerprint table; a few short
 * fingerprints are then rejected again to cut false positives (not_benign).
 *
 * The tokenizer lives here, the folding and the decision in sqli_fold.c; the tables are data
 * derived from the reference by tools/gen_sqli_data.c (sqli_data.inc, docs/detectors.md).
 * Pure functions of the value: no allocation, no state outside the stack.
 */
#include "rules/operators/sqli_hash.h"
#include "rules/operators/sqli_internal.h"

/* ---- character classes ----------------------------------------------------------------- */

/* What the tokenizer does with a token's first byte. */
enum {
    C_WORD = 0, C_WHITE, C_OP1, C_OP2, C_CHAR, C_OTHER, C_STRING, C_HASH, C_MONEY, C_DASH,
    C_NUMBER, C_SLASH, C_VAR, C_BSTRING, C_ESTRING, C_NQSTRING, C_QSTRING, C_USTRING,
    C_XSTRING, C_BWORD, C_BACKSLASH, C_TICK
};

/* clang-format off */
static const unsigned char first_class[256] = {
    [0 ... 32] = C_WHITE,   ['!'] = C_OP2,     ['"'] = C_STRING,  ['#'] = C_HASH,
    ['$'] = C_MONEY,        ['%'] = C_OP1,     ['&'] = C_OP2,     ['\''] = C_STRING,
    ['('] = C_CHAR,         [')'] = C_CHAR,    ['*'] = C_OP2,     ['+'] = C_OP1,
    [','] = C_CHAR,         ['-'] = C_DASH,    ['.'] = C_NUMBER,  ['/'] = C_SLASH,
    ['0' ... '9'] = C_NUMBER, [':'] = C_OP2,   [';'] = C_CHAR,    ['<' ... '>'] = C_OP2,
    ['?'] = C_OTHER,        ['@'] = C_VAR,
    ['B'] = C_BSTRING,      ['b'] = C_BSTRING, ['E'] = C_ESTRING, ['e'] = C_ESTRING,
    ['N'] = C_NQSTRING,     ['n'] = C_NQSTRING, ['Q'] = C_QSTRING, ['q'] = C_QSTRING,
    ['U'] = C_USTRING,      ['u'] = C_USTRING, ['X'] = C_XSTRING, ['x'] = C_XSTRING,
    ['['] = C_BWORD,        ['\\'] = C_BACKSLASH, [']'] = C_OTHER, ['^'] = C_OP1,
    ['`'] = C_TICK,         ['{'] = C_CHAR,    ['|'] = C_OP2,     ['}'] = C_CHAR,
    ['~'] = C_OP1,          [127] = C_WHITE,   [160] = C_WHITE,
};

/* Byte properties: SQL white space (NUL and Latin-1 NBSP included), the bytes that end a bare
 * word, the bytes that end an @variable name. */
enum { B_WHITE = 1, B_WORD_END = 2, B_VAR_END = 4 };
#define WWV (B_WHITE | B_WORD_END | B_VAR_END)
#define WV (B_WORD_END | B_VAR_END)
static const unsigned char byte_props[256] = {
    [0] = WWV, ['\t'] = WWV, ['\n'] = WWV, ['\v'] = WWV, ['\f'] = WWV, ['\r'] = WWV, [' '] = WWV,
    [160] = B_WHITE | B_WORD_END,
    ['['] = B_WORD_END, [']'] = B_WORD_END, ['{'] = B_WORD_END, ['}'] = B_WORD_END,
    ['<'] = WV, ['>'] = WV, [':'] = WV, ['\\'] = WV, ['?'] = WV, ['='] = WV, ['@'] = WV,
    ['!'] = WV, ['#'] = WV, ['~'] = WV, ['+'] = WV, ['-'] = WV, ['*'] = WV, ['/'] = WV,
    ['&'] = WV, ['|'] = WV, ['^'] = WV, ['%'] = WV, ['('] = WV, [')'] = WV, [','] = WV,
    ['\''] = WV, [';'] = WV, ['"'] = WV, ['`'] = B_VAR_END,
};
/* clang-format on */

static inline bool is_white(char c)
{
    return byte_props[(unsigned char)c] & B_WHITE;
}

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of the run of bytes from s that are in set, NUL counting as a member (the reference
 * tests membership with strchr, which finds the terminator). */
static apr_size_t span_in(const char *s, apr_size_t n, const char *set)
{
    apr_size_t i = 0;
    while (i < n && (s[i] == '\0' || strchr(set, s[i])))
        i++;
    return i;
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Offset of the first "c0 c1" pair starting in s[from, to - 1), or -1. */
static apr_ssize_t find_pair(const char *s, apr_size_t from, apr_size_t to, char c0, char c1)
{
    for (apr_size_t i = from; i + 1 < to; i++)
        if (s[i] == c0 && s[i + 1] == c1)
            return (apr_ssize_t)i;
    return -1;
}

/* ---- table look-ups ---------------------------------------------------------------------- */

typedef struct sqli_word_t {
    const char *word;
    unsigned char len;
    char type;
} sqli_word_t;

#include "rules/operators/sqli_data.inc"

char pp_sqli_word_type(const char *s, apr_size_t len)
{
    char key[SQLI_TOKEN_SIZE];
    if (len == 0 || len >= SQLI_TOKEN_SIZE)
        return 0;
    uint32_t h = SQLI_HASH_INIT;
    for (apr_size_t i = 0; i < len; i++) {
        char c = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i];
        key[i] = c;
        h = sqli_hash_step(h, (unsigned char)c);
    }
    for (apr_size_t at = h & (SQLI_WORD_HASH_SIZE - 1);; at = (at + 1) & (SQLI_WORD_HASH_SIZE - 1)) {
        unsigned slot = sqli_word_slots[at];
        if (slot == 0)
            return 0;
        const sqli_word_t *w = &sqli_words[slot - 1];
        if (w->len == len && memcmp(w->word, key, len) == 0)
            return w->type;
    }
}

bool pp_sqli_fingerprint_known(const char *fp)
{
    uint32_t v = 0;
    apr_size_t i = 0;
    for (; i < 5 && fp[i]; i++) {
        unsigned char c = (unsigned char)fp[i];
        unsigned code = sqli_fp_code[c >= 'a' && c <= 'z' ? c - 32 : c];
        if (!code)
            return false;
        v = (v << 5) | code;
    }
    if (i == 0)
        return false;
    v <<= 5 * (5 - i);
    apr_size_t lo = 0, hi = sizeof sqli_fingerprints / sizeof sqli_fingerprints[0];
    while (lo < hi) {
        apr_size_t mid = (lo + hi) / 2;
        if (sqli_fingerprints[mid] == v)
            return true;
        if (sqli_fingerprints[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* ---- tokens ------------------------------------------------------------------------------ */

/* The stored text is cut at SQLI_TOKEN_SIZE - 1 bytes, as the reference does. */
static void tok_set(sqli_token_t *t, char type, const char *v, apr_size_t len)
{
    apr_size_t keep = len < SQLI_TOKEN_SIZE ? len : SQLI_TOKEN_SIZE - 1;
    t->type = type;
    t->len = keep;
    memcpy(t->val, v, keep);
    t->val[keep] = '\0';
}

static void tok_char(sqli_token_t *t, char type, char c)
{
    t->type = type;
    t->len = 1;
    t->val[0] = c;
    t->val[1] = '\0';
}

/* ---- one token per function; each returns the position after what it consumed ------------ */

static apr_size_t lex_word(sqli_lexer_t *lx);

static apr_size_t lex_op1(sqli_lexer_t *lx)
{
    tok_char(lx->cur, SQLI_OPERATOR, lx->s[lx->pos]);
    return lx->pos + 1;
}

static apr_size_t lex_to_eol(sqli_lexer_t *lx)
{
    const char *s = lx->s;
    apr_size_t pos = lx->pos;
    const char *nl = memchr(s + pos, '\n', lx->n - pos);
    if (!nl) {
        tok_set(lx->cur, SQLI_COMMENT, s + pos, lx->n - pos);
        return lx->n;
    }
    tok_set(lx->cur, SQLI_COMMENT, s + pos, (apr_size_t)(nl - s) - pos);
    return (apr_size_t)(nl - s) + 1;
}

/* '#': an operator in ANSI SQL, a comment to end of line in MySQL. Either way it is counted,
 * and the count makes the caller try the MySQL reading too. */
static apr_size_t lex_hash(sqli_lexer_t *lx)
{
    lx->n_hash++;
    if (lx->flags & SQLI_MYSQL) {
        lx->n_hash++;
        return lex_to_eol(lx);
    }
    tok_char(lx->cur, SQLI_OPERATOR, '#');
    return lx->pos + 1;
}

/* "--" then white space or the end is a comment everywhere; "--x" only in ANSI SQL (MySQL
 * reads two minus signs), and is counted so the MySQL reading is tried too. */
static apr_size_t lex_dash(sqli_lexer_t *lx)
{
    const char *s = lx->s;
    apr_size_t pos = lx->pos, n = lx->n;
    bool dd = pos + 1 < n && s[pos + 1] == '-';
    if (dd && (pos + 2 == n || is_white(s[pos + 2])))
        return lex_to_eol(lx);
    if (dd && (lx->flags & SQLI_ANSI)) {
        lx->n_ddx++;
        return lex_to_eol(lx);
    }
    tok_char(lx->cur, SQLI_OPERATOR, '-');
    return pos + 1;
}

/* C comments. A "/ *" inside one (PostgreSQL nests them) or a MySQL "/ * !" comment makes
 * the token evil: the value cannot be read the same way by every database. */
static apr_size_t lex_slash(sqli_lexer_t *lx)
{
    const char *s = lx->s;
    apr_size_t pos = lx->pos, n = lx->n;
    if (pos + 1 == n || s[pos + 1] != '*')
        return lex_op1(lx);
    apr_ssize_t end = find_pair(s, pos + 2, n, '*', '/');
    apr_size_t clen = end < 0 ? n - pos : (apr_size_t)end + 2 - pos;
    char type = SQLI_COMMENT;
    /* An unterminated comment is never searched for a nested opener (the reference's
     * search length wraps around to nothing). */
    if (end >= 0 && find_pair(s, pos + 2, (apr_size_t)end + 1, '/', '*') >= 0)
        type = SQLI_EVIL;
    else if (pos + 2 < n && s[pos + 2] == '!')
        type = SQLI_EVIL;
    tok_set(lx->cur, type, s + pos, clen);
    return pos + clen;
}

/* MySQL's \N is NULL; any other backslash is a token of its own. */
static apr_size_t lex_backslash(sqli_lexer_t *lx)
{
    const char *s = lx->s;
    apr_size_t pos = lx->pos;
    if (pos + 1 < lx->n && s[pos + 1] == 'N') {
        tok_set(lx->cur, SQLI_NUMBER, s + pos, 2);
        return pos + 2;
    }
    tok_char(lx->cur, SQLI_BACKSLASH, s[pos]);
    return pos + 1;
}

static apr_size_t lex_op2(sqli_lexer_t *lx)
{
    const char *s = lx->s;
    apr_size_t pos = lx->pos, n = lx->n;
    if (pos + 1 >= n)
        return lex_op1(lx);
    if (pos + 2 < n && s[pos] == '<' && s[pos + 1] == '=' && s[pos + 2] == '>') {
        tok_set(lx->cur, SQLI_OPERATOR, s + pos, 3);
        return pos + 3;
    }
    char type = pp_sqli_word_type(s + pos, 2);
    if (type) {
        tok_set(lx->cur, type, s + pos, 2);
        return pos + 2;
    }
    if (s[pos] == ':') {
        tok_set(lx->cur, SQLI_COLON, s + pos, 1);
        return pos + 1;
    }
    return lex_op1(lx);
}

/* An odd number of backslashes right before s[q] (not looking before s[start]) escapes it. */
static bool backslash_escaped(const char *s, apr_size_t start, apr_size_t q)
{
    apr_size_t k = q;
    while (k > start && s[k - 1] == '\\')
        k--;
    return ((q - k) & 1) != 0;
}

/* A string delimited by delim whose body starts at pos + skip (skip 0: the opening quote is
 * implied by the context). Both backslash escapes and doubled delimiters are skipped. */
static apr_size_t lex_string_body(const char *s, apr_size_t n, apr_size_t pos, sqli_token_t *t,
                                  char delim, apr_size_t skip)
{
    apr_size_t body = pos + skip;
    const char *q = memchr(s + body, delim, n - body);
    t->str_open = skip > 0 ? delim : '\0';
    for (;;) {
        if (!q) {
            tok_set(t, SQLI_STRING, s + body, n - body);
            t->str_close = '\0';
            return n;
        }
        apr_size_t qi = (apr_size_t)(q - s);
        if (qi > 0 && backslash_escaped(s, body, qi)) {
            q = memchr(q + 1, delim, n - qi - 1);
        } else if (qi + 1 < n && s[qi + 1] == delim) {
            q = memchr(q + 2, delim, n - qi - 2);
        } else {
            tok_set(t, SQLI_STRING, s + body, qi - body);
            t->str_close = delim;
            return qi + 1;
        }
    }
}

static apr_size_t lex_string(sqli_lexer_t *lx)
{
    return lex_string_body(lx->s, lx->n, lx->pos, lx->cur, lx->s[lx->pos], 1);
}

/* E'...' (PostgreSQL escape string) and N'...' (national character set). */
static apr_size_t lex_estring(sqli_lexer_t *lx)
{
    if (lx->pos + 2 >= lx->n || lx->s[lx->pos + 1] != '\'')
        return lex_word(lx);
    return lex_string_body(lx->s, lx->n, lx->pos, lx->cur, '\'', 2);
}

/* U&'...' (Unicode escape string). */
static apr_size_t lex_ustring(sqli_lexer_t *lx)
{
    const char *s = lx->s;
    apr_size_t pos = lx->pos;
    if (!(pos + 2 < lx->n && s[pos + 1] == '&' && s[pos + 2] == '\''))
        return lex_word(lx);
    lx->pos += 2;
    apr_size_t next = lex_string(lx);
    lx->cur->str_open = 'u';
    if (lx->cur->str_close == '\'')
        lx->cur->str_close = 'u';
    return next;
}

/* Oracle's q'Xtext X'' strings: the delimiter follows the quote, brackets close with their pair. */
static apr_size_t lex_qstring_at(sqli_lexer_t *lx, apr_size_t skip)
{
    const char *s = lx->s;
    apr_size_t n = lx->n, pos = lx->pos + skip;
    if (pos >= n || (s[pos] != 'q' && s[pos] != 'Q') || pos + 2 >= n || s[pos + 1] != '\'')
        return lex_word(lx);
    signed char d = (signed char)s[pos + 2];
    if (d < 33) /* control, space and every byte above 127 (signed) */
        return lex_word(lx);
    char close = d == '(' ? ')' : d == '[' ? ']' : d == '{' ? '}' : d == '<' ? '>' : (char)d;
    apr_ssize_t end = find_pair(s, pos + 3, n, close, '\'');
    sqli_token_t *t = lx->cur;
    if (end < 0) {
        tok_set(t, SQLI_STRING, s + pos + 3, n - pos - 3);
        t->str_open = 'q';
        t->str_close = '\0';
        return n;
    }
    tok_set(t, SQLI_STRING, s + pos + 3, (apr_size_t)end - pos - 3);
    t->str_open = 'q';
    t->str_close = 'q';
    return (apr_size_t)end + 2;
}

static apr_size_t lex_qstring(sqli_lexer_t *lx)
{
    return lex_qstring_at(lx, 0);
}

static apr_size_t lex_nqstring(sqli_lexer_t *lx)
{
    if (lx->pos + 2 < lx->n && lx->s[lx->pos + 1] == '\'')
        return lex_estring(lx);
    return lex_qstring_at(lx, 1);
}

/* B'0101' and X'4F' literals are numbers; anything else starting with b or x is a word. */
static apr_size_t lex_bitstring(sqli_lexer_t *lx, bool hex)
{
    const char *s = lx->s;
    apr_size_t pos = lx->pos, n = lx->n;
    if (pos + 2 >= n || s[pos + 1] != '\'')
        return lex_word(lx);
    apr_size_t w = span_in(s + pos + 2, n - pos - 2, hex ? "0123456789ABCDEFabcdef" : "01");
    if (pos + 2 + w >= n || s[pos + 2 + w] != '\'')
        return lex_word(lx);
    tok_set(lx->cur, SQLI_NUMBER, s + pos, w + 3);
    return pos + w + 3;
}

/* [name]: SQL Server's quoted identifier. */
static apr_size_t lex_bword(sqli_lexer_t *lx)
{
    const char *s = lx->s;
    apr_size_t pos = lx->pos;
    const char *end = memchr(s + pos, ']', lx->n - pos);
    if (!end) {
        tok_set(lx->cur, SQLI_BAREWORD, s + pos, lx->n - pos);
        return lx->n;
    }
    tok_set(lx->cur, SQLI_BAREWORD, s + pos, (apr_size_t)(end - s) - pos + 1);
    return (apr_size_t)(end - s) + 1;
}

/* A word: a keyword, function, type... from the word table, else a bare word. A '.' or '`'
 * inside ends the word early when what precedes it is a known word ("SELECT.1"). */
static apr_size_t lex_word(sqli_lexer_t *lx)
{
    const char *s = lx->s;
    apr_size_t pos = lx->pos, n = lx->n, w = 0;
    while (pos + w < n && !(byte_props[(unsigned char)s[pos + w]] & B_WORD_END))
        w++;
    sqli_token_t *t = lx->cur;
    tok_set(t, SQLI_BAREWORD, s + pos, w);
    for (apr_size_t i = 0; i < t->len; i++) {
        if (t->val[i] != '.' && t->val[i] != '`')
            continue;
        char type = pp_sqli_word_type(t->val, i);
        if (type && type != SQLI_BAREWORD) {
            memset(t, 0, sizeof *t);
            tok_set(t, type, s + pos, i);
            return pos + i;
        }
    }
    if (w < SQLI_TOKEN_SIZE) {
        char type = pp_sqli_word_type(t->val, w);
        t->type = type ? type : SQLI_BAREWORD;
    }
    return pos + w;
}

/* `name`: MySQL's quoted identifier, a function when the table says so, else a bare word. */
static apr_size_t lex_tick(sqli_lexer_t *lx)
{
    apr_size_t next = lex_string_body(lx->s, lx->n, lx->pos, lx->cur, '`', 1);
    char type = pp_sqli_word_type(lx->cur->val, lx->cur->len);
    lx->cur->type = type == SQLI_FUNCTION ? SQLI_FUNCTION : SQLI_BAREWORD;
    return next;
}

/* @var, @@var, @`var`, @'var', @"var". */
static apr_size_t lex_var(sqli_lexer_t *lx)
{
    const char *s = lx->s;
    apr_size_t n = lx->n, pos = lx->pos + 1;
    if (pos < n && s[pos] == '@')
        pos++;
    if (pos < n && (s[pos] == '`' || s[pos] == '\'' || s[pos] == '"')) {
        lx->pos = pos;
        apr_size_t next = s[pos] == '`' ? lex_tick(lx) : lex_string(lx);
        lx->cur->type = SQLI_VARIABLE;
        return next;
    }
    apr_size_t w = 0;
    while (pos + w < n && !(byte_props[(unsigned char)s[pos + w]] & B_VAR_END))
        w++;
    tok_set(lx->cur, SQLI_VARIABLE, s + pos, w);
    return pos + w;
}

/* First occurrence of needle in hay[0, hlen), or NULL. */
static const char *find_bytes(const char *hay, apr_ssize_t hlen, const char *needle,
                              apr_size_t nlen)
{
    for (apr_ssize_t i = 0; i + (apr_ssize_t)nlen <= hlen; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
            return hay + i;
    return NULL;
}

/* $tag$ ... $tag$ (PostgreSQL dollar quoting). The reference searches for the closing tag in
 * a window that starts at the tag's length rather than after the opening tag; an occurrence
 * found before the body counts as "unterminated". Kept as is: it decides the fingerprint. */
static apr_size_t lex_dollar_tag(sqli_lexer_t *lx, apr_size_t xlen)
{
    const char *s = lx->s;
    apr_size_t pos = lx->pos, n = lx->n, body = pos + xlen + 2;
    sqli_token_t *t = lx->cur;
    const char *end = find_bytes(s + xlen + 2, (apr_ssize_t)n - (apr_ssize_t)body, s + pos,
                                 xlen + 2);
    t->type = SQLI_STRING;
    if (!end || (apr_size_t)(end - s) < body) {
        tok_set(t, SQLI_STRING, s + body, n - body);
        t->str_open = '$';
        t->str_close = '\0';
        return n;
    }
    tok_set(t, SQLI_STRING, s + body, (apr_size_t)(end - s) - body);
    t->str_open = '$';
    t->str_close = '$';
    return (apr_size_t)(end - s) + xlen + 2;
}

/* $1,000.00 is a number; $$...$$ and $tag$...$tag$ are strings; a lone $ is a word. */
static apr_size_t lex_money(sqli_lexer_t *lx)
{
    const char *s = lx->s;
    apr_size_t pos = lx->pos, n = lx->n;
    if (pos + 1 == n) {
        tok_char(lx->cur, SQLI_BAREWORD, '$');
        return n;
    }
    apr_size_t x = span_in(s + pos + 1, n - pos - 1, "0123456789.,");
    if (x == 1 && s[pos + 1] == '.')
        return lex_word(lx);
    if (x > 0) {
        tok_set(lx->cur, SQLI_NUMBER, s + pos, x + 1);
        return pos + 1 + x;
    }
    if (s[pos + 1] == '$') {
        apr_ssize_t end = find_pair(s, pos + 2, n, '$', '$');
        sqli_token_t *t = lx->cur;
        apr_size_t len = end < 0 ? n - pos - 2 : (apr_size_t)end - pos - 2;
        tok_set(t, SQLI_STRING, s + pos + 2, len);
        t->str_open = '$';
        t->str_close = end < 0 ? '\0' : '$';
        return end < 0 ? n : (apr_size_t)end + 2;
    }
    x = 0;
    while (pos + 1 + x < n && (s[pos + 1 + x] == '\0' || is_alpha(s[pos + 1 + x])))
        x++;
    if (x == 0 || pos + x + 1 == n || s[pos + x + 1] != '$') {
        tok_char(lx->cur, SQLI_BAREWORD, '$');
        return pos + 1;
    }
    return lex_dollar_tag(lx, x);
}

static apr_size_t lex_number(sqli_lexer_t *lx)
{
    const char *s = lx->s;
    apr_size_t pos = lx->pos, n = lx->n, start = pos;
    if (s[pos] == '0' && pos + 1 < n) {
        char p = s[pos + 1];
        const char *digits = (p == 'x' || p == 'X') ? "0123456789ABCDEFabcdef"
                             : (p == 'b' || p == 'B') ? "01" : NULL;
        if (digits) {
            apr_size_t x = span_in(s + pos + 2, n - pos - 2, digits);
            tok_set(lx->cur, x == 0 ? SQLI_BAREWORD : SQLI_NUMBER, s + pos, x + 2);
            return pos + 2 + x;
        }
    }
    while (pos < n && is_digit(s[pos]))
        pos++;
    if (pos < n && s[pos] == '.') {
        pos++;
        while (pos < n && is_digit(s[pos]))
            pos++;
        if (pos - start == 1) {
            tok_char(lx->cur, SQLI_DOT, '.');
            return pos;
        }
    }
    bool have_e = false, have_exp = false;
    if (pos < n && (s[pos] == 'e' || s[pos] == 'E')) {
        have_e = true;
        pos++;
        if (pos < n && (s[pos] == '+' || s[pos] == '-'))
            pos++;
        while (pos < n && is_digit(s[pos])) {
            have_exp = true;
            pos++;
        }
    }
    /* Oracle's float/double suffixes, taken only before an end ("1.2f", "1fUNION"). */
    if (pos < n && (s[pos] == 'd' || s[pos] == 'D' || s[pos] == 'f' || s[pos] == 'F')) {
        if (pos + 1 == n || is_white(s[pos + 1]) || s[pos + 1] == ';' || s[pos + 1] == 'u' ||
            s[pos + 1] == 'U')
            pos++;
    }
    /* "1e" and "1.5E" (an exponent mark without digits) are words. */
    tok_set(lx->cur, have_e && !have_exp ? SQLI_BAREWORD : SQLI_NUMBER, s + start, pos - start);
    return pos;
}

static apr_size_t lex_dispatch(sqli_lexer_t *lx)
{
    apr_size_t pos = lx->pos;
    char c = lx->s[pos];
    switch (first_class[(unsigned char)c]) {
    case C_WHITE: return pos + 1;
    case C_OP1: return lex_op1(lx);
    case C_OP2: return lex_op2(lx);
    case C_CHAR: tok_char(lx->cur, c, c); return pos + 1;
    case C_OTHER: tok_char(lx->cur, SQLI_UNKNOWN, c); return pos + 1;
    case C_STRING: return lex_string(lx);
    case C_HASH: return lex_hash(lx);
    case C_MONEY: return lex_money(lx);
    case C_DASH: return lex_dash(lx);
    case C_NUMBER: return lex_number(lx);
    case C_SLASH: return lex_slash(lx);
    case C_VAR: return lex_var(lx);
    case C_BSTRING: return lex_bitstring(lx, false);
    case C_XSTRING: return lex_bitstring(lx, true);
    case C_ESTRING: return lex_estring(lx);
    case C_NQSTRING: return lex_nqstring(lx);
    case C_QSTRING: return lex_qstring(lx);
    case C_USTRING: return lex_ustring(lx);
    case C_BWORD: return lex_bword(lx);
    case C_BACKSLASH: return lex_backslash(lx);
    case C_TICK: return lex_tick(lx);
    default: return lex_word(lx);
    }
}

bool pp_sqli_next_token(sqli_lexer_t *lx)
{
    sqli_token_t *t = lx->cur;
    if (lx->n == 0)
        return false;
    t->type = t->str_open = t->str_close = '\0';
    t->len = 0;
    t->val[0] = '\0';
    /* In a quoted context the value starts inside a string. */
    if (lx->pos == 0 && (lx->flags & (SQLI_QUOTE_SINGLE | SQLI_QUOTE_DOUBLE))) {
        char delim = (lx->flags & SQLI_QUOTE_SINGLE) ? '\'' : '"';
        lx->pos = lex_string_body(lx->s, lx->n, 0, t, delim, 0);
        lx->n_tokens++;
        return true;
    }
    while (lx->pos < lx->n) {
        lx->pos = lex_dispatch(lx);
        if (t->type) {
            lx->n_tokens++;
            return true;
        }
    }
    return false;
}
