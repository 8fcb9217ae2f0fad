/* mod_oauth_as: jansson values tied to APR pools, strict parsing and typed getters.
 * Every json_t handed out here is owned by a pool; callers never call json_decref. */
#ifndef OAS_JSON_H
#define OAS_JSON_H

#include <jansson.h>

#include "oas.h"

/** Make p own j: json_decref(j) runs when p is cleared or destroyed.
 * @param p the owning pool
 * @param j a new reference (may be NULL)
 * @return j, so that the call can wrap the constructor */
json_t *oas_json_adopt(apr_pool_t *p, json_t *j);

/** Serialize j compactly (JSON_COMPACT is always added, any JSON_INDENT removed).
 * Not for one value from two threads at once (STYLE.md P10).
 * @return a NUL-terminated copy in p, or NULL if jansson fails */
const char *oas_json_dumps(apr_pool_t *p, const json_t *j, size_t flags);

/** Parse len bytes of s as one JSON object (RFC 8259), rejecting duplicate member names,
 * trailing data and NUL bytes.
 * @param pj receives the object, adopted by p
 * @return APR_SUCCESS, or APR_EINVAL when s is not exactly one object */
apr_status_t oas_json_parse(json_t **pj, apr_pool_t *p, const char *s, apr_size_t len);

/** @return the string member key of obj, or NULL when obj is not an object or the member is
 * absent or not a string; the value lives as long as obj */
const char *oas_json_str(const json_t *obj, const char *key);

/** @return the integer member key of obj, or dflt when absent or not an integer */
apr_int64_t oas_json_int(const json_t *obj, const char *key, apr_int64_t dflt);

#endif
