/* Common includes for the cmocka unit tests: each test gets a fresh APR pool. */
#ifndef OAS_UNIT_H
#define OAS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_pools.h>

static apr_pool_t *unit_pool;

static int unit_setup(void **state)
{
    apr_pool_create(&unit_pool, NULL);
    *state = unit_pool;
    return 0;
}

static int unit_teardown(void **state)
{
    apr_pool_destroy(unit_pool);
    unit_pool = NULL;
    return 0;
}

#define UNIT_TEST(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

static inline int unit_run(const char *name, const struct CMUnitTest *tests, size_t n)
{
    int rc;
    apr_initialize();
    rc = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
    apr_terminate();
    return rc;
}
#define UNIT_RUN(tests) unit_run(__FILE__, tests, sizeof(tests) / sizeof(tests[0]))

#endif
