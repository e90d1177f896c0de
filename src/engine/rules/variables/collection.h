/*
 * Collections: TX (per transaction) and the persistent IP, SESSION, USER, GLOBAL and RESOURCE
 * (reference secrule-2.9 §11). Keys compare case-insensitively; an absolute set keeps the
 * spelling it was given; values are text, relative updates use ModSecurity's atoi arithmetic
 * clamped at 0. Everything lives in the pool the collection was made in.
 */
#ifndef PP_COLLECTION_H
#define PP_COLLECTION_H

#include "parapet.h"
#include "util/util.h"

#include <apr_hash.h>
#include <stdint.h>

typedef struct pp_coll_t pp_coll_t;

typedef struct pp_coll_entry_t {
    pp_str_t name;  /* as spelt by the assignment that created or last replaced it */
    pp_str_t value;
    unsigned stamp; /* the collection's clock (pp_coll_clock) when it was last set or removed */
    unsigned pos;   /* its place in the insertion order (pp_coll_stamp_at) */
    const struct pp_coll_key_t *key; /* the prepared key spelt exactly as name, or NULL */
} pp_coll_entry_t;

pp_coll_t *pp_coll_create(apr_pool_t *p, const char *name);
const char *pp_coll_name(const pp_coll_t *c);
/* The entry for key (any case), or NULL. */
const pp_coll_entry_t *pp_coll_get(const pp_coll_t *c, pp_str_t key);
/* key = value (both copied); replaces an entry of any case and takes this spelling. */
void pp_coll_set(pp_coll_t *c, pp_str_t key, pp_str_t value);
/* pp_coll_set with key and value NUL-terminated text that outlives c and never changes (text
 * made in c's pool, a configuration's): used as they are, not copied. */
void pp_coll_set_kept(pp_coll_t *c, pp_str_t key, pp_str_t value);
/* key =+ delta: atoi(current, missing = 0) + atoi(delta), clamped to [0, INT_MAX], stored as
 * decimal; a new entry is spelt key, an existing one keeps its spelling. Returns the result. */
long long pp_coll_add(pp_coll_t *c, pp_str_t key, pp_str_t delta);
/* Removes key; false when there was none. */
bool pp_coll_unset(pp_coll_t *c, pp_str_t key);
unsigned pp_coll_count(const pp_coll_t *c);
/* Entries in insertion order: start with *pos = 0; NULL at the end. */
const pp_coll_entry_t *pp_coll_next(const pp_coll_t *c, int *pos);
/* The same order as an array of *n places, a removed entry's place NULL (valid until the
 * collection next changes): a walk without a call per entry. */
const pp_coll_entry_t *const *pp_coll_places(const pp_coll_t *c, int *n);
/* The collection's clock: how many changes (set, add, unset) it has had; 0 for NULL. */
unsigned pp_coll_clock(const pp_coll_t *c);
/* The stamp of the entry at insertion place pos (pp_coll_entry_t.pos); UINT_MAX once it was
 * removed (a key set again is a new entry at a new place). */
unsigned pp_coll_stamp_at(const pp_coll_t *c, unsigned pos);
/* The clock when the last new key was made (0: none yet, or c is NULL): a key missing at
 * clock T is still missing while this is <= T. */
unsigned pp_coll_added(const pp_coll_t *c);
/* A key folded and hashed once, at start-up (setvar's tx.key, a TX:key target, %{tx.key}), so
 * that a lookup per request only probes. Made in a pool that outlives the collections it is
 * used with (the configuration's): an entry made through it keeps its spelling and folded key
 * by pointer. The *_key functions do what their counterparts above do with key->key. */
typedef struct pp_coll_key_t {
    pp_str_t key;       /* as written, NUL-terminated */
    const char *folded; /* lower-cased (apr_tolower) */
    uint32_t hash;
    /* Answered at start-up, before any request (rules/target.c pp_target_keys_finish), for the
     * first key_rx_n TX:/re/ patterns of the configuration key_rx_set: bit i set when this
     * spelling lacks pattern i's literal needs, so no entry spelt so can match it. */
    const void *key_rx_set;
    unsigned key_rx_n;
    uint64_t key_rx_no;
} pp_coll_key_t;

/* Made in p, and listed in p (pp_coll_keys_made) for the answers above. */
const pp_coll_key_t *pp_coll_key_make(apr_pool_t *p, pp_str_t key);
/* The keys made in p so far (pp_coll_key_t *), or NULL. */
apr_array_header_t *pp_coll_keys_made(apr_pool_t *p);
const pp_coll_entry_t *pp_coll_get_key(const pp_coll_t *c, const pp_coll_key_t *key);
/* value is copied unless value_kept: then it must be NUL-terminated and outlive c (a
 * configuration's literal). */
void pp_coll_set_key(pp_coll_t *c, const pp_coll_key_t *key, pp_str_t value, bool value_kept);
/* key =+ delta where delta is already pp_coll_atoi of the text (no text made for it). */
long long pp_coll_add_key(pp_coll_t *c, const pp_coll_key_t *key, long long delta);
bool pp_coll_unset_key(pp_coll_t *c, const pp_coll_key_t *key);
/* ModSecurity's atoi as pp_coll_add applies it: blanks, a sign, digits, saturated at
 * +-INT_MAX. */
long long pp_coll_atoi(pp_str_t s);

/* Changed since it was made (persistent collections are written back only then). */
bool pp_coll_dirty(const pp_coll_t *c);

/* The transaction's TX collection, made empty at first use. Whoever changes it calls
 * pp_tx_changed(tx, PP_SRC_TX) so cached TX values are read again. */
pp_coll_t *pp_tx_collection(pp_tx_t *tx);

#endif
