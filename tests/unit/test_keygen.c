/* Unit tests for the oauth-as tool's core functions: oas_key_generate (a new key file that
 * oas_key_load takes, mode 0600, never over an existing file) and oas_secret_hash /
 * oas_secret_is_hash (a bcrypt hash apr_password_validate accepts). */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_md5.h>
#include <apr_strings.h>

#include "oas_keys.h"
#include "oas_secret.h"
#include "unit.h"

static char dir[64];

static int make_dir(void **state)
{
    strcpy(dir, "/tmp/oas-keygen-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    return rmdir(dir);
}

static void generate_and_load(apr_pool_t *p, int alg, const char *name)
{
    const char *path = apr_pstrcat(p, dir, "/", name, NULL), *err;
    oas_key_t *k;
    struct stat st;

    assert_int_equal(oas_key_generate(&err, p, path, alg), APR_SUCCESS);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(oas_key_load(&k, &err, p, path, NULL, alg), APR_SUCCESS);
    assert_int_equal(k->alg, alg);
    assert_non_null(strstr(k->jwk_json, k->kid)); /* the thumbprint, published */
    /* a second run never overwrites the key */
    assert_int_equal(oas_key_generate(&err, p, path, alg), APR_EEXIST);
    assert_non_null(strstr(err, "not overwritten"));
    assert_int_equal(oas_key_load(&k, &err, p, path, NULL, alg), APR_SUCCESS);
    assert_int_equal(unlink(path), 0);
}

static void test_keygen_each_alg(void **state)
{
    generate_and_load(*state, OAS_ALG_ES256, "es.pem");
    generate_and_load(*state, OAS_ALG_EDDSA, "ed.pem");
    generate_and_load(*state, OAS_ALG_PS256, "ps.pem");
}

static void test_keygen_rsa_size(void **state)
{
    apr_pool_t *p = *state;
    const char *path = apr_pstrcat(p, dir, "/rs.pem", NULL), *err;
    oas_key_t *k;

    assert_int_equal(oas_key_generate(&err, p, path, OAS_ALG_RS256), APR_SUCCESS);
    assert_int_equal(oas_key_load(&k, &err, p, path, "k1", -1), APR_SUCCESS);
    assert_int_equal(k->alg, OAS_ALG_RS256);
    assert_int_equal(EVP_PKEY_get_bits(k->pkey), OAS_KEYGEN_RSA_BITS);
    assert_string_equal(k->kid, "k1");
    assert_int_equal(unlink(path), 0);
}

static void test_keygen_refused(void **state)
{
    apr_pool_t *p = *state;
    const char *err;

    assert_int_equal(oas_key_generate(&err, p, "/tmp/never.pem", OAS_ALG_HS256), APR_EINVAL);
    assert_int_equal(oas_key_generate(&err, p, "/tmp/never.pem", -1), APR_EINVAL);
    assert_int_not_equal(oas_key_generate(&err, p, "/nonexistent-dir/k.pem", OAS_ALG_ES256),
                         APR_SUCCESS);
    assert_non_null(strstr(err, "cannot create"));
}

static void test_secret_hash(void **state)
{
    apr_pool_t *p = *state;
    const char *h, *h2;

    assert_int_equal(oas_secret_hash(&h, p, "s3cret value", 5), APR_SUCCESS);
    assert_true(oas_secret_is_hash(h));
    assert_int_equal(strncmp(h, "$2y$05$", 7), 0);
    assert_int_equal(apr_password_validate("s3cret value", h), APR_SUCCESS);
    assert_int_not_equal(apr_password_validate("s3cret valuE", h), APR_SUCCESS);
    /* a fresh salt each time */
    assert_int_equal(oas_secret_hash(&h2, p, "s3cret value", 5), APR_SUCCESS);
    assert_string_not_equal(h, h2);
}

static void test_secret_hash_refused(void **state)
{
    apr_pool_t *p = *state;
    char longer[OAS_SECRET_BCRYPT_MAX + 2];
    const char *h;

    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(oas_secret_hash(&h, p, longer, 5), APR_EINVAL); /* bcrypt would cut it */
    assert_null(h);
    longer[OAS_SECRET_BCRYPT_MAX] = '\0';
    assert_int_equal(oas_secret_hash(&h, p, longer, 5), APR_SUCCESS);
    assert_int_equal(oas_secret_hash(&h, p, "", 5), APR_EINVAL);
    assert_int_equal(oas_secret_hash(&h, p, "x", OAS_SECRET_BCRYPT_MIN_COST - 1), APR_EINVAL);
    assert_int_equal(oas_secret_hash(&h, p, "x", OAS_SECRET_BCRYPT_MAX_COST + 1), APR_EINVAL);
}

static void test_secret_is_hash(void **state)
{
    assert_true(oas_secret_is_hash("$2y$10$abc"));
    assert_true(oas_secret_is_hash("$apr1$x$y"));
    assert_true(oas_secret_is_hash("{SHA}abc="));
    assert_true(oas_secret_is_hash("$6$salt$hash"));
    assert_false(oas_secret_is_hash("change-me"));
    assert_false(oas_secret_is_hash("$2x$10$abc"));
    assert_false(oas_secret_is_hash(""));
    assert_false(oas_secret_is_hash(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_keygen_each_alg),     UNIT_TEST(test_keygen_rsa_size),
        UNIT_TEST(test_keygen_refused),      UNIT_TEST(test_secret_hash),
        UNIT_TEST(test_secret_hash_refused), UNIT_TEST(test_secret_is_hash),
    };
    int rc;

    if (make_dir(NULL))
        return 1;
    rc = unit_run("keygen", tests, sizeof(tests) / sizeof(tests[0]));
    remove_dir(NULL);
    return rc;
}
