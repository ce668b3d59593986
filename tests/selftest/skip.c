// SPDX-License-Identifier: LGPL-2.1-or-later
/* One skipped case and one passing one: tests/selftest/run-unit checks the runner counts them as such. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

static void test_skipped(void **state)
{
	skip();
}

static void test_passes(void **state)
{
	assert_true(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skipped),
		cmocka_unit_test(test_passes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
