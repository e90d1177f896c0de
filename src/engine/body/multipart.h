/*
 * Streaming, strict multipart/form-data parser (RFC 2046 §5.1, RFC 7578), reference §6.3.
 *
 * Place in the data path: body/dispatch.c creates one parser per request whose Content-Type is
 * multipart/form-data and feeds it the request body chunk by chunk as Apache hands it over.
 * Non-file fields come out complete through cb->field (they become arguments and the
 * synthesised urlencoded body); file parts stream out through file_begin / file_data /
 * file_end (upload/store.c writes them to SecUploadDir). The parser never holds the body: apart
 * from one part's header section (max_header_bytes) and one non-file field value
 * (max_field_bytes) it keeps fewer than 256 bytes of look-behind, so a delimiter that straddles
 * two chunks is still found.
 *
 * It records every irregularity as a PP_MP_* flag. The flags in PP_MP_STRICT_MASK mean that
 * another multipart parser (PHP, Go, Python, Node, Java) could read the same bytes differently
 * from us, so the caller must reject the request (fail closed, §6.3 "1.9RC1 hardened the parser",
 * style §6: 400). The other flags are informational: the body is unambiguous, and rules may
 * still look at them. Some conditions are fatal on their own: feed/finish return APR_EGENERAL
 * and pp_multipart_error() says why; every fatal condition also sets a strict flag.
 *
 * What it does not do: decode Content-Transfer-Encoding (RFC 7578 §4.7 deprecates it; a part
 * that declares base64 or quoted-printable is flagged instead), parse nested multipart/mixed,
 * percent-decode file names, or store anything.
 */
#ifndef PP_BODY_MULTIPART_H
#define PP_BODY_MULTIPART_H

#include "parapet.h"

/* ---- Flags ----------------------------------------------------------------------------------
 * Names follow ModSecurity 2.x's MULTIPART_* variables where the concept is the same.
 * "fatal" = parsing stops at once (feed/finish return APR_EGENERAL).
 */
#define PP_MP_BOUNDARY_QUOTED (1u << 0)         /* info: boundary="..." in Content-Type */
#define PP_MP_BOUNDARY_WHITESPACE (1u << 1)     /* strict: space around/in the boundary parameter,
                                                   or transport padding after a delimiter */
#define PP_MP_DATA_BEFORE (1u << 2)             /* strict: preamble (other than empty lines) */
#define PP_MP_DATA_AFTER (1u << 3)              /* strict: epilogue (other than white space) */
#define PP_MP_HEADER_FOLDING (1u << 4)          /* strict: folded part header */
#define PP_MP_LF_LINE (1u << 5)                 /* strict: bare LF ends a structural line */
#define PP_MP_CRLF_LF_LINES (1u << 6)           /* strict: CRLF and bare LF mixed */
#define PP_MP_MISSING_SEMICOLON (1u << 7)       /* strict: Content-Disposition params without ';' */
#define PP_MP_INVALID_QUOTING (1u << 8)         /* strict: unterminated or stray quotes, 'single'
                                                   quotes, backslash before another char in name */
#define PP_MP_INVALID_PART (1u << 9)            /* strict: part without blank line, bad header
                                                   name, bare CR or NUL in a header, duplicate
                                                   Content-Type, delimiter right after the blank
                                                   line */
#define PP_MP_INVALID_HEADER_FOLDING (1u << 10) /* strict: continuation line with nothing to fold */
#define PP_MP_PART_LIMIT_EXCEEDED (1u << 11)    /* strict, fatal: more than max_parts parts (the
                                                   counterpart of 2.x FILE_LIMIT_EXCEEDED) */
#define PP_MP_UNKNOWN_PART_HEADER (1u << 12)    /* info: header other than Content-Disposition,
                                                   Content-Type, Content-Transfer-Encoding (OkHttp
                                                   sends Content-Length) */
#define PP_MP_DUPLICATE_CD (1u << 13)           /* strict: two Content-Disposition headers */
#define PP_MP_MALFORMED_CD (1u << 14)           /* strict: not form-data, no name, duplicate
                                                   name/filename, RFC 2231 name*, filename*0...,
                                                   space around '=', filename* disagreeing with
                                                   filename; fatal when the part has no
                                                   Content-Disposition at all (other parameters,
                                                   size= etc., are ignored) */
#define PP_MP_NUL_IN_NAME (1u << 15)            /* strict: NUL in name or filename (C back ends
                                                   truncate there) */
#define PP_MP_FILENAME_PATH (1u << 16)          /* info: filename contains '/', '\\' or ".." */
#define PP_MP_FILENAME_ENCODING (1u << 17)      /* info: filename* used, or filename not UTF-8
                                                   (a form on a legacy-charset page sends that) */
