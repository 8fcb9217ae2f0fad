/* mod_oauth_as: bounded outbound https calls (libcurl): a GET of a document another party
 * publishes (a client's jwks_uri, a client metadata document), for which a caller's request
 * waits, and POSTs of forms (back-channel logout tokens), made in parallel by a background
 * thread. Every step is bounded (connect, whole transfer, body size); nothing follows a
 * redirect. Outbound calls go only to the public internet unless the host is named in
 * OAuthASOutboundAllow (INTERFACE.md, "Precise rules"): the address checked is the one the
 * connection is made to, so a DNS answer that changes between a lookup and the connect
 * (rebinding) cannot lead inside. */
#ifndef OAS_FETCH_H
#define OAS_FETCH_H

#include <sys/socket.h>

#include <apr_tables.h>

#include "oas.h"

#define OAS_FETCH_CONNECT_TIMEOUT_MS 2000
#define OAS_FETCH_TIMEOUT_MS 3000 /* the whole transfer, connect included */
#define OAS_FETCH_MAX_BODY (64 * 1024)

typedef struct oas_fetch_opts_t {
    const char *ca_file;             /* OAuthASCACertificateFile; NULL: the system bundle */
    const apr_array_header_t *allow; /* OAuthASOutboundAllow: hosts (const char *) that may
                                      * resolve outside the public internet; may be NULL */
    int connect_timeout_ms;          /* 0: OAS_FETCH_CONNECT_TIMEOUT_MS */
    int timeout_ms;                  /* 0: OAS_FETCH_TIMEOUT_MS */
    apr_size_t max_body;             /* 0: OAS_FETCH_MAX_BODY */
    apr_int64_t *max_age;            /* when not NULL, receives what the answer's Cache-Control
                                      * says (oas_fetch_max_age; -1: nothing) */
    const apr_uint32_t *cancel;      /* when not NULL and set (read atomically): the transfer
                                      * stops at once (a child exiting) */
} oas_fetch_opts_t;

/* How a caller fetches: oas_fetch_json, or a test's stand-in. */
typedef apr_status_t oas_fetch_fn(char **pbody, apr_size_t *plen, const char **perr, apr_pool_t *p,
                                  const char *url, const oas_fetch_opts_t *o);

/** Once per process, before any thread runs (the glue's post_config): libcurl's global
 * state. Returns APR_EGENERAL when libcurl cannot start. */
apr_status_t oas_fetch_global_init(void);

/** GET url (https only), TLS verified against o->ca_file or the system CAs, no redirects;
 * succeeds only on status 200 with a JSON content type (application/json or a +json type)
 * and a body of at most o->max_body bytes.
 * @param pbody the body, NUL-terminated, in p (*plen its length)
 * @param perr  on failure: why, for the log (the URL's host, never the body)
 * @return APR_SUCCESS; APR_EINVAL (not an https URL); APR_EACCES (every address of the
 *         host is outside the public internet and the host is not allowed); APR_EGENERAL
 *         (connect, TLS, timeout, status, content type, size) */
apr_status_t oas_fetch_json(char **pbody, apr_size_t *plen, const char **perr, apr_pool_t *p,
                            const char *url, const oas_fetch_opts_t *o);

#define OAS_FETCH_STREAM_MAX 64      /* posts under way at once in a stream */
#define OAS_FETCH_STREAM_POLL_MS 100 /* how often a stream asks for new posts meanwhile */

/* One POST of a stream. */
typedef struct oas_fetch_post_t {
    const char *url, *form;    /* in: where, and the encoded form */
    const oas_fetch_opts_t *o; /* in: its outbound policy and limits */
    int status;                /* out: the answer's HTTP status (0: none) */
    const char *err;           /* out: why it failed, for the log (a host, never the form) */
    apr_status_t rv;           /* out: see oas_fetch_post_stream */
} oas_fetch_post_t;

/* Where a stream's posts come from and where they go. */
typedef struct oas_fetch_stream_t {
    /* a post to start now, made in p (which lives until it has ended), or NULL: none */
    oas_fetch_post_t *(*next)(void *baton, apr_pool_t *p);
    /* post has ended: its status, err and rv are set */
    void (*ended)(void *baton, oas_fetch_post_t *post);
    void *baton;
} oas_fetch_stream_t;

/** POSTs every form (application/x-www-form-urlencoded, already encoded) s->next gives, under
 * the rules of oas_fetch_json (https only, verified TLS, the outbound policy, no redirects,
 * time limits; the answer's body read up to o->max_body and dropped), all at once in the
 * calling thread (libcurl's multi interface, at most OAS_FETCH_STREAM_MAX under way): each
 * ends on its own (answer, timeout, its cancel flag) and none waits for another; s->next is
 * asked again every OAS_FETCH_STREAM_POLL_MS meanwhile, so later posts start at once too.
 * A post's rv: APR_SUCCESS when an answer came (whatever its status), else APR_EINVAL,
 * APR_EACCES or APR_EGENERAL as oas_fetch_json's. Returns when nothing is under way and
 * s->next has nothing. */
void oas_fetch_post_stream(const oas_fetch_stream_t *s, apr_pool_t *p);

/** The freshness lifetime one Cache-Control header value gives, in seconds: 0 for no-store or
 * no-cache, else max-age's value (capped at a year), else -1 (nothing said, or unreadable). */
apr_int64_t oas_fetch_max_age(const char *cache_control);

/** 1 when sa (AF_INET or AF_INET6) is outside the public internet: unspecified (0/8, ::),
 * loopback, RFC 1918, CGNAT (100.64/10), link-local, IETF/benchmark/documentation ranges,
 * multicast, reserved (240/4), ULA (fc00::/7), site-local, and the IPv4-mapped,
 * -compatible, NAT64 (64:ff9b::/96) and 6to4 forms of those IPv4 ranges; 1 for any other
 * family. */
int oas_addr_is_internal(const struct sockaddr *sa);

/** 1 when host (a URL's host, IPv6 without brackets) is named in allow (case-insensitive;
 * entries may bracket an IPv6 address). */
int oas_fetch_host_allowed(const apr_array_header_t *allow, const char *host);

#endif
