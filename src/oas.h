/* mod_oauth_as: constants and limits shared by the core and the glue.
 * Core files (src/oas_*.c) include APR, APR-util, OpenSSL and jansson only. */
#ifndef OAS_H
#define OAS_H

#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_time.h>

#define OAS_VERSION "0.2.0"

/* Defaults of INTERFACE.md; they live here and in the config getters only. */
/* OAuthASStoreSize as the issuer keeps it: > 0 entries (a bare number), < 0 minus the region's
 * size in KiB (a size with a unit; at least 64K, so never OAS_UNSET). 128 MiB: see README.md,
 * "Sizing the store". */
#define OAS_STORE_SIZE_KIB(k)         (-(k))
#define OAS_DEFAULT_STORE_SIZE        OAS_STORE_SIZE_KIB(128 * 1024)
#define OAS_DEFAULT_CODE_TTL          60
#define OAS_DEFAULT_REQUEST_URI_TTL   60
#define OAS_DEFAULT_ACCESS_TOKEN_TTL  3600
#define OAS_DEFAULT_REFRESH_TOKEN_TTL 2592000
#define OAS_DEFAULT_ID_TOKEN_TTL      3600
#define OAS_DEFAULT_MAX_BODY          16384
#define OAS_DEFAULT_AUTHFAIL_LIMIT    10
#define OAS_DEFAULT_AUTHFAIL_WINDOW   60
/* issue 14: quotas per window of the longest short-lived lifetime (300 s by default), above
 * what a busy real client, user or address starts, below what fills the store */
#define OAS_DEFAULT_CLIENT_QUOTA      30000
#define OAS_DEFAULT_USER_QUOTA        100
#define OAS_DEFAULT_ADDRESS_QUOTA     1000
#define OAS_DEFAULT_CONSENT_TTL       300 /* seconds a consent page stays answerable */
#define OAS_DEFAULT_SESSION_TTL       86400 /* the AS session (oas_session.h): one day */
#define OAS_DEFAULT_DEVICE_TTL        600 /* seconds a device code lives (RFC 8628 §3.2) */
#define OAS_DEFAULT_DEVICE_INTERVAL   5   /* seconds between polls (RFC 8628 §3.2) */
#define OAS_DEFAULT_RT_GRACE          30 /* FAPI 2.0 SP §5.3.2.1: a retry with the previous RT */
/* OAuthASRegistrationDefaults (oas_reg_policy.h): a registered client lives 90 days (three
 * times the refresh tokens' default, so that an agent in use sees its client outlive several
 * of them; one left behind is gone in a season); at most 1000 registered clients per issuer
 * (Keycloak's anonymous default is 200): records of at most 16 KiB each, so 16 MiB at worst,
 * an eighth of the default store */
#define OAS_DEFAULT_REG_CLIENT_TTL    (90 * 24 * 3600)
#define OAS_DEFAULT_REG_MAX_CLIENTS   1000

/* Limits on outside input. */
#define OAS_MAX_FORM_PAIRS   64      /* parameters in one request */
#define OAS_MAX_VALUE_LEN    8192    /* one decoded parameter value */
#define OAS_TOKEN_BYTES      32      /* 256-bit codes, request_uris, refresh tokens */

#define OAS_REQUEST_URI_PREFIX "urn:ietf:params:oauth:request_uri:"
/* the member of a pushed request's record naming the client that pushed it: the record is
 * otherwise the request's parameters, none of which has this name */
#define OAS_PAR_RECORD_CLIENT "cid"
/* ... and the address its push was counted against (OAuthASAddressQuota), given back when the
 * request_uri is used up */
#define OAS_PAR_RECORD_ADDRESS "qa"

#endif
