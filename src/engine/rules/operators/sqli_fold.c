/*
 * @detectSQLi, second half: folding the token stream into at most five tokens, the
 * fingerprint, the table check with its false-positive exceptions, and the contexts a value
 * is tried in. sqli.c has the tokenizer and the overview; docs/detectors.md the background.
 */
#include "rules/operators/sqli_internal.h"

static bool ieq(const char *word, const sqli_token_t *t)
{
    apr_size_t n = strlen(word);
    if (n != t->len)
        return false;
    for (apr_size_t i = 0; i < n; i++) {
        char c = t->val[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c != word[i])
            return false;
    }
    return true;
}

static bool is_unary(const sqli_token_t *t)
{
    if (t->type != SQLI_OPERATOR)
        return false;
    const char *v = t->val;
    switch (t->len) {
    case 1: return *v == '+' || *v == '-' || *v == '!' || *v == '~';
    case 2: return v[0] == '!' && v[1] == '!';
    case 3: return ieq("NOT", t);
    default: return false;
    }
}

static bool is_arith(const sqli_token_t *t)
{
    char c = t->val[0];
    return t->type == SQLI_OPERATOR && t->len == 1 &&
           (c == '*' || c == '/' || c == '-' || c == '+' || c == '%');
}

static inline bool type_in(char type, const char *set)
{
    for (; *set; set++)
        if (*set == type)
            return true;
    return false;
}

/* "UNION" + "ALL" -> "UNION ALL" when the phrase is in the word table. */
static bool merge_words(sqli_token_t *a, const sqli_token_t *b)
{
    if (!type_in(a->type, "knoUfETt") || !type_in(b->type, "knoUfETt&"))
        return false;
    apr_size_t n = a->len + b->len + 1;
    if (n >= SQLI_TOKEN_SIZE)
        return false;
    char tmp[SQLI_TOKEN_SIZE];
    memcpy(tmp, a->val, a->len);
    tmp[a->len] = ' ';
    memcpy(tmp + a->len + 1, b->val, b->len);
    char type = pp_sqli_word_type(tmp, n);
    if (!type)
        return false;
    a->type = type;
    a->len = n;
    memcpy(a->val, tmp, n);
    a->val[n] = '\0';
    return true;
}

/* Reads tokens into tv[*pos] until *pos - left reaches want (or the input ends). Comments are
 * not kept in place; the last one is remembered in *last_comment. */
static bool fill(sqli_lexer_t *lx, apr_size_t *pos, apr_size_t left, apr_size_t want,
                 bool more, sqli_token_t *last_comment)
{
    while (more && *pos <= SQLI_MAX_TOKENS && *pos - left < want) {
        lx->cur = &lx->tv[*pos];
        more = pp_sqli_next_token(lx);
        if (!more)
            break;
        if (lx->cur->type == SQLI_COMMENT) {
            *last_comment = *lx->cur;
        } else {
            last_comment->type = '\0';
            (*pos)++;
        }
    }
    return more;
}

/* Five-token shapes that are ordinary arithmetic or calls: start again after them. */
static bool restart_shape(const sqli_token_t *tv)
{
    char a = tv[0].type, b = tv[1].type, c = tv[2].type, d = tv[3].type, e = tv[4].type;
    return (a == '1' && (b == 'o' || b == ',') && c == '(' && d == '1' && e == ')') ||
           (a == 'n' && b == 'o' && c == '(' && (d == 'n' || d == '1') && e == ')') ||
           (a == '1' && b == ')' && c == ',' && d == '(' && e == '1') ||
           (a == 'n' && b == ')' && c == 'o' && d == '(' && e == 'n');
}

/* Words that T-SQL or MySQL use as functions but that are common as column names: they are
 * functions only when a '(' follows. */
