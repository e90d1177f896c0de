/*
 * What multipart.c (the scanner: delimiters, content, the state machine) and multipart_part.c
 * (a part's header section and its content's destination) share: the parser's state. Private
 * to those two files.
 */
#ifndef PP_BODY_MULTIPART_INT_H
#define PP_BODY_MULTIPART_INT_H

#include "body/multipart.h"
#include "body/multipart_msflag.h"
#include "util/util.h"

#define HOLD_CAP 256 /* look-behind: twice the longest undecided delimiter, see feed */
#define PAD_MAX 32   /* transport padding accepted after a delimiter */
#define PP_MP_FIELD_FIRST_BYTES 256

/* Longest undecided tail: CR LF "--" boundary, padding, one more byte, CR. */
#define UNDECIDED_MAX (2 + 2 + PP_MP_MAX_BOUNDARY + PAD_MAX + 1 + 1)
_Static_assert(HOLD_CAP >= 2 * UNDECIDED_MAX, "look-behind too small");

enum { ST_PREAMBLE, ST_HEADERS, ST_BODY, ST_EPILOGUE, ST_DONE, ST_FAILED };
enum { D_NEED, D_NO, D_YES };
enum { EOL_CRLF = 1, EOL_LF = 2 };

struct pp_multipart_t {
    apr_pool_t *part_pool; /* cleared when a part starts: header copies, field value */
    pp_multipart_cb_t cb;
    pp_multipart_limits_t lim;
    char dash[2 + PP_MP_MAX_BOUNDARY]; /* "--" boundary */
    apr_size_t dash_len;
    apr_size_t prefix_min; /* shortest "--"+prefix that ends a line suspiciously */
    apr_size_t needle_len; /* min(prefix_min, dash_len): what a candidate line starts with */
    int state;
    bool bol;      /* the next content byte starts a line with no line break before it */
    unsigned eols; /* EOL_* kinds seen on structural lines */
    unsigned flags;
    const char *error;
    apr_status_t status;
    unsigned parts;
    char *hbuf;        /* current header section, max_header_bytes */
    apr_size_t hlen;   /* bytes in hbuf */
    apr_size_t hline;  /* start of the incomplete line in hbuf */
    pp_mp_part_hdr_t hdr;
    void *handle;      /* file_begin's */
    apr_off_t fsize;
    pp_sbuf_t field;   /* field value: in the part pool, at most max_field_bytes */
    apr_size_t hold_len;
    char hold[HOLD_CAP];
    unsigned simd;     /* PP_MP_SIMD_*: the widest the candidate search uses */
    pp_mp_msflag_t ms; /* ModSecurity's line test (PP_MP_BOUNDARY_LIKE_LINE), over the body as
                          sent: multipart_msflag.c */
};

/* What a delimiter check found. */
typedef struct delim_t {
    const char *after; /* first byte after the delimiter line (after "--" when close) */
    bool close;
    bool padded;
    unsigned eol;
} delim_t;

static inline bool fail(pp_multipart_t *mp, unsigned flag, const char *why)
{
    mp->flags |= flag;
    if (mp->error == NULL) {
        mp->error = why;
    }
    mp->state = ST_FAILED;
    mp->status = APR_EGENERAL;
    return false;
}

static inline bool cb_ok(pp_multipart_t *mp, apr_status_t rv)
{
    if (rv == APR_SUCCESS) {
        return true;
    }
    mp->state = ST_FAILED;
    mp->status = rv;
    return false;
}

static inline void note_eol(pp_multipart_t *mp, unsigned eol)
{
    mp->eols |= eol;
    if (mp->eols & EOL_LF) {
        mp->flags |= PP_MP_LF_LINE;
    }
    if (mp->eols == (EOL_CRLF | EOL_LF)) {
        mp->flags |= PP_MP_CRLF_LF_LINES;
    }
}

/* ---- multipart.c ---------------------------------------------------------------------------- */

/* Is the line starting at q a delimiter line? D_NEED when the bytes up to end cannot tell
 * (never when final). *flag gets PP_MP_UNMATCHED_BOUNDARY with a D_NO for a line that only
 * resembles one; the caller decides whether the parser got that far (see emit_run). */
int pp_mp_delim_check(const pp_multipart_t *mp, const char *q, const char *end, bool final,
                      delim_t *d, unsigned *flag);

/* ---- multipart_part.c ----------------------------------------------------------------------- */

/* Content bytes of the current state: preamble, file data or field value. */
bool pp_mp_emit(pp_multipart_t *mp, const char *data, apr_size_t n);

/* A delimiter line was recognised. eol_before is the break that preceded it (0: none). */
bool pp_mp_at_delimiter(pp_multipart_t *mp, unsigned eol_before, const delim_t *d);

/* Header bytes of the current part up to its blank line; returns the bytes consumed. */
apr_size_t pp_mp_feed_headers(pp_multipart_t *mp, const char *buf, apr_size_t len);

#endif
