/*
 * The rule model, shaped like ModSecurity 2.x: a rule is targets (variables with selectors and
 * exclusions), a transformation pipeline, an operator, actions, a phase and an optional chain.
 * The 1.9 front end (lang/secfilter.c) compiles SecFilter/SecFilterSelective into it; the 2.x
 * SecRule front end will produce the same structures. Everything here lives in the
 * configuration pool and is read-only after start-up.
 */
#ifndef PP_RULES_MODEL_H
#define PP_RULES_MODEL_H

#include "parapet.h"
#include "util/util.h"

typedef struct pp_target_t pp_target_t;
typedef struct pp_rule_t pp_rule_t;

/* ---- Variables ------------------------------------------------------------------------- */

/* One value produced by a variable: the value tested and, for collection members, its name
 * (used in messages and for exclusions). */
typedef struct pp_value_t {
    pp_str_t value;
    pp_str_t name;
    const pp_sketch_t *sketch; /* built by the literal prefilter's second check (rules/eval.c) */
    unsigned checks;           /* literal prefilter checks so far */
    uint64_t excl;             /* PP_EXCL_KNOWN and the bits (pp_exclusion_t.bit) of the
                                * configuration's exclusions that name this value, set where
                                * the value is collected (rules/values.c) */
} pp_value_t;

/* pp_value_t.excl: the bits are known (else each exclusion is tested by name). */
#define PP_EXCL_KNOWN (1ull << 63)
#define PP_EXCL_BITS 63 /* exclusions of a configuration that get a bit */

/* A configuration's exclusions, interned (rules/target.c). */
typedef struct pp_excl_set_t pp_excl_set_t;

typedef enum { PP_SEL_NONE, PP_SEL_OPTIONAL, PP_SEL_REQUIRED } pp_sel_mode_t;

/* Where a variable's values come from, for the value cache (rules/eval.c): each source has a
 * generation in the transaction (pp_tx_t.gen), bumped whenever its data changes, and cached
 * values stamped with an older generation are collected again. So a phase-1 rule on ARGS
 * caches the query arguments, and the phase-2 rules after the body's arguments were appended
 * see them all. PP_SRC_PHASE (0, the default of a row that names none) derives the source
 * from the row's phase: request line and headers are PP_SRC_REQUEST, phase 2 PP_SRC_BODY,
 * phases 3-4 PP_SRC_RESPONSE. */
typedef enum {
    PP_SRC_PHASE,    /* from the row's phase (see above) */
    PP_SRC_REQUEST,  /* request line, headers, connection: fixed once phase 1 starts */
    PP_SRC_ARGS,     /* ARGS*: query arguments, then the body's appended */
    PP_SRC_BODY,     /* the request body and what its processor makes of it */
    PP_SRC_RESPONSE, /* status, response headers and body */
    PP_SRC_TX,       /* the TX collection, MATCHED_VAR(S): changes within a phase */
    PP_SRC_TXCOLL,   /* the TX row: goes stale by the collection's own clock, not a generation
                        (rules/values.c tx_target_values) */
    PP_SRC_VOLATILE, /* never cached (ENV) */
    PP_SRC_COUNT
} pp_var_source_t;

/* Collect the variable's values for target t into out (array of pp_value_t). Values point into
 * transaction memory. */
typedef apr_status_t (*pp_var_collect_fn)(pp_tx_t *tx, const pp_target_t *t,
                                          apr_array_header_t *out);

typedef struct pp_var_def_t {
    const char *name;
    pp_sel_mode_t selector;
    pp_phase_t phase;      /* first phase where the value exists */
    pp_var_collect_fn collect;
    apr_size_t data;       /* collector argument: offset into pp_tx_t, or an enum */
    unsigned flags;        /* PP_VAR_* */
    const char *family;    /* collection the values' names belong to (for exclusions), or NULL */
    const char *help;
    pp_var_source_t source; /* whose generation stamps cached values; rows may omit it */
} pp_var_def_t;

#define PP_VAR_DECODED 1u /* values are already URL-decoded by their parser */
#define PP_VAR_NOCACHE 2u /* may change during a phase (ENV): do not cache */
#define PP_VAR_FULL_NAMES 4u /* value names are whole ("ARGS:a", MATCHED_VARS): no VAR: prefix */

const pp_var_def_t *pp_var_find(const char *name);
/* The row's source, PP_SRC_PHASE resolved. */
pp_var_source_t pp_var_source(const pp_var_def_t *def);
const pp_var_def_t *pp_var_table(apr_size_t *n);

/* ---- Transformation chains (rules/chain.c) --------------------------------------------- */

struct pp_tfn_def_t;

/* A transformation chain, interned per configuration pool into a trie: the empty chain (id 0,
 * depth 0, shared by every pool), or a prefix plus one step. Equal chains built in one pool are
 * the same node, so a chain is identified by its id and its prefixes are nodes too. */
