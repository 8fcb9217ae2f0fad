/* mod_oauth_as: our section of mod_status's report. One shared-memory store serves every
 * issuer of this httpd (sized by the largest OAuthASStoreSize): its counters are shown once,
 * then the database stores' counters (mod_oas_dbd.c), then each issuer with the stores it
 * uses. */
#include <http_main.h>
#include <http_protocol.h>
#include <mod_status.h>

#include "mod_oas_config.h"
#include "mod_oas_dbd.h"
#include "mod_oas_shm.h"
#include "mod_oas_status.h"
#include "mod_oas_tally.h"
#include "oas_store_shm.h"

static const char *store_kind(int kind)
{
    return kind == OAS_STORE_DBD ? "dbd" : "shm";
}

/* True when an earlier server of the list has the same issuer (vhosts inherit it). */
static int issuer_seen(const server_rec *first, const server_rec *s, const char *issuer)
{
    for (; first && first != s; first = first->next) {
        const oas_issuer_t *iss = oas_mod_issuer(first);
        if (iss->issuer && strcmp(iss->issuer, issuer) == 0)
            return 1;
    }
    return 0;
}

/* The event counters (oas_store_event_e), in order: their ?auto keys and what the page says. */
static const char *const ev_key[OAS_STORE_EV_COUNT] = {
    "Evictions", "FullRefusals", "AuthFailRefusals", "QuotaClientRefusals", "QuotaUserRefusals",
    "QuotaAddrRefusals"};
static const char *const ev_text[OAS_STORE_EV_COUNT] = {
    "best-effort records evicted", "puts refused (live records fill the store)",
    "429s of the brute-force brake", "429s of the client quota", "429s of the user quota",
    "429s of the address quota"};

static void report_shm(request_rec *r, int flags, const oas_shm_usage_t *u)
{
    int i;

    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "OAuthASShmEntries: %u\nOAuthASShmCapacity: %u\n"
                   "OAuthASShmValueBytes: %" APR_SIZE_T_FMT "\n"
                   "OAuthASShmValueCapacity: %" APR_SIZE_T_FMT "\n"
                   "OAuthASShmBytes: %" APR_SIZE_T_FMT "\nOAuthASShmResets: %u\n"
                   "OAuthASShmEntriesLive: %u\nOAuthASShmEntriesBestEffort: %u\n"
                   "OAuthASShmBytesLive: %" APR_SIZE_T_FMT "\n"
                   "OAuthASShmBytesBestEffort: %" APR_SIZE_T_FMT "\n",
                   u->entries, u->capacity, u->value_bytes,
                   (apr_size_t)u->chunks * OAS_SHM_CHUNK_SIZE, u->bytes, u->resets,
                   u->class_entries[OAS_STORE_LIVE], u->class_entries[OAS_STORE_BEST_EFFORT],
                   u->class_bytes[OAS_STORE_LIVE], u->class_bytes[OAS_STORE_BEST_EFFORT]);
        for (i = 0; i < OAS_STORE_EV_COUNT; i++) {
            ap_rprintf(r, "OAuthASShm%s: %" APR_UINT64_T_FMT "\n", ev_key[i], u->events[i]);
        }
        return;
    }
    ap_rprintf(r, "<tr><th>shared-memory store</th><td>%u of %u entries in use (%.1f%%), "
               "values %" APR_SIZE_T_FMT " of %" APR_SIZE_T_FMT " bytes, region %"
               APR_SIZE_T_FMT " bytes, wiped %u times</td></tr>\n",
               u->entries, u->capacity, u->capacity ? 100.0 * u->entries / u->capacity : 0.0,
               u->value_bytes, (apr_size_t)u->chunks * OAS_SHM_CHUNK_SIZE, u->bytes,
               u->resets);
    ap_rprintf(r, "<tr><th>by class</th><td>live: %u entries, %" APR_SIZE_T_FMT " bytes; "
               "best effort: %u entries, %" APR_SIZE_T_FMT " bytes</td></tr>\n",
               u->class_entries[OAS_STORE_LIVE], u->class_bytes[OAS_STORE_LIVE],
               u->class_entries[OAS_STORE_BEST_EFFORT], u->class_bytes[OAS_STORE_BEST_EFFORT]);
    for (i = 0; i < OAS_STORE_EV_COUNT; i++) {
        ap_rprintf(r, "<tr><th>%s</th><td>%" APR_UINT64_T_FMT "</td></tr>\n", ev_text[i],
                   u->events[i]);
    }
}

/* The tally: counters and single-use markers (src/oas_tally.h), walked for this page. */
static void report_tally(request_rec *r, int flags, const oas_tally_t *t)
{
    oas_tally_stats_t u;

    oas_tally_stats(t, apr_time_sec(apr_time_now()), &u);
    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "OAuthASTallyBytes: %" APR_SIZE_T_FMT "\nOAuthASTallySlots: %u\n"
                   "OAuthASTallyMarkers: %u\nOAuthASTallyCounters: %u\n"
                   "OAuthASTallyEvictions: %" APR_UINT64_T_FMT "\n"
                   "OAuthASTallyFullRefusals: %" APR_UINT64_T_FMT "\n"
                   "OAuthASTallyLocksTakenOver: %" APR_UINT64_T_FMT "\n",
                   u.bytes, u.slots, u.live, u.best_effort, u.evicted, u.full, u.stolen);
        return;
    }
    ap_rprintf(r, "<tr><th>counters and single-use markers</th><td>%u markers (live) and %u "
               "counters (best effort) in %u slots, region %" APR_SIZE_T_FMT " bytes; %"
               APR_UINT64_T_FMT " counters evicted, %" APR_UINT64_T_FMT " markers refused "
               "(full), %" APR_UINT64_T_FMT " locks taken over from dead processes</td></tr>\n",
               u.live, u.best_effort, u.slots, u.bytes, u.evicted, u.full, u.stolen);
}

int oas_mod_status_hook(request_rec *r, int flags)
{
    const server_rec *first = ap_server_conf;
    oas_store_t *st = oas_mod_shm_store();
    const server_rec *s;
    int short_form = flags & AP_STATUS_SHORT;
    int n = 0;

    if (!short_form)
        ap_rputs("<hr />\n<h2>mod_oauth_as</h2>\n<table>\n", r);
    if (st) {
        oas_shm_usage_t u;
        apr_status_t rv = oas_shm_store_usage(&u, st);

        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, OAS_LOGNO(00161)
                          "cannot read the counters of the shared-memory store");
        }
        else {
            report_shm(r, flags, &u);
        }
    }
    if (oas_mod_tally())
        report_tally(r, flags, oas_mod_tally());
    oas_mod_dbd_status(r, flags);
    for (s = first; s; s = s->next) {
        const oas_issuer_t *iss = oas_mod_issuer(s);

        if (!iss->issuer || issuer_seen(first, s, iss->issuer))
            continue;
        n++;
        if (short_form) {
            ap_rprintf(r, "OAuthASIssuer%d: %s %s %s\n", n, iss->issuer,
                       store_kind(oas_iss_store_short(iss)), store_kind(oas_iss_store_long(iss)));
        }
        else {
            ap_rprintf(r,
                       "<tr><th>issuer</th><td>%s: short-lived state in %s, long-lived "
                       "in %s</td></tr>\n",
                       ap_escape_html(r->pool, iss->issuer), store_kind(oas_iss_store_short(iss)),
                       store_kind(oas_iss_store_long(iss)));
        }
    }
    if (!short_form)
        ap_rputs("</table>\n", r);
    return OK;
}
