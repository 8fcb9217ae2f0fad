/* libFuzzer: the shared-memory store driven by the input. Every input formats a fresh small
 * region (8 entries) and runs a sequence of put/put_new/get/take/del/incr on 4 namespaces
 * (two of live records, two of best-effort ones) x 12 keys of different lengths, values of
 * 0..2047 bytes (sometimes over OAS_SHM_MAX_VALUE), in force or already expired. A model of
 * what must be there is checked after every step (a live record is never lost, a best-effort
 * one may be evicted but is never wrong, get/take return exactly what was put, take is
 * single-use, a refused put is counted), and so is oas_shm_store_verify. */
#include "fuzz.h"
#include "oas_store_shm.h"

#define ENTRIES 8
#define NKEYS 12
#define NNS 4

enum { ABSENT = 0, PRESENT, UNKNOWN };
typedef struct {
    int state;
    char *val;
    apr_size_t len;
} slot_t;

static const int ns_of[NNS] = {OAS_NS_CODE, OAS_NS_REQUEST_URI, OAS_NS_CODE_USED,
                               OAS_NS_AUTHFAIL};
static char keys[NKEYS][64];

static apr_uint64_t full_refusals(oas_store_t *st)
{
    oas_shm_usage_t u;

    FUZZ_ASSERT(oas_shm_store_usage(&u, st) == APR_SUCCESS);
    return u.events[OAS_STORE_EV_FULL];
}
static apr_size_t klens[NKEYS];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int i;

    fuzz_init();
    for (i = 0; i < NKEYS; i++) {
        klens[i] = (apr_size_t)snprintf(keys[i], sizeof(keys[i]), "k%d%.*s", i, i * 5,
                                        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
        keys[i][1] = (char)(0x80 + i); /* keys are bytes, not text */
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    apr_size_t sz = oas_shm_store_size_needed(ENTRIES);
    void *base = apr_palloc(p, sz);
    oas_store_t *st;
    slot_t model[NNS][NKEYS];
    apr_time_t now = apr_time_now();
    size_t i = 0;
    int step = 0;

    memset(model, 0, sizeof(model));
    FUZZ_ASSERT(oas_shm_store_format(base, sz, ENTRIES) == APR_SUCCESS);
    FUZZ_ASSERT(oas_shm_store_attach(&st, p, base, sz, NULL) == APR_SUCCESS);
    while (i + 2 <= size && step < 256) {
        uint8_t op = data[i], kb = data[i + 1];
        int nsi = (op >> 3) % NNS, ki = kb % NKEYS, ns = ns_of[nsi];
        slot_t *m = &model[nsi][ki];
        const char *key = keys[ki];
        apr_size_t klen = klens[ki], vlen = 0;
        int expired = (kb & 0x80) != 0;
        int be = oas_store_ns_class(ns) == OAS_STORE_BEST_EFFORT; /* may be evicted */
        char *val, *got = NULL;
        apr_size_t glen = 0;
        apr_status_t rv;

        i += 2;
        step++;
        if ((op & 7) <= 1) { /* put, put_new: two more bytes for the length */
            apr_uint64_t full = full_refusals(st);

            if (i + 2 <= size) {
                vlen = ((apr_size_t)data[i] << 8 | data[i + 1]) % 2048;
                if (data[i] == 0xff)
                    vlen = OAS_SHM_MAX_VALUE + 1;
                i += 2;
            }
            val = apr_palloc(p, vlen + 1);
            memset(val, 'a' + step % 26, vlen);
            if (vlen)
                val[0] = (char)step;
            val[vlen] = '\0';
            if ((op & 7) == 0)
                rv = st->put(st, p, ns, key, klen, val, vlen,
                             expired ? now - apr_time_from_sec(1) : now + apr_time_from_sec(3600));
            else
                rv = st->put_new(st, p, ns, key, klen, val, vlen,
                                 expired ? now - apr_time_from_sec(1)
                                         : now + apr_time_from_sec(3600));
            if (rv == APR_SUCCESS) {
                FUZZ_ASSERT(vlen <= OAS_SHM_MAX_VALUE);
                if ((op & 7) == 1 && !be)
                    FUZZ_ASSERT(m->state != PRESENT);
                m->state = expired ? ABSENT : PRESENT;
                m->val = val;
                m->len = vlen;
            }
            else if (rv == APR_EEXIST) {
                FUZZ_ASSERT((op & 7) == 1 && m->state != ABSENT);
                if (m->state == UNKNOWN)
                    m->state = PRESENT, m->val = NULL; /* live, value unknown */
            }
            else {
                FUZZ_ASSERT(rv == APR_ENOSPC);
                /* a value that fits was refused for want of room: counted */
                FUZZ_ASSERT(vlen > OAS_SHM_MAX_VALUE || full_refusals(st) == full + 1);
                if ((op & 7) == 0 && m->state != ABSENT)
                    m->state = UNKNOWN;
            }
        }
        else if ((op & 7) <= 3) { /* get, take */
            int take = (op & 7) == 3;
            rv = take ? st->take(st, p, ns, key, klen, &got, &glen)
                      : st->get(st, p, ns, key, klen, &got, &glen);
            FUZZ_ASSERT(rv == APR_SUCCESS || rv == APR_NOTFOUND);
            if (m->state == PRESENT && !be)
                FUZZ_ASSERT(rv == APR_SUCCESS);
            if (m->state == ABSENT)
                FUZZ_ASSERT(rv == APR_NOTFOUND);
            if (rv == APR_SUCCESS) {
                FUZZ_ASSERT(got && got[glen] == '\0');
                if (m->state == PRESENT && m->val)
                    FUZZ_ASSERT(glen == m->len && !memcmp(got, m->val, glen));
            }
            if (take)
                m->state = ABSENT;
            else if (rv == APR_NOTFOUND)
                m->state = ABSENT;
        }
        else if ((op & 7) == 4) { /* del */
            rv = st->del(st, p, ns, key, klen);
            FUZZ_ASSERT(rv == APR_SUCCESS || rv == APR_NOTFOUND);
            if (m->state == PRESENT && !be)
                FUZZ_ASSERT(rv == APR_SUCCESS);
            m->state = ABSENT;
        }
        else if ((op & 7) == 6) { /* incr: an absent counter starts at 1 */
            apr_int64_t count = 0;
            rv = st->incr(st, p, ns, key, klen, 1, now + apr_time_from_sec(3600), &count, NULL);
            FUZZ_ASSERT(rv == APR_SUCCESS || rv == APR_ENOSPC);
            if (rv == APR_SUCCESS) {
                FUZZ_ASSERT(count >= 1);
                if (m->state == ABSENT)
                    FUZZ_ASSERT(count == 1);
                m->state = PRESENT;
                m->val = NULL; /* a counter's text: not compared */
            }
            else if (m->state != ABSENT) {
                m->state = UNKNOWN;
            }
        }
        else { /* the same key in another namespace is another entry: nothing to do */
            rv = st->get(st, p, ns_of[(nsi + 1) % NNS], key, klen, &got, &glen);
            FUZZ_ASSERT(rv == APR_SUCCESS || rv == APR_NOTFOUND);
        }
        FUZZ_ASSERT(oas_shm_store_verify(NULL, p, st) == APR_SUCCESS);
    }
    apr_pool_destroy(p);
    return 0;
}