typedef struct pp_chain_t pp_chain_t;
struct pp_chain_t {
    unsigned id;                    /* dense per configuration pool; 0: the empty chain */
    unsigned depth;                 /* number of steps */
    const pp_chain_t *prefix;       /* the chain without its last step (NULL: empty chain) */
    const struct pp_tfn_def_t *tfn; /* the last step, a row of the transformation table... */
    unsigned norm19;                /* ...or (tfn NULL) the 1.9 normaliser with these flags */
    bool cookie19;                  /* that 1.9 step follows SecFilterNormalizeCookies */
};

const pp_chain_t *pp_chain_empty(void);
/* prefix (NULL: empty) followed by def; "none" (no apply function) gives the empty chain. */
const pp_chain_t *pp_chain_append(apr_pool_t *cp, const pp_chain_t *prefix,
                                  const struct pp_tfn_def_t *def);
/* prefix followed by the 1.9 normaliser (PP_N19_* flags); cookie: under SecFilterNormalizeCookies
 * On the step normalises fully. No step is added when it could do nothing. */
const pp_chain_t *pp_chain_append_norm19(apr_pool_t *cp, const pp_chain_t *prefix,
                                         unsigned flags, bool cookie);
/* Chain ids handed out for cp (the empty chain included). Read-only. */
unsigned pp_chain_count(apr_pool_t *cp);
/* Applies c's last step to in (out may be in itself: unchanged). */
void pp_chain_step(const pp_tx_t *tx, apr_pool_t *scratch, const pp_chain_t *c, pp_str_t in,
                   pp_str_t *out);
/* Applies the whole chain (for tests and reference evaluators; the loop goes step by step
 * through its cache). */
void pp_chain_apply(const pp_tx_t *tx, apr_pool_t *scratch, const pp_chain_t *c, pp_str_t in,
                    pp_str_t *out);
/* "urlDecodeUni,lowercase", for messages. */
const char *pp_chain_name(apr_pool_t *p, const pp_chain_t *c);

/* ---- Macro templates (lang/macro.c) ------------------------------------------------------ */

/* Text with %{VAR} / %{COLLECTION.KEY} references (reference secrule-2.9 §10), compiled once
 * into literal parts and (variable row, key) references. */
typedef struct pp_macro_t pp_macro_t;

/* Compiles text (NULL: "") into cp. Never fails: unknown variables expand to "" and an
 * unclosed "%{" is literal text, as in ModSecurity. */
const pp_macro_t *pp_macro_compile(apr_pool_t *cp, const char *text);
/* The same, at start-up only: a text compiled before into cp is not compiled again, its macro
 * is shared (read-only; CRS's ~3,500 tag, msg, logdata and setvar templates are ~600 texts). */
const pp_macro_t *pp_macro_compile_shared(apr_pool_t *cp, const char *text);
bool pp_macro_has_refs(const pp_macro_t *m);
const char *pp_macro_text(const pp_macro_t *m); /* as written */
/* The prepared TX key when the whole text is one %{tx.key} reference (its expansion is that
 * entry's value, or "" without one), else NULL. */
const struct pp_coll_key_t *pp_macro_tx_key(const pp_macro_t *m);
/* The expansion in tx's pool (NUL-terminated; the text itself when it has no references). */
pp_str_t pp_macro_expand(pp_tx_t *tx, const pp_macro_t *m);
/* The first value def produces for key (NULL: no selector), untransformed; false when none. */
bool pp_var_get(pp_tx_t *tx, const pp_var_def_t *def, const char *key, pp_str_t *out);

/* ---- Targets --------------------------------------------------------------------------- */

typedef struct pp_exclusion_t pp_exclusion_t;

