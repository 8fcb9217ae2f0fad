/* mod_oauth_as: a reader for the flat JSON objects of the hot path (store records: grants,
 * pushed requests, tombstones). One pass, no tree: members are listed in an array, nested
 * objects and arrays kept as their raw text. Strict like oas_json_parse (RFC 8259, UTF-8,
 * no duplicate names, no \u0000, nothing after the object). jansson (oas_json.h) stays for
 * everything else. */
#ifndef OAS_JSONR_H
#define OAS_JSONR_H

#include "oas.h"

/* Limits by design (valid JSON that our records never hold, refused by oas_jsonr only):
 * a container at this depth or deeper (the object is depth 0, a container member of it
 * depth 1) ... */
#define OAS_JSONR_MAX_DEPTH 16
/* ... and an object (at any depth) of more members than this */
#define OAS_JSONR_MAX_MEMBERS 256
/* (and a NUL byte anywhere: jansson drops one that follows a number or a literal, reading
 * {"a":1<NUL>} as {"a":1}) */

typedef enum {
    OAS_JSON_STRING,
    OAS_JSON_INT,
    OAS_JSON_TRUE,
    OAS_JSON_FALSE,
    OAS_JSON_NULL,
    OAS_JSON_OBJECT, /* raw text in str */
    OAS_JSON_ARRAY,  /* raw text in str */
    OAS_JSON_NUMBER  /* not an int64 (a fraction, an exponent, too large): raw text in str;
                      * only with OAS_JSONR_NUMBERS */
} oas_jtype_e;

typedef struct {
    const char *key;
    oas_jtype_e type;
    const char *str; /* STRING: decoded, NUL-terminated; OBJECT/ARRAY: the raw JSON text */
    apr_int64_t num; /* INT */
} oas_jmember_t;

typedef struct {
    oas_jmember_t *m;
    int n;
} oas_jobj_t;

/** Parse len bytes of s as one JSON object.
 * @return APR_SUCCESS, or APR_EINVAL for anything that is not exactly one valid object
 * (fractions and exponents are refused too: our records hold integers only) */
apr_status_t oas_jsonr_parse(oas_jobj_t *o, apr_pool_t *p, const char *s, apr_size_t len);

/* oas_jsonr_parse_ex flags */
#define OAS_JSONR_NUMBERS 0x1 /* accept every JSON number (OAS_JSON_NUMBER): JWT claims */

/** oas_jsonr_parse with flags (OAS_JSONR_*). */
apr_status_t oas_jsonr_parse_ex(oas_jobj_t *o, apr_pool_t *p, const char *s, apr_size_t len,
                                unsigned flags);

/** @return the member named key, or NULL */
const oas_jmember_t *oas_jobj_get(const oas_jobj_t *o, const char *key);

/** @return the string member key, or NULL when absent or not a string */
const char *oas_jobj_str(const oas_jobj_t *o, const char *key);

/** @return the integer member key, or dflt when absent or not an integer */
apr_int64_t oas_jobj_int(const oas_jobj_t *o, const char *key, apr_int64_t dflt);

/** @return the raw text of the object member key, or NULL when absent or not an object */
const char *oas_jobj_object(const oas_jobj_t *o, const char *key);

#endif
