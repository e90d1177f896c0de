/*
 * Internal header of rules/transforms/: transformation functions, applied to one value at a
 * time between collecting a target and running the operator (style §2, "apply"), and the
 * fixed 1.9 normalisation pipeline that lang/secfilter.c gives every 1.9 rule (reference
 * §5.1). They never fail and never look at a transaction. The outputs live in the scratch
 * pool the caller clears after each target, or are the input itself.
 */
#ifndef PP_TRANSFORMS_H
#define PP_TRANSFORMS_H

#include "parapet.h"

#include <string.h>

/* SecUnicodeMapFile's table (unicode_map.c). */
typedef struct pp_unicode_map_t pp_unicode_map_t;

/* The shape every transformation shares (the table in table.c points at these).
 * *out is in itself (same pointer, no copy) exactly when there was nothing to do, so a caller
 * may test out->data == in.data for "unchanged"; otherwise it is new bytes in scratch. Outputs
 * are never longer than the input and are NOT NUL-terminated: len is authoritative. Always
 * returns APR_SUCCESS. */
typedef apr_status_t (*pp_tfn_apply_fn)(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);

/* ---- url.c ---------------------------------------------------------------------------- */

/* %XX → byte; '+' stays. Invalid or truncated escapes are kept literally. One level only:
 * "%252f" gives "%2f". */
apr_status_t pp_tfn_url_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* As pp_tfn_url_decode, and '+' → space (query strings, urlencoded bodies). */
apr_status_t pp_tfn_url_decode_form(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);

/* Flags of pp_tfn_normalise19; the steps run in this order (reference §5.1). */
#define PP_N19_BACKSLASH 0x10u /* '\' → '/' in the raw input (the Windows-build step) */
#define PP_N19_URLDECODE 0x01u /* %XX → byte, invalid escapes kept literally */
#define PP_N19_PLUS 0x02u      /* '+' → space (raw '+' only, not a decoded %2b) */
#define PP_N19_PATH 0x04u      /* "/./" → "/", then runs of '/' → one '/'; "/../" is kept */
#define PP_N19_NULLS 0x08u     /* NUL → space */

/* The 1.9 normaliser: the steps selected by flags, with the result of running each step over
 * the whole value in the order above. So a decoded %2f takes part in slash collapsing, a
 * decoded %5c is not turned into '/', and no "//" or "/./" is left in the output
 * (self-references are removed until none remains: "/././" → "/"). One pass over the input;
 * no allocation when nothing changes (*out is in), otherwise exactly one buffer of in.len
 * bytes in scratch. Always returns APR_SUCCESS. */
apr_status_t pp_tfn_normalise19(apr_pool_t *scratch, pp_str_t in, unsigned flags, pp_str_t *out);

/* ---- path.c --------------------------------------------------------------------------- */

/* Removes "/./" self-references (→ "/") and collapses runs of '/' into one, until neither is
 * left. Does not resolve "/../", and does not touch a leading "./" or a trailing "/.". */