struct pp_target_t {
    const pp_var_def_t *var;
    const char *selector;   /* NULL: the whole variable */
    const char *label;      /* location name in messages: THE_REQUEST, HEADER("USER-AGENT") */
    bool label_names_value; /* append ("name") of the value to the label (collections) */
    bool label_colon;       /* a 2.x target: the name is appended as LABEL:name, not
                             * LABEL("name"), and selectors match member names ignoring case */
    const pp_regex_t *key_regex; /* 2.x VAR:/re/: members whose name matches (selector NULL) */
    const char *key_regex_src;   /* its pattern, for interning */
    bool count;             /* 2.x &VAR: one value, the number of values */
    const pp_chain_t *chain; /* transformations applied before matching (NULL: none) */
    bool missing_as_empty;  /* 1.9: an absent variable is tested as "" */
    const char *const *xmlns; /* 2.x XML: the rule's xmlns prefixes (prefix, URI, ..., NULL) */
    const char *xmlns_key;  /* the same as one string, for interning */
    /* Set when interned: */
    unsigned slot;          /* per-transaction cache slot (interned per config pool) */
    pp_var_source_t source; /* pp_var_source(var) */
    const pp_target_t *prefix; /* the same target with chain->prefix (NULL: chain empty) */
    bool direct;            /* a rule tests this target itself (not only as a prefix) */
    unsigned prefix_uses;   /* interned targets whose prefix this one is */
    const pp_excl_set_t *excl_set; /* the configuration's interned exclusions */
    /* TX:key or &TX:key without a transformation: the key folded and hashed once, so the
     * loop reads a rule's only such target straight from TX (rules/eval.c tx_key_value). */
    const struct pp_coll_key_t *tx_key;
    /* TX:/re/: the configuration's number for re (PP_KEY_RX_NONE past PP_KEY_RX_MAX), the bit
     * of a prepared key's start-up answers (pp_coll_key_t.key_rx_no), and the registry that
     * numbered it (answers from another configuration's numbering are not used). */
    unsigned key_rx_bit;
    const void *key_rx_set;
    /* Set at the end of start-up (pp_target_excl_finish): the exclusions of excl_set that
     * apply to this target's variable (pp_exclusion_applies), found when the set had
     * excl_nseen entries; a set that has grown since is searched per collection, as before. */
    const pp_exclusion_t *const *excl_apply;
    unsigned excl_napply, excl_nseen;
};
#define PP_KEY_RX_MAX 64
#define PP_KEY_RX_NONE (~0u)

/* Returns the interned target equal to t (same var, selector, label, chain), allocating it in
 * the configuration pool the first time; the interned copy has its cache slot, and its prefix
 * targets are interned too (their values are the memo of the chain's prefixes). */
const pp_target_t *pp_target_intern(apr_pool_t *cp, const pp_target_t *t);
/* Number of slots handed out so far for the config pool (size of a transaction's cache). */
unsigned pp_target_slot_count(apr_pool_t *cp);
/* At the end of start-up: answers, for every collection key prepared in cp
 * (pp_coll_keys_made), which of the configuration's TX:/re/ patterns its spelling lacks the
 * literal needs of (pp_coll_key_t.key_rx_no); pp_var_tx_coll then skips such an entry with a
 * bit test instead of a search per request. Idempotent; keys made later are left unanswered
 * (searched per request, as before). */
void pp_target_keys_finish(apr_pool_t *cp);
/* At the end of start-up: each interned target of cp gets the exclusions that apply to it
 * (pp_target_t.excl_apply), so collecting its values does not test every exclusion of the
 * configuration against its variable per request. Idempotent. */
void pp_target_excl_finish(apr_pool_t *cp);

/* An exclusion (!ARG_p): values of var with this name are not tested. */
struct pp_exclusion_t {
    const char *family; /* "ARGS", "REQUEST_COOKIES", "REQUEST_HEADERS" */
    const char *name;
    bool icase;         /* header names compare case-insensitively */
    const pp_regex_t *re; /* 2.x !VAR:/re/: names matching it (name is then the pattern) */
    bool by_var;          /* 2.x: family is a variable name (!ARGS:x spares ARGS_NAMES) */
    /* Set by pp_exclusion_intern: equal exclusions of a configuration share one bit, which
     * each collected value carries when the exclusion names it (pp_value_t.excl), so a rule
     * tests a bit where it would run a regex per value. */
    const pp_excl_set_t *set; /* whose bit it is (NULL: not interned) */
    uint64_t bit;             /* 0: past PP_EXCL_BITS, tested by name */
    const pp_var_def_t *var;  /* by_var: the variable's row */
    apr_size_t name_len1;     /* strlen(name) + 1, set by pp_exclusion_intern (0: not set) */
};

/* Gives e its bit in cp's exclusion set (the same for equal exclusions). */
void pp_exclusion_intern(apr_pool_t *cp, pp_exclusion_t *e);
/* r's exclusions (interned), with the mask of their bits when they all have one. */
void pp_rule_set_exclusions(pp_rule_t *r, const pp_exclusion_t *ex, unsigned n);
/* The interned exclusions of s (NULL: none), bit i being entry i. Read-only at run time. */
const pp_exclusion_t *const *pp_excl_set_entries(const pp_excl_set_t *s, unsigned *n);
/* Whether e names name (its regex, or its name). A regex that hits a limit does not. */
bool pp_exclusion_names(pp_tx_t *tx, const pp_exclusion_t *e, pp_str_t name);
/* Whether e applies to t's variable: !VAR:x to VAR itself (2.x), a 1.9 exclusion to its
 * family. */
bool pp_exclusion_applies(const pp_exclusion_t *e, const pp_target_t *t);

/* ---- Operators ------------------------------------------------------------------------- */

typedef const char *(*pp_op_parse_fn)(apr_pool_t *cp, const char *arg, void **compiled);

