/*
 * The 1.9 native audit record (reference §9.2), used by SecAuditLogType Serial with
 * SecAuditLogFormat Native. The whole record is built in memory and handed to the target as
 * one string, so it reaches the file in a single write() (targets.c explains why that keeps
 * concurrent records whole):
 *
 *   ==<boundary>==============================          40 bytes: '=', 8 hex, '=' padding
 *   UNIQUE_ID: <id>
 *   Request: <vhost> <ip> <ident> <user> [<date>] "<request line>" <status> <bytes>
 *   Handler: <handler or ->
 *   ----------------------------------------          40 '-'
 *   <request line>
 *   <request headers>, then mod_security-message / mod_security-action (§8.5)
 *   <blank>
 *   <count>[ (notes)]          only when the body was buffered; count = bytes that follow
 *   <body bytes>
 *   File: field="f" filename="a.txt" size=N stored="/path" verdict="..."    one per file
 *   <blank>                    (the File lines and this blank also appear without part C)
 *   <response status line>
 *   <response headers>
 *   [<blank> <count> <response body>]    with SecAuditLogParts E and a held-back response
 *   --<boundary>--             the record ends here
 *
 * The boundary is 8 random hex digits drawn per record (the variant 1.9 is recalled to write,
 * §9.2, and the same idea as 2.x's "--<boundary>-A--" sections): the request body is logged
 * raw, so a body may hold text shaped like a whole record (attack run D12); a reader that
 * takes the boundary from the opening line and reads to "--<boundary>--" stays inside the
 * real record, because the client cannot know the boundary, and the one drawn never occurs
 * anywhere in the record's content (it is redrawn until it does not). The count line is
 * decimal (§17 question 1: our choice) and its notes say when the body was truncated at
 * PP_AUDIT_BODY_LIMIT_BYTES or is the multipart synthesis; a reader can also skip exactly
 * <count> bytes. Every control byte (C0 and DEL) in header lines is written as \xNN, so
 * request data cannot forge lines or smuggle terminal escapes. Of SecAuditLogParts only C
 * (request body) and E (response body) apply to this fixed layout.
 */
#include "log/log.h"

#define SEPARATOR_BYTES 40
#define BOUNDARY_HEX 8
/* Redraws of a boundary found in the content; each hits with odds of at most 2^-12 (a 64 KiB
 * body holds at most 64 Ki of the 4 Gi possible boundaries), so this is never reached. */
#define BOUNDARY_TRIES 16

static void separator(pp_sbuf_t *b, char c)
{
    char line[SEPARATOR_BYTES + 1];
    memset(line, c, SEPARATOR_BYTES);
    line[SEPARATOR_BYTES] = '\n';
    pp_sbuf_add(b, line, sizeof line);
}

/* Writes a boundary into the opening line at b->data (built as 40 '=' and '\n' first) that
 * does not occur in the content after it, and appends the closing line. */
static void seal(pp_sbuf_t *b)
{
    char *hex = b->data + 2;
    const char *content = b->data + SEPARATOR_BYTES + 1;
    apr_size_t content_len = b->len - (SEPARATOR_BYTES + 1);
    for (int i = 0; i < BOUNDARY_TRIES; i++) {
        char drawn[BOUNDARY_HEX + 1];
        pp_random_hex_from(NULL, drawn, BOUNDARY_HEX / 2, b);
        memcpy(hex, drawn, BOUNDARY_HEX);
        if (!memmem(content, content_len, drawn, BOUNDARY_HEX))
            break;
    }
    pp_sbuf_printf(b, "--%.*s--\n", BOUNDARY_HEX, hex);
}

static void field_line(pp_sbuf_t *b, pp_str_t name, pp_str_t value)
{
    pp_sbuf_add_safe(b, name);
    pp_sbuf_add(b, ": ", 2);
    pp_sbuf_add_safe(b, value);
    pp_sbuf_add(b, "\n", 1);
}

static void fields(pp_sbuf_t *b, const apr_array_header_t *a)
{
    for (int i = 0; i < a->nelts; i++) {
        const pp_field_t *f = &APR_ARRAY_IDX(a, i, pp_field_t);
        field_line(b, f->name, f->value);
    }
}

/* The messages the engine added to the request (1.9 put them in the request header table). */
static void engine_headers(pp_sbuf_t *b, const apr_table_t *t)
{
    const apr_array_header_t *a = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
    for (int i = 0; i < a->nelts; i++)
        if (e[i].key && e[i].val)
            field_line(b, pp_str_from_cstr(e[i].key), pp_str_from_cstr(e[i].val));
}

static void file_lines(pp_sbuf_t *b, const pp_audit_record_t *r)
{
    const apr_array_header_t *files = r->tx->files;
    for (int i = 0; i < files->nelts; i++) {
        const pp_file_t *f = &APR_ARRAY_IDX(files, i, pp_file_t);
        pp_sbuf_printf(b, "File: %s\n", pp_audit_file_summary(r, f));
    }
}

static void request_body(pp_sbuf_t *b, const pp_audit_record_t *r)
{
    pp_sbuf_printf(b, "%" APR_SIZE_T_FMT, r->body.len);
    if (r->body_synthesised)
        pp_sbuf_str(b, " (multipart fields, urlencoded)");
    if (r->body_truncated)
        pp_sbuf_printf(b, " (truncated; %" APR_OFF_T_FMT " bytes)", r->body_total);
    pp_sbuf_add(b, "\n", 1);
    pp_sbuf_add(b, r->body.data, r->body.len);
    pp_sbuf_add(b, "\n", 1);
}

pp_str_t pp_audit_serial_format(const pp_audit_record_t *r)
{
    const pp_tx_t *tx = r->tx;
    pp_sbuf_t b;
    pp_sbuf_init(&b, r->p, 2048 + r->body.len + r->response_body.len);
    separator(&b, '='); /* the boundary goes in when the content is known (seal) */
    pp_sbuf_str(&b, "UNIQUE_ID: ");
    pp_sbuf_add_safe(&b, pp_str_from_cstr(tx->unique_id));
    pp_sbuf_printf(&b, "\nRequest: %s\nHandler: %s\n", r->summary, r->handler);
    separator(&b, '-');
    pp_sbuf_add_safe(&b, tx->request_line);
    pp_sbuf_add(&b, "\n", 1);
    fields(&b, tx->headers);
    engine_headers(&b, tx->headers_out);
    pp_sbuf_add(&b, "\n", 1);
    if (r->body_logged) {
        request_body(&b, r);
        file_lines(&b, r);
        pp_sbuf_add(&b, "\n", 1);
    } else if (tx->files->nelts) {
        file_lines(&b, r);
        pp_sbuf_add(&b, "\n", 1);
    }
    if (r->response_line) {
        pp_sbuf_add_safe(&b, pp_str_from_cstr(r->response_line));
        pp_sbuf_add(&b, "\n", 1);
        fields(&b, tx->response_headers);
    }
    if (r->response_body_logged) {
        pp_sbuf_printf(&b, "\n%" APR_SIZE_T_FMT "\n", r->response_body.len);
        pp_sbuf_add(&b, r->response_body.data, r->response_body.len);
        pp_sbuf_add(&b, "\n", 1);
    }
    seal(&b);
    return (pp_str_t){ b.data, b.len };
}