#define PP_MP_UNMATCHED_BOUNDARY (1u << 18)     /* strict: "--boundary" followed by junk, or a line
                                                   that is only a long prefix of "--boundary" */
#define PP_MP_MISSING_FINAL_BOUNDARY (1u << 19) /* strict, fatal at finish */
#define PP_MP_OVERSIZED_HEADER (1u << 20)       /* strict, fatal: part header section over
                                                   max_header_bytes */
#define PP_MP_HEADER_NO_COLON (1u << 21)        /* strict: header line without ':' */
#define PP_MP_ENCODED_PART (1u << 22)           /* strict: Content-Transfer-Encoding other than
                                                   7bit/8bit/binary (Go decodes quoted-printable,
                                                   we do not) */
#define PP_MP_FIELD_LIMIT_EXCEEDED (1u << 23)   /* strict, fatal: field value > max_field_bytes */
#define PP_MP_BOUNDARY_LIKE_LINE (1u << 24)     /* info: what ModSecurity 2.9.7 calls
                                                   MULTIPART_UNMATCHED_BOUNDARY: before the close
                                                   delimiter, a line that starts with "--", is 4
                                                   or more bytes with its line end (no NUL in
                                                   them) and is not a delimiter, or a line with
                                                   "--boundary" after its first byte. A SQL
                                                   comment or a Markdown rule trips it; never
                                                   reported once parsing failed */

#define PP_MP_FLAG_COUNT 25

/* Informational flags: the body means the same to every parser we know of. */
#define PP_MP_INFO_MASK                                                                         \
    (PP_MP_BOUNDARY_QUOTED | PP_MP_UNKNOWN_PART_HEADER | PP_MP_FILENAME_PATH |                  \
     PP_MP_FILENAME_ENCODING | PP_MP_BOUNDARY_LIKE_LINE)
/* Flags that make the body ambiguous: the request must be rejected. */
#define PP_MP_STRICT_MASK (((1u << PP_MP_FLAG_COUNT) - 1) & ~PP_MP_INFO_MASK)

/* ---- Parser --------------------------------------------------------------------------------- */

typedef struct pp_multipart_t pp_multipart_t;

/* Callbacks; any may be NULL. Strings passed to them live in parser memory: name and value of
 * field() only until it returns; field_name, filename and content_type of file_begin() until the
 * matching file_end() returns. Copy what you keep. A return other than APR_SUCCESS aborts
 * parsing; feed/finish then return that status and pp_multipart_error() stays NULL. After an
 * abort or a fatal error no further callback is made, so a file that got file_begin may never
 * get file_end: release it with a cleanup on its pool (style §5).
 *
 * An empty filename (filename="", what browsers send for an empty file input) is still a file
 * part: file_begin gets filename.len == 0 and the content (usually none) goes through
 * file_data, so nothing a back end might store escapes inspection.
 *
 * A part with filename* and no filename is a field to some back ends and a file to others: it
 * goes through the file callbacks and then, after file_end, through field() with the same
 * content (bounded by max_field_bytes like any field). */
typedef struct pp_multipart_cb_t {
    void *ctx;
    /* a complete non-file field (name, value); value may contain NUL */
    apr_status_t (*field)(void *ctx, pp_str_t name, pp_str_t value);
    /* a file part starts; filename is the client's name exactly as sent (after unquoting);
     * *handle is the callee's (starts NULL) */
    apr_status_t (*file_begin)(void *ctx, pp_str_t field_name, pp_str_t filename,
                               pp_str_t content_type, void **handle);
    apr_status_t (*file_data)(void *ctx, void *handle, const char *data, apr_size_t len);
    apr_status_t (*file_end)(void *ctx, void *handle, apr_off_t size);
    /* a part's header section is complete (before file_begin or its field): its name, its
     * filename (data NULL when it has none) and its raw header lines, each ending in LF or
     * CRLF, without the blank line (ModSecurity's MULTIPART_PART_HEADERS, _NAME, _FILENAME) */
    apr_status_t (*part_headers)(void *ctx, pp_str_t name, pp_str_t filename, pp_str_t raw);
} pp_multipart_cb_t;

/* A zero member means its default. */
typedef struct pp_multipart_limits_t {
    apr_size_t max_header_bytes; /* per part header section incl. line ends, default 8192 */
    apr_size_t max_field_bytes;  /* per non-file field value, default 1 MiB */
    unsigned max_parts;          /* default 1000 */
} pp_multipart_limits_t;

#define PP_MP_DEFAULT_MAX_HEADER_BYTES 8192
#define PP_MP_DEFAULT_MAX_FIELD_BYTES (1024 * 1024)
#define PP_MP_DEFAULT_MAX_PARTS 1000