static bool function_like_name(const sqli_token_t *t)
{
    static const char *const names[] = { "USER_ID", "USER_NAME", "DATABASE", "PASSWORD",
                                         "USER", "CURRENT_USER", "CURRENT_DATE",
                                         "CURRENT_TIME", "CURRENT_TIMESTAMP", "LOCALTIME",
                                         "LOCALTIMESTAMP" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (ieq(names[i], t))
            return true;
    return false;
}

/* Two-token rules. Returns 1 to go round again, 0 when none applied (fetch a third token),
 * -1 when folding ends now (*result is then the token count). */
static int fold_two(sqli_lexer_t *lx, apr_size_t *pos, apr_size_t *left, apr_size_t *result)
{
    sqli_token_t *tv = lx->tv;
    sqli_token_t *a = &tv[*left], *b = &tv[*left + 1];
    char ta = a->type, tb = b->type;
    if ((ta == 's' && tb == 's') || (ta == ';' && tb == ';')) {
        (*pos)--;
        return 1;
    }
    if ((ta == 'o' || ta == '&') && (is_unary(b) || tb == 't')) {
        (*pos)--;
        *left = 0;
        return 1;
    }
    if (ta == '(' && is_unary(b)) {
        (*pos)--;
        if (*left > 0)
            (*left)--;
        return 1;
    }
    if (merge_words(a, b)) {
        (*pos)--;
        if (*left > 0)
            (*left)--;
        return 1;
    }
    if (ta == ';' && tb == 'f' && (b->val[0] == 'I' || b->val[0] == 'i') &&
        (b->val[1] == 'F' || b->val[1] == 'f')) {
        b->type = SQLI_TSQL; /* T-SQL's IF statement after ';' */
        return 1;
    }
    if ((ta == 'n' || ta == 'v') && tb == '(' && function_like_name(a)) {
        a->type = SQLI_FUNCTION;
        return 1;
    }
    if (ta == 'k' && (ieq("IN", a) || ieq("NOT IN", a))) {
        a->type = tb == '(' ? SQLI_OPERATOR : SQLI_BAREWORD;
        return 1;
    }
    if (ta == 'o' && (ieq("LIKE", a) || ieq("NOT LIKE", a))) {
        if (tb == '(')
            a->type = SQLI_FUNCTION;
        return 0;
    }
    if (ta == 't' && type_in(tb, "n1t(fvs")) {
        *a = *b;
        (*pos)--;
        *left = 0;
        return 1;
    }
    if (ta == 'A' && tb == 'n') {
        if (strchr(b->val, '_')) {
            b->type = SQLI_SQLTYPE;
            *left = 0;
        }
        return 0;
    }
    if (ta == '\\') {
        if (is_arith(b)) {
            a->type = SQLI_NUMBER;
        } else {
            *a = *b;
            (*pos)--;
        }
        *left = 0;
        return 1;
    }
    if ((ta == '(' && tb == '(') || (ta == ')' && tb == ')')) {
        (*pos)--;
        *left = 0;
        return 1;
    }
    if (ta == '{' && tb == 'n') {
        if (b->len == 0) { /* "{ ``": MySQL's odd ODBC escape, treated as evil */
            b->type = SQLI_EVIL;
            *result = *left + 2;
            return -1;
        }
        *left = 0;
        *pos -= 2;
        return 1;
    }
    if (tb == '}') {
        (*pos)--;
        *left = 0;
        return 1;
    }
    return 0;
}

/* Three-token rules; true when one applied. */
static bool fold_three(sqli_lexer_t *lx, apr_size_t *pos, apr_size_t *left)
{
    sqli_token_t *tv = lx->tv;
    sqli_token_t *a = &tv[*left], *b = &tv[*left + 1], *c = &tv[*left + 2];
    char ta = a->type, tb = b->type, tc = c->type;
    if ((ta == '1' && tb == 'o' && tc == '1') || (ta == 'o' && tb != '(' && tc == 'o') ||
        (ta == '&' && tc == '&') || (ta == 'v' && tb == 'o' && type_in(tc, "v1n")) ||
        (type_in(ta, "n1") && tb == 'o' && type_in(tc, "1n")) ||
        (type_in(ta, "n1vs") && tb == 'o' && strcmp(b->val, "::") == 0 && tc == 't') ||
        (type_in(ta, "n1sv") && tb == ',' && type_in(tc, "1nsv")) ||
        (ta == 'n' && tb == '.' && tc == 'n')) {
        *pos -= 2;
        *left = 0;
        return true;
    }
    if ((type_in(ta, "EB,") && is_unary(b) && tc == '(') ||
        (type_in(ta, "kEB") && is_unary(b) && type_in(tc, "1nvsf")) ||
        (ta == ',' && is_unary(b) && tc == 'f') || (ta == 'E' && tb == '.' && tc == 'n')) {
        *b = *c; /* drop the unary operator, or the dot after SELECT */
        (*pos)--;
        *left = 0;
        return true;
    }
    if (ta == ',' && is_unary(b) && type_in(tc, "1nvs")) {
        *b = *c; /* "1,-1" -> "1,1", then back up to fold the list */
        *left = 0;
        *pos -= 3;
        return true;
    }
    if (ta == 'f' && tb == '(' && tc != ')' && ieq("USER", a))
        a->type = SQLI_BAREWORD; /* USER() takes no argument: USER(x) is a name */
    return false;
}

/* Folds the value's tokens into lx->tv and returns how many count (at most five). */
static apr_size_t fold(sqli_lexer_t *lx)
{
    sqli_token_t last_comment;
    apr_size_t pos = 0, left = 0, result;
    bool more = true;
    memset(&last_comment, 0, sizeof last_comment);

    /* Leading comments, '(' , SQL types and unary operators say nothing. */
    lx->cur = &lx->tv[0];
    for (;;) {
        more = pp_sqli_next_token(lx);
        char t = lx->cur->type;
        if (!more || !(t == 'c' || t == '(' || t == 't' || is_unary(lx->cur)))
            break;
    }
    if (!more)
        return 0;
    pos = 1;

    for (;;) {
        if (pos >= SQLI_MAX_TOKENS && restart_shape(lx->tv)) {
            if (pos > SQLI_MAX_TOKENS) {
                lx->tv[1] = lx->tv[SQLI_MAX_TOKENS];
                pos = 2;
            } else {
                pos = 1;
            }
            left = 0;
        }
        if (!more || left >= SQLI_MAX_TOKENS) {
            left = pos;
            break;
        }
        more = fill(lx, &pos, left, 2, more, &last_comment);
        if (pos - left < 2) {
            left = pos;
            continue;
        }
        int r = fold_two(lx, &pos, &left, &result);
        if (r < 0)
            return result;
        if (r > 0)
            continue;
        more = fill(lx, &pos, left, 3, more, &last_comment);
        if (pos - left < 3) {
            left = pos;
            continue;
        }
        if (fold_three(lx, &pos, &left))
            continue;
        left++;
    }
    /* A trailing comment counts as a token when there is room. */
    if (left < SQLI_MAX_TOKENS && last_comment.type == SQLI_COMMENT)
        lx->tv[left++] = last_comment;
    return left > SQLI_MAX_TOKENS ? SQLI_MAX_TOKENS : left;
}

/* Tokenizes and folds the whole value under flags; the fingerprint lands in lx->fingerprint. */
static void fingerprint(sqli_lexer_t *lx, const char *s, apr_size_t n, int flags)
{
    /* Tokens are cleared as they are written; only the counters need resetting. */
    lx->s = s;
    lx->n = n;
    lx->pos = 0;
    lx->flags = flags;
    lx->n_tokens = lx->n_hash = lx->n_ddx = 0;
    memset(lx->fingerprint, 0, sizeof lx->fingerprint);
    apr_size_t k = fold(lx);
    /* An empty, unclosed `...` at the end is PHP's backtick comment trick. */
    sqli_token_t *last = k > 2 ? &lx->tv[k - 1] : NULL;
    if (last && last->type == 'n' && last->str_open == '`' && last->len == 0 &&
        last->str_close == '\0')
        last->type = SQLI_COMMENT;
    for (apr_size_t i = 0; i < k; i++)
        lx->fingerprint[i] = lx->tv[i].type;
    lx->fingerprint[k] = '\0';
    if (memchr(lx->fingerprint, SQLI_EVIL, k)) {
        memset(lx->fingerprint, 0, sizeof lx->fingerprint);
        lx->fingerprint[0] = SQLI_EVIL;
    }
}

/* The exceptions: fingerprints in the table that are too common in ordinary input unless the
 * raw value shows more. True means "still SQL injection". */
static bool not_benign(const sqli_lexer_t *lx)
{
    const char *fp = lx->fingerprint;
    const sqli_token_t *tv = lx->tv;
    apr_size_t k = strlen(fp);
    /* SQL Server's audit log skips statements mentioning sp_password. */
    if (k > 1 && fp[k - 1] == 'c' && lx->n >= 11) {
        for (apr_size_t i = 0; i + 11 <= lx->n; i++)
            if (lx->s[i] == 's' && memcmp(lx->s + i, "sp_password", 11) == 0)
                return true;
    }
    if (k == 2) {
        if (fp[1] == 'U')
            return lx->n_tokens != 2; /* "1 union" alone is too common */
        if (tv[1].val[0] == '#')
            return false;
        if (tv[0].type == 'n' && tv[1].type == 'c' && tv[1].val[0] != '/')
            return false;
        if (tv[0].type == '1' && tv[1].type == 'c' && tv[1].val[0] == '/')
            return true;
        if (tv[0].type == '1' && tv[1].type == 'c') {
            if (lx->n_tokens > 2)
                return true;
            /* The byte after the number (counted from the value's start, as the reference
             * does) must open the comment or be white space. */
            apr_size_t at = tv[0].len;
            char c = at < lx->n ? lx->s[at] : '\0';
            char d = at + 1 < lx->n ? lx->s[at + 1] : '\0';
            if ((signed char)c <= 32) /* bytes above 127 too: the reference's char is signed */
                return true;
            return (c == '/' && d == '*') || (c == '-' && d == '-');
        }
        if (tv[1].len > 2 && tv[1].val[0] == '-')
            return false;
        return true;
    }
    if (k == 3) {
        if (strcmp(fp, "sos") == 0 || strcmp(fp, "s&s") == 0) {
            /* ...foo" + "bar... : no opening, no closing quote */
            return tv[0].str_open == '\0' && tv[2].str_close == '\0' &&
                   tv[0].str_close == tv[2].str_open;
        }
        if (strcmp(fp, "s&n") == 0 || strcmp(fp, "n&1") == 0 || strcmp(fp, "1&1") == 0 ||
            strcmp(fp, "1&v") == 0 || strcmp(fp, "1&s") == 0)
            return lx->n_tokens != 3; /* a lone "word and 17" is prose */
        if (tv[1].type == 'k') {
            /* Only INTO OUTFILE / INTO DUMPFILE (MySQL) are kept. */
            if (tv[1].len < 5)
                return false;
            for (int i = 0; i < 4; i++) {
                char c = tv[1].val[i];
                if ((c >= 'a' && c <= 'z' ? c - 32 : c) != "INTO"[i])
                    return false;
            }
        }
    }
    return true;
}

static bool check(const sqli_lexer_t *lx)
{
    return lx->fingerprint[0] && pp_sqli_fingerprint_known(lx->fingerprint) && not_benign(lx);
}

/* Whether s is one bare word (an ASCII letter, then letters and digits) or one number (digits
 * only). Without a quote, a '.', a '`' or any byte that ends a word, the lexer reads it as one
 * token (the letters that may open a special string, b x e n q u, need a quote after them), and
 * a fingerprint of one word or number type is never in the table: the table's only
 * one-character fingerprint is 'X', which no word or number is. Most benign values (arguments,
 * their names, cookie names) are such words: they are answered without the lexer, ~700
 * instructions each. test_sqli_xss_diff.c holds every word of the table, in both cases, and
 * generated words and numbers to the reference. */
static bool one_token(const char *s, apr_size_t n)
{
    unsigned char c = (unsigned char)s[0];
    bool word = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    for (apr_size_t i = word; i < n; i++) {
        c = (unsigned char)s[i];
        if (!(c >= '0' && c <= '9') && !(word && (c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
            return false;
    }
    return true;
}

bool pp_sqli_detect(pp_str_t value, char fp_out[PP_SQLI_FINGERPRINT_SIZE])
{
    sqli_lexer_t lx;
    const char *s = value.data;
    apr_size_t n = value.len;
    bool hit = false;
    fp_out[0] = '\0';
    if (n == 0 || one_token(s, n))
        return false;
    fingerprint(&lx, s, n, SQLI_ANSI);
    hit = check(&lx);
    if (!hit && (lx.n_ddx || lx.n_hash)) {
        fingerprint(&lx, s, n, SQLI_MYSQL);
        hit = check(&lx);
    }
    if (!hit && memchr(s, '\'', n)) {
        fingerprint(&lx, s, n, SQLI_QUOTE_SINGLE | SQLI_ANSI);
        hit = check(&lx);
        if (!hit && (lx.n_ddx || lx.n_hash)) {
            fingerprint(&lx, s, n, SQLI_QUOTE_SINGLE | SQLI_MYSQL);
            hit = check(&lx);
        }
    }
    if (!hit && memchr(s, '"', n)) {
        fingerprint(&lx, s, n, SQLI_QUOTE_DOUBLE | SQLI_MYSQL);
        hit = check(&lx);
    }
    if (hit)
        memcpy(fp_out, lx.fingerprint, sizeof lx.fingerprint);
    return hit;
}

const char *pp_op_noarg_parse(apr_pool_t *cp, const char *arg, void **compiled)
{
    /* ModSecurity 2 ignores an argument to @detectSQLi / @detectXSS; so do we. */
    *compiled = NULL;
    return NULL;
}

apr_status_t pp_op_sqli_exec(pp_tx_t *tx, const void *compiled, pp_str_t value, bool *match,
                             pp_op_out_t *out)
{
    char fp[PP_SQLI_FINGERPRINT_SIZE];
    *match = pp_sqli_detect(value, fp);
    if (*match) {
        /* ModSecurity logs the fingerprint as the matched data and keeps it as TX:0 with
         * `capture`. tx is NULL when a test calls the operator alone. */
        pp_str_t f = value;
        if (tx)
            f = (pp_str_t){ apr_pstrdup(tx->pool, fp), strlen(fp) };
        out->data = f;
        out->ncaptures = 0;
        if (out->want_captures && tx) {
            out->captures[0] = f;
            out->ncaptures = 1;
        }
    }
    return APR_SUCCESS;
}

PP_OP_WORDS(pp_op_sqli_words)
{
    /* No full stop, as ModSecurity writes it. */
    return apr_psprintf(p, "detected SQLi using libinjection with fingerprint '%s'",
                        pp_ms_log_escape(p, out->data));
}