apr_status_t pp_tfn_normalise_path(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* As pp_tfn_normalise_path after turning every '\' into '/'. */
apr_status_t pp_tfn_normalise_path_win(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);

/* ---- simple.c ------------------------------------------------------------------------- */

/* NUL → space. */
apr_status_t pp_tfn_replace_nulls(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* NUL bytes dropped. */
apr_status_t pp_tfn_remove_nulls(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* ASCII A-Z → a-z; other bytes (including UTF-8 sequences) untouched, whatever the locale. */
apr_status_t pp_tfn_lowercase(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* Every run of ASCII whitespace (space, \t, \n, \v, \f, \r) → one space. Leading and
 * trailing runs are compressed too, not removed. */
apr_status_t pp_tfn_compress_whitespace(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* Removes leading and trailing ASCII whitespace (space, \t, \n, \v, \f, \r). */
apr_status_t pp_tfn_trim(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);

/* ---- the 2.x transformation set (ModSecurity 2.9.7, reference secrule-2.9 §7) --------------
 * Same contract as above, except that these may make the value longer (encoders, digests,
 * utf8toUnicode) and always end their output with a NUL byte that len does not count. Each
 * reproduces ModSecurity 2.9.7's observable result byte for byte, quirks included (the
 * differential test tests/e2e/test_ms2_transforms.py runs ModSecurity itself as the oracle);
 * the comments at each function say which quirks those are. */

/* The result of a transformation that wrote buf[0, len): in itself when the bytes are equal,
 * so that "same pointer" keeps meaning "unchanged"; buf must hold len + 1 bytes. */
static inline apr_status_t pp_tfn_result(pp_str_t in, char *buf, apr_size_t len, pp_str_t *out)
{
    if (len == in.len && (len == 0 || memcmp(buf, in.data, len) == 0)) {
        *out = in;
    } else {
        buf[len] = '\0';
        *out = (pp_str_t){ buf, len };
    }
    return APR_SUCCESS;
}

/* url.c */
apr_status_t pp_tfn_url_decode_uni(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* urlDecodeUni with env->unicode_map (when not NULL) deciding the byte of each %uHHHH escape
 * whose code point the map lists; the others follow the low-byte rule. */
struct pp_tfn_env_t;
apr_status_t pp_tfn_url_decode_uni_env(apr_pool_t *scratch, const struct pp_tfn_env_t *env,
                                       pp_str_t in, pp_str_t *out);

/* ---- unicode_map.c: SecUnicodeMapFile ------------------------------------------------- */

/* Reads the section of code page `codepage` of a ModSecurity unicode.mapping file into a table
 * in cp (scratch in tp). NULL, or a message naming the file and the problem. */
const char *pp_unicode_map_load(apr_pool_t *cp, apr_pool_t *tp, const char *path, long codepage,
                                const pp_unicode_map_t **out);
/* The byte the map gives code point code, or -1 when it lists none. */
int pp_unicode_map_byte(const pp_unicode_map_t *m, unsigned code);
apr_status_t pp_tfn_url_encode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* unicode.c */
apr_status_t pp_tfn_utf8_to_unicode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* html.c */
apr_status_t pp_tfn_html_entity_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* escape.c */
apr_status_t pp_tfn_js_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_css_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_escape_seq_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* comments.c */
apr_status_t pp_tfn_remove_comments(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_remove_comments_char(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_replace_comments(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_cmd_line(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* path.c: ModSecurity 2's normalizePath resolves "../", unlike the 1.9 steps above */
apr_status_t pp_tfn_normalise_path2(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_normalise_path2_win(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* simple.c */
apr_status_t pp_tfn_compress_whitespace2(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_remove_whitespace(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_trim_left(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_trim_right(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_parity_even7(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_parity_odd7(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_parity_zero7(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* base64.c */
apr_status_t pp_tfn_base64_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_base64_decode_ext(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_base64_encode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* hex.c */
apr_status_t pp_tfn_hex_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_hex_encode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_sql_hex_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
/* digest.c */
apr_status_t pp_tfn_length(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_md5(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);
apr_status_t pp_tfn_sha1(apr_pool_t *scratch, pp_str_t in, pp_str_t *out);

/* ---- table.c: the registry ------------------------------------------------------------- */

/* What a few transformations read from the configuration (the transaction's, or none). */
typedef struct pp_tfn_env_t {
    const pp_unicode_map_t *unicode_map; /* SecUnicodeMapFile with a code page; NULL: none */
} pp_tfn_env_t;
/* A transformation that depends on env; same contract as pp_tfn_apply_fn otherwise. */
typedef apr_status_t (*pp_tfn_apply_env_fn)(apr_pool_t *scratch, const pp_tfn_env_t *env,
                                            pp_str_t in, pp_str_t *out);

typedef struct pp_tfn_def_t {
    const char *name;      /* as ModSecurity spells it; look-ups ignore case */
    pp_tfn_apply_fn apply; /* NULL for "none", which the chain builder treats as a reset */
    const char *help;
    pp_tfn_apply_env_fn apply_env; /* when set, used instead of apply where an env exists */
    /* ModSecurity 2.9.7's function reports "changed" whatever it did (re_tfns.c returns 1),
     * so multiMatch tests the value after it even when it is the same. */
    bool always_changed;
    /* The bytes this step needs to change anything (PP_TB_*): a value with none of them comes
     * back unchanged, so rules/values.c returns an array whose byte summary has none of them
     * as it is, without calling the step per value. 0: not known, always run. Each entry is
     * proved by tests/unit/rules/transforms/test_tfn_bytes.c against the reference evaluators.
     * A row with always_changed may have one: multiMatch reads always_changed from the row, not
     * from whether the array changed (rules/eval.c multi_match2). */
    unsigned bytes;
} pp_tfn_def_t;

/* Byte classes of a value array's summary (pp_tfn_bytes_add) and of the column above. */
#define PP_TB_PCT 0x001u     /* '%' */
#define PP_TB_PLUS 0x002u    /* '+' */
#define PP_TB_AMP 0x004u     /* '&' */
#define PP_TB_BSL 0x008u     /* '\\' */
#define PP_TB_UPPER 0x010u   /* A-Z */
#define PP_TB_NUL 0x020u     /* NUL */
#define PP_TB_HIGH 0x040u    /* 0x80-0xff (NBSP 0xa0 among them) */
#define PP_TB_WS 0x080u      /* space, \t \n \v \f \r */
#define PP_TB_SLASH 0x100u   /* '/' */
#define PP_TB_LASTDOT 0x200u /* a value whose last byte is '.' */
#define PP_TB_SHELL 0x400u   /* '"' '\'' '^' ',' ';' (cmdLine's deleted bytes and separators) */

/* Each byte's PP_TB_* class (table.c); PP_TB_LASTDOT is not a byte class. */
extern const unsigned short pp_tfn_byte_class[256];

/* sum with the classes of v's bytes added. */
static inline unsigned pp_tfn_bytes_add(unsigned sum, pp_str_t v)
{
    const unsigned char *s = (const unsigned char *)v.data;
    unsigned m = 0;
    for (apr_size_t i = 0; i < v.len; i++)
        m |= pp_tfn_byte_class[s[i]];
    if (v.len && s[v.len - 1] == '.')
        m |= PP_TB_LASTDOT;
    return sum | m;
}

/* Runs def on in: through apply_env when the row has one and env is given, else apply. */
static inline void pp_tfn_run(const pp_tfn_def_t *def, const pp_tfn_env_t *env,
                              apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    if (def->apply_env && env)
        def->apply_env(scratch, env, in, out);
    else
        def->apply(scratch, in, out);
}

/* The table, sorted case-insensitively by name. */
const pp_tfn_def_t *pp_tfn_table(apr_size_t *n);
/* The row for name (case-insensitive), or NULL. */
const pp_tfn_def_t *pp_tfn_find(const char *name);

#endif