/* Creates a parser in p for a body with this Content-Type header value (media type
 * multipart/form-data, a boundary parameter of 1..70 RFC 2046 characters, other parameters
 * ignored). limits NULL = defaults; cb is copied, NULL = no callbacks. On failure returns NULL
 * and sets *error (if error is not NULL) to a static message naming the problem. The parser
 * uses a subpool of p that is cleared per part; everything is released with p. */
pp_multipart_t *pp_multipart_create(apr_pool_t *p, pp_str_t content_type,
                                    const pp_multipart_limits_t *limits,
                                    const pp_multipart_cb_t *cb, const char **error);

/* Feeds the next len bytes of the body. Any chunking gives the same callbacks (file data may be
 * split differently), flags and error, unless a callback aborts. Returns APR_SUCCESS,
 * APR_EGENERAL on a fatal body error (see pp_multipart_error), or a callback's status. Once it
 * failed, every later call returns the same status; feeding after finish returns APR_EGENERAL. */
apr_status_t pp_multipart_feed(pp_multipart_t *mp, const char *data, apr_size_t len);

/* End of body: decides what was held back, then fails with PP_MP_MISSING_FINAL_BOUNDARY if
 * the close delimiter was never seen. Same returns as feed. Call once. */
apr_status_t pp_multipart_finish(pp_multipart_t *mp);

/* PP_MP_* bits seen so far (including the Content-Type ones). Never fails. */
unsigned pp_multipart_flags(const pp_multipart_t *mp);

/* Whether a CRLF ended a structural line (ModSecurity's MULTIPART_CRLF_LINE; not a flag: it is
 * what a well-formed body has). */
bool pp_multipart_crlf_line(const pp_multipart_t *mp);

/* The current part's Content-Type header value (trimmed, empty when absent); valid inside
 * the field and file callbacks, for the part they are about. */
pp_str_t pp_multipart_part_type(const pp_multipart_t *mp);

/* The first fatal reason (static text), or NULL. */
const char *pp_multipart_error(const pp_multipart_t *mp);

/* "MULTIPART_BOUNDARY_QUOTED" for PP_MP_BOUNDARY_QUOTED etc.; NULL unless exactly one known
 * bit is set. */
const char *pp_multipart_flag_name(unsigned single_flag);

/* The bit of "MULTIPART_BOUNDARY_QUOTED" etc. (ignoring case), 0 for an unknown name: the
 * SecRule language's MULTIPART_* variables read pp_tx_multipart_flags() through it. */
unsigned pp_multipart_flag_by_name(const char *name);

/* ---- Internal: shared by the multipart*.c files only ---------------------------------------- */

#define PP_MP_MAX_BOUNDARY 70

/* The widest vector instructions the content scanners use. A parser starts with the most this
 * CPU has (read at run time from what libgcc found at start-up: the build targets plain
 * x86-64, so AVX2 and AVX-512BW are only taken where they exist); SSE2 is every x86-64's;
 * other architectures have none and use memchr. */
enum { PP_MP_SIMD_NONE, PP_MP_SIMD_SSE2, PP_MP_SIMD_AVX2, PP_MP_SIMD_AVX512 };

/* What this CPU and build allow. */
unsigned pp_multipart_simd_max(void);

/* Lowers the level a parser (and its ModSecurity line test) uses, to at most level; the result
 * never depends on it (the unit tests run every level the CPU has, to cover every path). */
void pp_multipart_set_simd(pp_multipart_t *mp, unsigned level);

/* One part's header section, as multipart_header.c understood it. */
typedef struct pp_mp_part_hdr_t {
    pp_str_t name;         /* Content-Disposition name, unquoted */
    pp_str_t filename;     /* filename (or filename* when alone), unquoted */
    pp_str_t content_type; /* trimmed value, empty when absent */
    bool has_cd;           /* a Content-Disposition header was present */
    bool is_file;          /* filename or filename* present */
    bool also_field;       /* filename* without filename: a field to PHP and Tomcat, a file to
                              Go, Django, ASP.NET; delivered both ways */
} pp_mp_part_hdr_t;

/* Finds the boundary in a Content-Type value. On success copies it to out (at least
 * PP_MP_MAX_BOUNDARY bytes), sets *len, ORs flags into *flags and returns NULL; otherwise
 * returns a static message. Allocates nothing. */
const char *pp_multipart_boundary_parse(pp_str_t content_type, char *out, apr_size_t *len,
                                        unsigned *flags);

/* Parses one part's header section: raw holds its lines, each ending in LF or CRLF, without the
 * blank line. Fills *hdr (strings point into raw, or into p where unescaping or unfolding
 * needed a copy) and returns the PP_MP_* flags it found. Never fails. */
unsigned pp_multipart_header_parse(apr_pool_t *p, pp_str_t raw, pp_mp_part_hdr_t *hdr);

#endif
