/*
 * Transformations that replace a value by a fact about it: length (decimal byte count),
 * md5 and sha1 (the RAW binary digest, 16 and 20 bytes, as ModSecurity gives it; CRS follows
 * sha1 with hexEncode).
 */
#include "rules/transforms/transforms.h"

#include <apr_md5.h>
#include <apr_sha1.h>
#include <stdio.h>

apr_status_t pp_tfn_length(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    char *buf = apr_palloc(scratch, 24);
    int n = snprintf(buf, 24, "%" APR_SIZE_T_FMT, in.len);
    return pp_tfn_result(in, buf, (apr_size_t)n, out);
}

apr_status_t pp_tfn_md5(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    char *buf = apr_palloc(scratch, APR_MD5_DIGESTSIZE + 1);
    apr_md5((unsigned char *)buf, in.data, in.len);
    return pp_tfn_result(in, buf, APR_MD5_DIGESTSIZE, out);
}

apr_status_t pp_tfn_sha1(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    char *buf = apr_palloc(scratch, APR_SHA1_DIGESTSIZE + 1);
    apr_sha1_ctx_t ctx;
    apr_sha1_init(&ctx);
    /* apr_sha1_update takes an unsigned int length: feed a huge value in pieces. */
    for (apr_size_t off = 0; off < in.len;) {
        apr_size_t n = in.len - off > (1u << 30) ? (1u << 30) : in.len - off;
        apr_sha1_update_binary(&ctx, (const unsigned char *)in.data + off, (unsigned int)n);
        off += n;
    }
    apr_sha1_final((unsigned char *)buf, &ctx);
    return pp_tfn_result(in, buf, APR_SHA1_DIGESTSIZE, out);
}
