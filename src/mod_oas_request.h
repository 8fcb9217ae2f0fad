/* mod_oauth_as: request input (capped body, form parsing, Basic credentials) and the one
 * place responses are sent from (JSON, OAuth errors, HTML pages, redirects). */
#ifndef MOD_OAS_REQUEST_H
#define MOD_OAS_REQUEST_H

#include "mod_oas_private.h"
#include "oas_conf.h"
#include "oas_consent_txn.h"
#include "oas_dpop.h"
#include "oas_err.h"

/* Reads and parses an application/x-www-form-urlencoded body (POST), at most max bytes.
 * Returns OK with *ptab set, or an HTTP status for transport-level faults (413, 400, 408).
 * A wrong content type, a repeated or malformed parameter gives OK with *ptab NULL and
 * *perr set to a client-safe description (the caller answers invalid_request). */
int oas_mod_read_form(apr_table_t **ptab, const char **perr, request_rec *r, apr_size_t max);

/* Reads a form body without parsing it (content type checked as above). */
int oas_mod_read_form_raw(char **pbody, apr_size_t *plen, const char **perr, request_rec *r,
                          apr_size_t max);
/* A JSON body (Content-Type application/json) of at most max bytes, as oas_mod_read_form_raw
 * reads a form: *perr set (and *pbody NULL) for another content type. */
int oas_mod_read_json(char **pbody, apr_size_t *plen, const char **perr, request_rec *r,
                      apr_size_t max);
/* Parses the query string the same way (repeats and bad escapes refused). */
int oas_mod_query_form(apr_table_t **ptab, const char **perr, request_rec *r);


/* Client credentials from "Authorization: Basic" (RFC 6749 §2.3.1: both parts are
 * form-urlencoded before base64). Returns 0 when there is no Basic header, 1 when parsed,
 * -1 when the header is malformed. */
int oas_mod_basic_credentials(const char **pid, const char **psecret, request_rec *r);

/* What the request carries for DPoP (RFC 9449): its DPoP header (httpd joins repeated ones
 * with ", "), how many there were, and the method; the core fills in the rest. */
void oas_mod_dpop_in(oas_dpop_req_t *in, request_rec *r);

/* Sends nonce (when not NULL) in a DPoP-Nonce header with the answer, error or not. */
void oas_mod_dpop_nonce(request_rec *r, const char *nonce);

/* Sends a body of type ctype with Cache-Control: no-store and Pragma: no-cache. */
int oas_mod_send_nostore(request_rec *r, int status, const char *ctype, const char *body);

/* Sends a JSON body with Cache-Control: no-store and Pragma: no-cache. */
int oas_mod_send_json(request_rec *r, int status, const char *json);

/* Notes the OAuth error code an answer carries (JSON body, redirect or challenge) for the
 * request's metrics; oas_mod_noted_error reads it back (NULL: none). */
void oas_mod_note_error(request_rec *r, const char *error);
const char *oas_mod_noted_error(request_rec *r);

/* Sends an OAuth error (RFC 6749 §5.2). status 401 adds WWW-Authenticate: Basic. */
int oas_mod_send_oauth_error(request_rec *r, int status, const char *error,
                             const char *description);

/* Writes e's detail to the log (at its level, with its backend status) and sets its
 * Retry-After: what every rendering of an error does first. */
void oas_mod_log_err(request_rec *r, const oas_err_t *e);

/* The one rendering of an error value as JSON (RFC 6749 §5.2): oas_mod_log_err, then
 * oas_mod_send_oauth_error. */
int oas_mod_send_err(request_rec *r, const oas_err_t *e);

/* Sends an HTML page with the anti-framing, CSP, no-store and nosniff headers. */
int oas_mod_send_html(request_rec *r, int status, const char *html);

/* Sends the HTML error page used when the client or redirect_uri cannot be trusted. */
int oas_mod_send_error_page(request_rec *r, int status, const char *title, const char *text);

/* The request's Origin and Sec-Fetch-Site headers (NULL when absent) and its own origin
 * (scheme://Host): what the same-site check of our pages' forms compares
 * (oas_consent_same_site). */
void oas_mod_form_site(request_rec *r, const char **porigin, const char **psite,
                       const char **pours);

/* The page of an engine refusal at a user's page (e->page, or a failure of the server):
 * oas_mod_log_err, then an error page titled by what went wrong. */
int oas_mod_send_err_page(request_rec *r, const oas_err_t *e);

/* oas_mod_send_html for a page that loads other sites' pages in iframes: frame_src (CSP
 * source expressions, space-separated; NULL or "" for none) added to the policy. */
int oas_mod_send_html_frames(request_rec *r, int status, const char *html, const char *frame_src);

/* The parameters of a page request (authorize, end-session): GET and POST only (405); HEAD
 * answered with an empty page, changing nothing (a link scanner, a prefetch); the query for
 * GET; the query and the form body for POST (RFC 6749 §3.1: a parameter may not appear twice,
 * not even once in each: *pdup names the first repeat). Returns OK with *pparams set, or the
 * status of what was sent (*pparams NULL). */
int oas_mod_read_params(apr_table_t **pparams, const char **pdup, request_rec *r,
                        const oas_issuer_t *iss);

/* A decision form (consent, sign-out) posted back: its txn, csrf and decision fields, the
 * Origin and Sec-Fetch-Site headers and the origin of this request. */
void oas_mod_decision_form(oas_consent_form_t *f, request_rec *r, const apr_table_t *form);

/* 302 redirect with Cache-Control: no-store. */
int oas_mod_redirect(request_rec *r, const char *location, int status);

/* Sets 405 with Allow for everything but the given methods; returns the status or OK. */
int oas_mod_check_method(request_rec *r, int allow_get, int allow_post);

/* CORS for endpoint ep of iss (oas_cors.h): an allowed origin's answer, errors included,
 * carries Access-Control-Allow-Origin and exposes WWW-Authenticate and DPoP-Nonce; its
 * preflight is answered here (204: returns OK, the request is done). DECLINED: go on. */
int oas_mod_cors(request_rec *r, const oas_issuer_t *iss, oas_endpoint_e ep);

#endif