/* What an operator found, for MATCHED_VAR, `capture` (TX:0-9) and the log's [data]. The
 * caller sets want_captures (the rule has `capture`) and reads the rest only after a match;
 * on a match exec sets data (the part of the value that matched: a regex's whole match, the
 * phrase @pm found; the value itself when the operator has nothing narrower) and ncaptures
 * (0 when it has none; captures[0] is the whole match, 1-9 the groups). Everything points into
 * the value or transaction memory. */
#define PP_OP_CAPTURES 10
typedef struct pp_op_out_t {
    bool want_captures;
    pp_str_t data;
    unsigned ncaptures;
    pp_str_t captures[PP_OP_CAPTURES];
} pp_op_out_t;

/* Runs the operator on one (transformed) value. APR_SUCCESS with *match set, or an error when
 * it could not decide (a regex resource limit): the loop fails closed. */
typedef apr_status_t (*pp_op_exec_fn)(pp_tx_t *tx, const void *compiled, pp_str_t value,
                                      bool *match, pp_op_out_t *out);
/* Literals without which exec cannot report a match (util/rx_literals.c), or NULL. */
typedef const pp_rx_needs_t *(*pp_op_needs_fn)(const void *compiled);

/* The argument parse gets from the expansion of a macro template (rows whose argument
 * ModSecurity expands at run time, reference secrule-2.9 §8.1), allocated in p. */
typedef const char *(*pp_op_expand_fn)(apr_pool_t *p, pp_str_t expanded);

/* ModSecurity 2.9.7's words for a match of the row (reference §8: `String match "abc" at
 * ARGS:a.`), without what follows them ([file] ...); NULL: the generic words. compiled is the
 * argument the operator ran with, arg the argument as written, var the location. */
typedef const char *(*pp_op_words_fn)(apr_pool_t *p, const void *compiled, const char *arg,
                                      pp_str_t value, const pp_op_out_t *out, const char *var);

/* pp_op_def_t.cmp: the constant number comparison a row's exec makes (@eq @gt @ge @lt @le:
 * atoi(value) against atoi(argument)), so that the rule loop can decide one in place
 * (rules/eval.c num_compare) with the same comparison as the exec (operators/strops.c NUM_OP). */
typedef enum { PP_CMP_NONE, PP_CMP_EQ, PP_CMP_GT, PP_CMP_GE, PP_CMP_LT, PP_CMP_LE } pp_num_cmp_t;

static inline bool pp_num_cmp(pp_num_cmp_t k, int n, int a)
{
    switch (k) {
    case PP_CMP_EQ:
        return n == a;
    case PP_CMP_GT:
        return n > a;
    case PP_CMP_GE:
        return n >= a;
    case PP_CMP_LT:
        return n < a;
    case PP_CMP_LE:
        return n <= a;
    default:
        return false;
    }
}

typedef struct pp_op_def_t {
    const char *name;
    pp_op_parse_fn parse;
    pp_op_exec_fn exec;
    pp_op_needs_fn needs; /* NULL: the operator has no literal prefilter */
    const char *help;
    /* NULL: the argument is literal text (%{...} included). Otherwise an argument holding
     * "%{" is a macro template: with references it is expanded per transaction, turned into
     * parse's argument by this function and parsed into the transaction's memory
     * (rules/oparg.c); without, this function's result is parsed once at start-up. exec of
     * such a row must not point out->data or captures into its compiled argument. */
    pp_op_expand_fn expand;
    pp_op_words_fn words; /* NULL: `Matched "Operator ...` */
    /* A start-up warning a rule using the operator gives (it is accepted but cannot do what
     * ModSecurity does), or NULL. */
    const char *warn;
    /* The needs serve the rule index only (rules/index.c): checking them on each value before
     * exec would cost about what exec does (@pm: its own automaton), so the rule loop does not. */
    bool needs_index_only;
    pp_num_cmp_t cmp; /* PP_CMP_NONE but for the number comparisons (see pp_num_cmp) */
    /* Whether exec on this compiled argument decides without its engine, for less than checking
     * the needs costs (@rx over a set of strings: util/regex_exact.c); NULL: never. */
    bool (*exact)(const void *compiled);
} pp_op_def_t;

const pp_op_def_t *pp_op_find(const char *name);
const pp_op_def_t *pp_op_table(apr_size_t *n);

typedef struct pp_operator_t {
    const pp_op_def_t *def;
    void *compiled;    /* NULL when macro is set */
    const char *arg;   /* as written, for messages */
    const char *name;  /* the name as written (2.x: "@STREQ" is found as streq and logged so) */
    const pp_rx_needs_t *needs; /* def->needs(compiled): values lacking them skip exec */
    const pp_macro_t *macro; /* the argument is a template with references (def->expand):
                                compiled per transaction by pp_rule_op_exec, no needs */
    bool negated;
    /* def->exact(compiled): the rule loop runs exec on a value without checking the needs
     * first (the rule index still uses them), unless the rule captures (PCRE2 serves that). */
    bool exact;
} pp_operator_t;

