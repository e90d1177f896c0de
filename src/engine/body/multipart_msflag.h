/*
 * ModSecurity 2.9.7's MULTIPART_UNMATCHED_BOUNDARY (our PP_MP_BOUNDARY_LIKE_LINE), recomputed
 * over the body as sent, apart from the parser in multipart.c. Private to multipart.c: the
 * parser owns one of these, feeds it every chunk it accepted and ORs the flag in.
 */
#ifndef PP_BODY_MULTIPART_MSFLAG_H
#define PP_BODY_MULTIPART_MSFLAG_H

#include "body/multipart.h"

/* ModSecurity's line test looks at most at "\n" "--" boundary "--" "\r\n" from one position. */
#define PP_MP_MS_WIN_MAX (1 + 2 + PP_MP_MAX_BOUNDARY + 2 + 2)

typedef struct pp_mp_msflag_t {
    const char *dash;    /* "--" boundary: the parser's copy, which outlives this */
    apr_size_t dash_len;
    unsigned simd;       /* PP_MP_SIMD_*: the widest the scan uses */
    bool found;          /* the flag is set */
    bool done;           /* found, or the close delimiter passed: nothing more to look for */
    apr_size_t win;      /* bytes a position needs: "\n" "--boundary" "--" "\r\n" */
    apr_size_t len;      /* undecided positions: the body's last bytes (< win) */
    char buf[2 * PP_MP_MS_WIN_MAX];
} pp_mp_msflag_t;

/* Starts the test for a body whose delimiter is dash ("--" boundary, dash_len bytes), scanning
 * with vector instructions up to simd (PP_MP_SIMD_*, at most pp_multipart_simd_max()). */
void pp_mp_msflag_init(pp_mp_msflag_t *ms, const char *dash, apr_size_t dash_len,
                       unsigned simd);

/* The next len bytes of the body; returns whether the flag is set (by now or before). */
bool pp_mp_msflag_feed(pp_mp_msflag_t *ms, const char *data, apr_size_t len);

/* End of the body: decides the positions kept back; returns whether the flag is set. */
bool pp_mp_msflag_finish(pp_mp_msflag_t *ms);

#endif
