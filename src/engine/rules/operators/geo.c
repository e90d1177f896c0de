/*
 * @geoLookup over a MaxMind DB (SecGeoLookupDb, read with Debian's libmaxminddb, memory-mapped
 * and shared read-only by every thread). The value must be an IPv4 or IPv6 address: Parapet
 * never resolves a host name (ModSecurity 2.9.7's legacy GeoIP reader does, with DNS on the
 * request path). A successful lookup fills GEO; a failed one empties it, as in ModSecurity.
 */
#include "rules/operators/operators.h"

#include <apr_strings.h>
#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

struct pp_geo_db_t {
    MMDB_s mmdb;
};

static apr_status_t geo_close(void *data)
{
    MMDB_close(data);
    return APR_SUCCESS;
}

const char *pp_geo_open(apr_pool_t *cp, const char *path, const pp_geo_db_t **out)
{
    pp_geo_db_t *db = apr_pcalloc(cp, sizeof *db);
    errno = 0;
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
    if (rc != MMDB_SUCCESS)
        return apr_psprintf(cp, "cannot open the GeoIP database \"%s\": %s%s%s", path,
                            MMDB_strerror(rc), rc == MMDB_IO_ERROR && errno ? ": " : "",
                            rc == MMDB_IO_ERROR && errno ? strerror(errno) : "");
    apr_pool_cleanup_register(cp, &db->mmdb, geo_close, apr_pool_cleanup_null);
    *out = db;
    return NULL;
}

/* The address in value (an IPv4 dotted quad or an IPv6 address, nothing else, no NUL) as a
 * socket address; false for anything else. */
static bool numeric_address(pp_str_t value, struct sockaddr_storage *ss)
{
    char buf[INET6_ADDRSTRLEN + 1];
    if (value.len == 0 || value.len >= sizeof buf || memchr(value.data, '\0', value.len))
        return false;
    memcpy(buf, value.data, value.len);
    buf[value.len] = '\0';
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        return true;
    }
    return false;
}

static const char *entry_text(apr_pool_t *p, MMDB_entry_s *e, const char *const *path)
{
    MMDB_entry_data_s d;
    if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data)
        return "";
    switch (d.type) {
    case MMDB_DATA_TYPE_UTF8_STRING: return apr_pstrmemdup(p, d.utf8_string, d.data_size);
    case MMDB_DATA_TYPE_DOUBLE: return apr_psprintf(p, "%f", d.double_value);
    case MMDB_DATA_TYPE_FLOAT: return apr_psprintf(p, "%f", (double)d.float_value);
    case MMDB_DATA_TYPE_UINT16: return apr_psprintf(p, "%u", (unsigned)d.uint16);
    case MMDB_DATA_TYPE_UINT32: return apr_psprintf(p, "%u", (unsigned)d.uint32);
    case MMDB_DATA_TYPE_INT32: return apr_psprintf(p, "%d", (int)d.int32);
    default: return "";
    }
}

/* GEO's members in ModSecurity's order, each with where a GeoIP2 City or Country database
 * keeps it and what it is when the record has nothing there (ModSecurity prints its numbers
 * with %f and %d, so 0.000000 and 0). COUNTRY_CODE3 and AREA_CODE have no GeoIP2 field. */
typedef struct geo_member_t {
    const char *name;
    const char *path[5];
    const char *absent;
} geo_member_t;

static const geo_member_t geo_members[] = {
    { "COUNTRY_CODE", { "country", "iso_code", NULL }, "" },
    { "COUNTRY_CODE3", { NULL }, "" },
    { "COUNTRY_NAME", { "country", "names", "en", NULL }, "" },
    { "COUNTRY_CONTINENT", { "continent", "code", NULL }, "" },
    { "REGION", { "subdivisions", "0", "iso_code", NULL }, "" },
    { "CITY", { "city", "names", "en", NULL }, "" },
    { "POSTAL_CODE", { "postal", "code", NULL }, "" },
    { "LATITUDE", { "location", "latitude", NULL }, "0.000000" },
    { "LONGITUDE", { "location", "longitude", NULL }, "0.000000" },
    { "DMA_CODE", { "location", "metro_code", NULL }, "0" },
    { "AREA_CODE", { NULL }, "0" },
};
#define N_GEO_MEMBERS (sizeof geo_members / sizeof geo_members[0])

PP_OP_EXEC(pp_op_geolookup_exec)
{
    *match = false;
    const pp_geo_db_t *db = tx->cfg->geo_db;
    if (!db)
        return APR_SUCCESS; /* no SecGeoLookupDb: ModSecurity's answer is no match */
    struct sockaddr_storage ss;
    MMDB_lookup_result_s res = { .found_entry = false };
    int mmdb_error = MMDB_SUCCESS;
    if (numeric_address(value, &ss))
        res = MMDB_lookup_sockaddr(&db->mmdb, (struct sockaddr *)&ss, &mmdb_error);
    if (mmdb_error != MMDB_SUCCESS || !res.found_entry) {
        if (tx->geo) { /* a failed lookup empties GEO, as ModSecurity's does */
            tx->geo = NULL;
            pp_tx_changed(tx, PP_SRC_TX);
        }
        return APR_SUCCESS;
    }
    apr_array_header_t *geo = apr_array_make(tx->pool, N_GEO_MEMBERS, sizeof(pp_field_t));
    for (apr_size_t i = 0; i < N_GEO_MEMBERS; i++) {
        const geo_member_t *m = &geo_members[i];
        const char *v = m->path[0] ? entry_text(tx->pool, &res.entry, m->path) : "";
        pp_field_t *f = apr_array_push(geo);
        memset(f, 0, sizeof *f);
        f->name = pp_str_from_cstr(m->name);
        f->value = pp_str_from_cstr(*v ? v : m->absent);
    }
    tx->geo = geo;
    pp_tx_changed(tx, PP_SRC_TX);
    *match = true;
    out->data = value;
    return APR_SUCCESS;
}

PP_OP_WORDS(pp_op_geolookup_words)
{
    return apr_psprintf(p, "Geo lookup for \"%s\" succeeded at %s.", pp_ms_log_escape(p, value),
                        var);
}