/* ---- Actions --------------------------------------------------------------------------- */

#define PP_TRI_UNSET (-1)

typedef struct pp_kv_t {
    const char *name;
    const char *value;
} pp_kv_t;

/* A parsed action list. Unset fields (-1 / NULL) let merging fall through to the base list. */
/* pause is capped at this many ms (review M2): a client that can trigger a pausing rule must
 * not hold a thread for minutes. Larger values are clamped with a start-up warning
 * (lang/actionlist.c). */
#define PP_PAUSE_MAX_MS 5000

typedef struct pp_actionset_t {
    int disruptive;          /* pp_action_t or PP_TRI_UNSET */
    int status;              /* HTTP status or PP_TRI_UNSET */
    const char *url;         /* redirect / proxy target */
    int log;                 /* tri-state */
    int auditlog;            /* tri-state */
    const char *id, *rev, *msg;
    int severity;            /* 0-7 or PP_TRI_UNSET */
    int pause_ms;            /* PP_TRI_UNSET or milliseconds */
    const char *exec;        /* program path */
    apr_array_header_t *setenv;  /* pp_kv_t, accumulate */
    apr_array_header_t *setnote; /* pp_kv_t, accumulate */
    const char *logparts;
    /* Taken from the rule's own list only. */
    bool chain;
    int skipnext;
    bool mandatory;
} pp_actionset_t;

typedef enum {
    PP_ACAT_DISRUPTIVE, /* deny allow pass redirect proxy */
    PP_ACAT_SECONDARY,  /* status log nolog auditlog noauditlog exec pause setenv setnote ... */
    PP_ACAT_METADATA,   /* id rev msg severity */
    PP_ACAT_FLOW        /* chain skipnext */
} pp_action_cat_t;

typedef enum { PP_AARG_NONE, PP_AARG_ONE, PP_AARG_OPTIONAL } pp_action_arity_t;

typedef const char *(*pp_action_parse_fn)(apr_pool_t *cp, const char *arg, pp_actionset_t *as);

typedef struct pp_action_def_t {
    const char *name;
    pp_action_cat_t category;
    pp_action_arity_t arity;
    bool repeatable;
    pp_action_parse_fn parse;
    const char *help;
} pp_action_def_t;

const pp_action_def_t *pp_action_find(const char *name);
const pp_action_def_t *pp_action_table(apr_size_t *n);

/* "deny,log,status:403,msg:'x y'" → actionset in cp. restricted: keep metadata only (warnings
 * for the rest go to *warning). NULL on success, else the message. */
/* Splits the next "name[:value]" off *s (lang/actionlist.c; both front ends): false at the end
 * or on an error in *err. space_after_colon: blanks after ':' are not part of the value (2.x). */
bool pp_action_item_next(apr_pool_t *p, const char **s, char **name, char **value,
                         const char **err, bool space_after_colon);
const char *pp_actionlist_parse(apr_pool_t *cp, const char *text, bool restricted,
                                pp_actionset_t **out, const char **warning);
pp_actionset_t *pp_actionset_create(apr_pool_t *p);
/* over laid on top of base (either may be NULL); result in p. Flow fields come from over. */
pp_actionset_t *pp_actionset_merge(apr_pool_t *p, const pp_actionset_t *base,
                                   const pp_actionset_t *over);
/* The built-in default when no SecFilterDefaultAction applies: deny,log,status:403. */
const pp_actionset_t *pp_actionset_builtin_default(void);

/* ---- Run-time actions ------------------------------------------------------------------ */

/* An action a rule runs when it matches, once per matching value (reference secrule-2.9 §5.5):
 * a row of the rule's compiled list. The front end compiles the argument at start-up (macro
 * templates included); exec runs it against the transaction, with MATCHED_VAR and TX:0-9 set
 * to the value that matched. */
typedef struct pp_rule_action_t {
    const char *name;
    void (*exec)(pp_tx_t *tx, const void *arg);
    const void *arg;
} pp_rule_action_t;

/* ---- Per-transaction overrides (ctl:) ---------------------------------------------------- */

/* What ctl: actions changed for one transaction. The shared rules and plan stay read-only;
 * the loop consults this before each rule (rules/eval.c). */
typedef struct pp_target_removal_t {
    unsigned ordinal;   /* the rule */
    const char *var;    /* variable name (ARGS), compared with the target's variable or family */
    const char *key;    /* NULL: the whole variable */
} pp_target_removal_t;

