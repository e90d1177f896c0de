/*
 * A multipart part's life in the parser (multipart.c finds the delimiters): its header section,
 * collected line by line up to max_header_bytes and understood in multipart_header.c (the
 * Content-Disposition among them), the callbacks that announce it, and its content, which goes
 * to the field value or to file_data. Reference §6.3.
 */
#include <string.h>

#include "body/multipart_int.h"

/* ---- Parts ---------------------------------------------------------------------------------- */

static bool field_append(pp_multipart_t *mp, const char *data, apr_size_t n)
{
    if (n > pp_sbuf_room(&mp->field)) {
        return fail(mp, PP_MP_FIELD_LIMIT_EXCEEDED, "multipart field value over the limit");
    }
    /* Doubling in the part pool wastes at most the final size; the pool dies with the part. */
    pp_sbuf_add(&mp->field, data, n);
    return true;
}

bool pp_mp_emit(pp_multipart_t *mp, const char *data, apr_size_t n)
{
    if (n == 0) {
        return true;
    }
    if (mp->state == ST_PREAMBLE) {
        for (apr_size_t i = 0; i < n && !(mp->flags & PP_MP_DATA_BEFORE); i++) {
            if (data[i] != '\r' && data[i] != '\n') {
                mp->flags |= PP_MP_DATA_BEFORE;
            }
        }
        return true;
    }
    if (!mp->hdr.is_file || mp->hdr.also_field) {
        apr_size_t room = pp_sbuf_room(&mp->field);
        if (n > room && mp->hdr.is_file && room > 0) {
            /* A part that is both a file and a field: the bytes that still fit go to the file
             * too before the limit strikes, so what the callbacks saw never depends on how the
             * body was cut into chunks (fuzz_multipart checks that). */
            if (!pp_mp_emit(mp, data, room)) {
                return false;
            }
            data += room;
            n -= room;
        }
        if (!field_append(mp, data, n)) {
            return false;
        }
        if (!mp->hdr.is_file) {
            return true;
        }
    }
    mp->fsize += (apr_off_t)n;
    return mp->cb.file_data == NULL || cb_ok(mp, mp->cb.file_data(mp->cb.ctx, mp->handle, data, n));
}

static bool end_part(pp_multipart_t *mp)
{
    if (mp->hdr.is_file) {
        if (mp->cb.file_end != NULL &&
            !cb_ok(mp, mp->cb.file_end(mp->cb.ctx, mp->handle, mp->fsize))) {
            return false;
        }
        if (!mp->hdr.also_field) {
            return true;
        }
    }
    pp_str_t value = { mp->field.data, mp->field.len };
    return mp->cb.field == NULL || cb_ok(mp, mp->cb.field(mp->cb.ctx, mp->hdr.name, value));
}

static bool begin_part(pp_multipart_t *mp)
{
    if (++mp->parts > mp->lim.max_parts) {
        return fail(mp, PP_MP_PART_LIMIT_EXCEEDED, "more multipart parts than allowed");
    }
    apr_pool_clear(mp->part_pool);
    memset(&mp->hdr, 0, sizeof(mp->hdr));
    mp->hlen = mp->hline = 0;
    mp->handle = NULL;
    mp->fsize = 0;
    pp_sbuf_init_bounded(&mp->field, mp->part_pool, PP_MP_FIELD_FIRST_BYTES,
                         mp->lim.max_field_bytes);
    mp->state = ST_HEADERS;
    return true;
}

bool pp_mp_at_delimiter(pp_multipart_t *mp, unsigned eol_before, const delim_t *d)
{
    if (mp->state == ST_BODY) {
        if (eol_before == 0) {
            mp->flags |= PP_MP_INVALID_PART; /* "--boundary" straight after the blank line */
        } else {
            note_eol(mp, eol_before);
        }
        if (!end_part(mp)) {
            return false;
        }
    }
    if (d->padded) {
        mp->flags |= PP_MP_BOUNDARY_WHITESPACE;
    }
    if (d->close) {
        mp->state = ST_EPILOGUE;
        return true;
    }
    note_eol(mp, d->eol);
    return begin_part(mp);
}

static bool end_headers(pp_multipart_t *mp)
{
    pp_str_t raw = { mp->hbuf, mp->hline };
    mp->flags |= pp_multipart_header_parse(mp->part_pool, raw, &mp->hdr);
    if (!mp->hdr.has_cd) {
        return fail(mp, PP_MP_MALFORMED_CD, "multipart part without Content-Disposition");
    }
    mp->state = ST_BODY;
    mp->bol = true;
    if (mp->cb.part_headers != NULL &&
        !cb_ok(mp, mp->cb.part_headers(mp->cb.ctx, mp->hdr.name,
                                       mp->hdr.is_file ? mp->hdr.filename : (pp_str_t){ NULL, 0 },
                                       raw))) {
        return false;
    }
    if (mp->hdr.is_file && mp->cb.file_begin != NULL) {
        return cb_ok(mp, mp->cb.file_begin(mp->cb.ctx, mp->hdr.name, mp->hdr.filename,
                                           mp->hdr.content_type, &mp->handle));
    }
    return true;
}

/* ---- The header section --------------------------------------------------------------------- */

/* A complete header line is at hbuf[hline, hlen). */
static void header_line(pp_multipart_t *mp)
{
    const char *line = mp->hbuf + mp->hline;
    apr_size_t n = mp->hlen - mp->hline;
    unsigned eol = (n >= 2 && line[n - 2] == '\r') ? EOL_CRLF : EOL_LF, flag = 0;
    delim_t d;

    note_eol(mp, eol);
    if (n == (eol == EOL_CRLF ? 2u : 1u)) {
        end_headers(mp);
        return;
    }
    if (line[0] == '-' && pp_mp_delim_check(mp, line, line + n, true, &d, &flag) == D_YES) {
        /* A part that never reached its blank line: dropped, and the body is ambiguous. */
        mp->flags |= PP_MP_INVALID_PART;
        pp_mp_at_delimiter(mp, 0, &d);
        return;
    }
    mp->flags |= flag;
    mp->hline = mp->hlen;
}

apr_size_t pp_mp_feed_headers(pp_multipart_t *mp, const char *buf, apr_size_t len)
{
    const char *p = buf, *end = buf + len;
    while (p < end && mp->state == ST_HEADERS) {
        const char *nl = memchr(p, '\n', (apr_size_t)(end - p));
        apr_size_t take = (apr_size_t)((nl ? nl + 1 : end) - p);
        if (take > mp->lim.max_header_bytes - mp->hlen) {
            fail(mp, PP_MP_OVERSIZED_HEADER, "multipart part headers over the limit");
            return len;
        }
        memcpy(mp->hbuf + mp->hlen, p, take);
        mp->hlen += take;
        p += take;
        if (nl != NULL) {
            header_line(mp);
        }
    }
    return (apr_size_t)(p - buf);
}