typedef struct pp_tx_overrides_t {
    uint64_t *removed;                 /* bitset of removed rules by ordinal */
    unsigned nwords;
    apr_array_header_t *target_removals; /* pp_target_removal_t */
    int engine;                        /* PP_TRI_UNSET, or the engine mode ctl:ruleEngine set */
    /* The rest of ctl: (reference §9.5); PP_TRI_UNSET / NULL / 0: the configuration's. Read
     * through the pp_tx_* accessors of tx.h, never directly by the logs or body code. */
    int audit_engine;                  /* ctl:auditEngine: PP_AUDIT_ON, _OFF, _RELEVANT_ONLY */
    const char *audit_parts;           /* ctl:auditLogParts: the parts now in force */
    int debug_level;                   /* ctl:debugLogLevel: 0-9 */
    int body_access, response_access;  /* ctl:requestBodyAccess / responseBodyAccess: 0 or 1 */
    int force_body_variable;           /* ctl:forceRequestBodyVariable: 0 or 1 */
    apr_int64_t body_limit, response_limit; /* ctl:requestBodyLimit / responseBodyLimit */
} pp_tx_overrides_t;

/* ---- Rules ----------------------------------------------------------------------------- */

/* Consecutive rules of one context that test the same targets with plain (not negated)
 * case-insensitive regexes, no exclusions and no flow actions. At start-up the group gets a
 * check (rules/group.c): the union of the members' literal needs when every member has some
 * (it also says which members may match), else one alternation of their patterns. A benign
 * request then skips the members that cannot fire, usually the whole run. */
typedef struct pp_rule_group_t {
    apr_array_header_t *members; /* pp_rule_t*, in order */
    const pp_regex_t *prefilter; /* NULL: not compiled (yet), or a member cannot be joined */
    const pp_rx_needs_t *needs;  /* every member has literal needs: their union, checked instead */
    const pp_target_t *const *targets; /* the members' (shared) targets */
    unsigned ntargets;
    int size;                          /* members->nelts, read without the indirection */
    bool literal_only;           /* every member so far has literal needs */
    bool finished;
} pp_rule_group_t;

typedef struct pp_rule_t {
    const pp_target_t **targets;
    unsigned ntargets;
    const pp_exclusion_t *exclusions; /* set with pp_rule_set_exclusions */
    unsigned nexclusions;
    const pp_excl_set_t *excl_set;    /* every exclusion has a bit of this set (NULL: not
                                       * all do, each is tested in turn) */
    uint64_t excl_mask;               /* then: their bits */
    pp_operator_t op;
    const pp_actionset_t *own;       /* the rule's own list (NULL when it has none) */
    const pp_actionset_t *bound_default; /* SecFilterDefaultAction in force (NULL: the context's) */
    const pp_actionset_t *signature; /* SecFilterSignatureAction in force, when own != NULL */
    const pp_actionset_t *effective; /* precomputed when bound_default is known */
    pp_phase_t phase;
    pp_rule_t *chain_next;           /* next member of the chain, if own->chain */
    bool chain_member;               /* not the first rule of its chain */
    bool mandatory;
    const char *id;                  /* own->id, for removal/import */
    const char *file;
    int line;
    const char *directive;           /* "SecFilter" / "SecFilterSelective" */
    pp_rule_group_t *group;          /* run of prefilterable rules this one belongs to */
    unsigned ordinal;                /* dense, per configuration pool (pp_rule_register): the
                                        index of per-transaction bitsets (removed rules) */
    /* 2.x (lang/secrule.c): */
    bool lang2;                      /* SecRule / SecAction semantics in the loop */
    bool always;                     /* SecAction: matches once, tests nothing */
    bool capture;                    /* keep the operator's captures as TX:0-9 */
    const struct pp_coll_key_t *const *capture_keys; /* capture: TX:0-9's keys, prepared (one
                                        set per configuration pool) */
    const pp_rule_action_t *run;     /* run per matching value, in order (setvar) */
    unsigned nrun;
    const char *const *tags;
    unsigned ntags;
    const pp_macro_t *logdata;       /* NULL: none */
    const char *marker;              /* SecMarker: its name (the rule tests nothing) */
    const char *skip_after;          /* skipAfter: the marker, resolved in the plan */
    const char *ver, *maturity, *accuracy; /* 2.x metadata, logged; NULL when not given */
    const pp_actionset_t *base;      /* 2.x: the default list `own` was merged with */
    const pp_macro_t *msg_macro;     /* 2.x: own->msg and tags[] compiled once at start-up */
    const pp_macro_t *const *tag_macros;
    int skip;                        /* skip:N (starter): rules/chains skipped after a match */
    bool multi_match;                /* multiMatch: test before each changing transformation */
    /* Start-up columns (pp_rule_tx_finish, rules/eval.c; false until then: the general path):
     * every target is TX:key or &TX:key read straight from TX, no exclusion, no multiMatch;
     * tx_cmp: and the operator a constant number comparison (@eq @gt @ge @lt @le, no macro,
     * no literal needs); tx_step: and a 2.x rule alone (no chain), which the phase loop then
     * decides itself when nothing unusual is in force (rules/eval.c run_tx_step). */
    bool tx_keys_only, tx_cmp, tx_step;
    const pp_macro_t *pause;         /* pause:ms, expanded when the rule intercepts */
    const char *const *xmlns;        /* xmlns: prefix, URI, ..., NULL (NULL: none) */
    const char *xmlns_key;           /* the same as one string (target interning) */
    const char *targets_text;        /* 2.x: its variables as written (JSON audit log) */
    const char *op_text;             /* 2.x: its operator as written (op.arg points into it) */
    const char *actions_text;        /* 2.x: its actions as written (NULL: none) */
} pp_rule_t;

/* The directive as ModSecurity prints it in the audit log's part K and its debug log
 * (secrule-2.9 §14.3), made in p from the texts above when something reads it; NULL for a
 * rule without them (1.9, SecMarker). config/set_rules.c. */
const char *pp_rule_unparsed(apr_pool_t *p, const pp_rule_t *rule);

/* rules/target.c: gives rule its ordinal in cp's configuration (the next free one). Every
 * front end calls it once per rule it makes. */
void pp_rule_register(apr_pool_t *cp, pp_rule_t *rule);
/* Ordinals handed out so far for cp (the size of a per-transaction rule bitset). Read-only. */
unsigned pp_rule_count(apr_pool_t *cp);

/* rules/oparg.c: r's operator on one value, as def->exec with the compiled argument; an
 * argument that is a macro template (r->op.macro) is expanded for this value and parsed into
 * tx's memory, once per rule per transaction while the expansion stays the same. An expansion
 * parse refuses is an error (logged once per text): the loop then fails closed. */
apr_status_t pp_rule_op_exec(pp_tx_t *tx, const pp_rule_t *r, pp_str_t value, bool *match,
                             pp_op_out_t *out);
/* The compiled argument r's operator ran with last in tx (for messages: @rx's pattern as
 * compiled); NULL when a template's expansion was refused or has not run. */
const void *pp_rule_op_compiled(pp_tx_t *tx, const pp_rule_t *r);

/* rules/plan.c: an effective rule list's chains by phase, as (first, last) indices. */
#define PP_PLAN_PHASES (PP_PHASE_LOGGING + 1)

/* rules/index.c: the rule-level prefilter of a plan. For each phase and each interned target
 * that gated 2.x rules test, the literal needs of those rules, joined per 64 members into one
 * union (pp_rx_needs_union); a transaction makes one pass over the target's values per source
 * generation and learns which members a value may match. A rule is gated when every target it
 * tests is indexed (see index.c for which rules qualify): when none of its members' bits is
 * set, it cannot match and the loop skips it without reading its record. */
typedef struct pp_index_ac_t pp_index_ac_t;
typedef struct pp_index_target_t {
    const pp_target_t *target;
    const pp_rx_needs_t *const *chunks; /* chunk k: the union of members 64k .. 64k+63, */
    const pp_index_ac_t *const *acs;    /* or their literals' automaton (one is NULL) */
    unsigned nchunks;
    unsigned nmembers;                  /* gated rules testing it */
    unsigned word;                      /* its first mask word in a transaction's state */
    const struct pp_index_family_t *family; /* the automaton it shares with the other index
                                             * targets of its variable (then chunks and acs
                                             * are NULL), or NULL */
} pp_index_target_t;

typedef struct pp_gate_ref_t {
    unsigned target; /* index target (pp_rule_index_t.targets) */
    unsigned member; /* the rule's member number in it */
    unsigned word;   /* the mask word holding its bit (in a transaction's masks) */
} pp_gate_ref_t;

typedef struct pp_rule_gate_t {
    unsigned ordinal;           /* the starter's, for ctl:ruleRemove* without its record */
    unsigned n;
    const pp_gate_ref_t *refs;  /* one per target of the starter, in the rule's order; for
                                   multiMatch, each followed by its prefix targets' */
} pp_rule_gate_t;

/* A step as the phase-level skip reads it: the target and mask bit (word * 64 + bit) of a gated
 * starter with one target; target PP_WALK_STOP for a step without a gate, PP_WALK_REFS for one
 * with several targets (its refs are read). run: the steps from this one on that test the same
 * target at the next bits of the same mask word (1: this one alone), read with one mask. */
typedef struct pp_walk_ent_t {
    unsigned target;
    unsigned bit;
    unsigned run;
} pp_walk_ent_t;
#define PP_WALK_REFS (~0u - 1)
#define PP_WALK_STOP (~0u)

typedef struct pp_rule_index_t {
    const pp_walk_ent_t *walk[PP_PLAN_PHASES]; /* one per step of the phase */
    const pp_index_target_t *targets;
    unsigned ntargets;
    unsigned nwords;  /* mask words a transaction keeps (every target's chunks) */
    unsigned ngated;  /* rules gated, for tests and the debug log */
    unsigned nfamilies; /* shared automata (pp_index_target_t.family) */
} pp_rule_index_t;

typedef struct pp_plan_step_t {
    int first, last;
    /* The group this chain starts, when the whole group stands here in order and has a check;
     * the loop then checks the group without reading its members' records. */
    const pp_rule_group_t *group;
    /* skipAfter of the chain's starter, resolved: the step after its marker in this phase (the
     * phase's step count when the marker does not follow). */
    int skip_to;
    /* The chain's starter is gated by the plan's index (NULL: it always runs). */
    const pp_rule_gate_t *gate;
    /* The chain is one rule with tx_step (no group): run_steps decides it (run_tx_step). */
    bool tx_step;
    /* A SecMarker: nothing happens there (it only names a place for skipAfter, resolved
     * above), so the loop and the index walk pass over it. */
    bool marker;
} pp_plan_step_t;

typedef struct pp_rule_plan_t {
    const apr_array_header_t *rules; /* the effective list it was made for */
    int nsteps[PP_PLAN_PHASES];
    const pp_plan_step_t *steps[PP_PLAN_PHASES];
    const pp_rule_index_t *index;    /* NULL: no rule is gated (a plan made per request) */
} pp_rule_plan_t;

/* With the rule index: start-up, and a merged configuration's memoised plan. */
const pp_rule_plan_t *pp_rule_plan_build(apr_pool_t *p, const apr_array_header_t *rules);
/* Without it: a plan made for one request, where building the index would cost more than it
 * saves. */
const pp_rule_plan_t *pp_rule_plan_build_light(apr_pool_t *p, const apr_array_header_t *rules);
/* rules/index.c: builds plan's index and sets the gates of its steps (p: the plan's pool). */
void pp_rule_index_build(apr_pool_t *p, pp_rule_plan_t *plan);
/* rules/index.c, per request: PP_GATE_OPEN when the gated rule may match (one of its targets'
 * values holds a literal of its needs), PP_GATE_CLOSED when it cannot, PP_GATE_FAILED when a
 * collector failed (the transaction is intercepted, as it would be by the rule). The targets
 * are read in the rule's order and the first open one ends the check, so the work and the
 * failures are the rule's own. */
typedef enum { PP_GATE_CLOSED, PP_GATE_OPEN, PP_GATE_FAILED } pp_gate_t;
pp_gate_t pp_rule_index_gate(pp_tx_t *tx, const pp_rule_index_t *ix, const pp_rule_gate_t *g,
                             pp_phase_t phase);
/* rules/index.c, per request: the gated steps from s on that cannot match, in one pass (each
 * target's values read once, in the order the step-by-step checks would read them). Returns
 * the first step that is not gated, that its gate lets through (*open: its gate), or that
 * tx->overrides leaves to the rule itself, or n; *failed when a collector failed there (as
 * PP_GATE_FAILED). */
int pp_rule_index_walk(pp_tx_t *tx, const pp_rule_index_t *ix, const pp_plan_step_t *steps,
                       int s, int n, pp_phase_t phase, const pp_rule_gate_t **open, bool *failed);
/* rules/index_family.c, per request, for the gated starter that pp_rule_index_gate just let
 * through: whether each value of its target ti (vals, the array the gate read) holds one of its
 * literals, exactly as pp_rx_needs_met would answer: value i holds one when
 * bits[i * *stride] & *bit. NULL when the index kept no per-value answer for vals (the caller
 * checks the needs itself). */
const uint64_t *pp_rule_index_value_bits(pp_tx_t *tx, const pp_rule_gate_t *g, unsigned ti,
                                         const apr_array_header_t *vals, apr_size_t *stride,
                                         uint64_t *bit);
/* rules/index.c, for tests: a family's transition table (families built from the same
 * members share it). */
const void *pp_rule_index_family_table(const struct pp_index_family_t *f);
/* rules/index.c, for tests: the members of parts[0..n) (n <= 64) one of whose literals value
 * contains, as the index's matcher for a chunk decides: its automaton, or (automaton false)
 * the union's sketch check. ~0 bits when the matcher cannot be built. */
uint64_t pp_rule_index_members(apr_pool_t *p, const pp_rx_needs_t *const *parts, unsigned n,
                               pp_str_t value, bool automaton);

/* rules/group.c: joins rule to the group of prev when they qualify (parse time). */
void pp_rule_group_join(apr_pool_t *cp, pp_rule_t *prev, pp_rule_t *rule);
/* Compiles the prefilters of the groups in a context's own rule list (start-up). */
void pp_rule_groups_finish(apr_pool_t *cp, const apr_array_header_t *rules);
/* rules/eval.c, start-up (before the plan is built): sets the tx_keys_only, tx_cmp and tx_step
 * columns of rules (pp_rule_t*), whose targets and actions are final. */
void pp_rule_tx_finish(const apr_array_header_t *rules);

#endif
