// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dm names (pool/name.c): no two objects, in one pool or in two, ever get the
 * same name, every name fits DM_NAME_LEN, and names without '-' are the ones
 * dmstore 0.1.0 gave.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dm/dm.h"
#include "dms-util.h"
#include "pool/internal.h"

#define LONG_DASHES_64 "a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-"
#define LONG_DASHES_32 "b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-"

static const char *const pools[] = {
	"a", "a-", "a-vol", "a--vol", "a-vol-", "vol", "pool", "x-pool", "a-vol-pool", "9", LONG_DASHES_32,
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
};
static const char *const kinds[] = { "img", "ctr", "vol", "vsnap" };
static const char *const objects[] = {
	"pool", "vol-pool", "a", "vol", "x-", "x--", "x-y", "x--y", "pool-", "9", "a-vol",
	/* Two long names alike but for their end: cut to fit, the ids tell them apart. */
	LONG_DASHES_64, "a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-b-",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	"a-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-",
};

struct parsed {
	char part[4][2 * DMS_DM_NAME_MAX];
	int n;
};

/* The one way a name reads: a pair of '-' is one '-' of a name, a single '-' separates. */
static void parse(const char *dm, struct parsed *p)
{
	size_t k = 0;

	memset(p, 0, sizeof(*p));
	for (const char *c = dm; *c; c++) {
		if (*c == '-' && c[1] == '-') {
			p->part[p->n][k++] = '-';
			c++;
		} else if (*c == '-') {
			assert_true(p->n < 3);
			p->n++;
			k = 0;
		} else {
			p->part[p->n][k++] = *c;
		}
	}
	p->n++;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void reads_back_and_never_collides(void **state)
{
	size_t max = DMS_ARRAY_SIZE(pools) * (1 + DMS_ARRAY_SIZE(kinds) * DMS_ARRAY_SIZE(objects)), n = 0;
	char **all = calloc(max, sizeof(*all));
	int64_t id = 0;

	assert_non_null(all);
	for (size_t p = 0; p < DMS_ARRAY_SIZE(pools); p++) {
		char buf[DMS_DM_NAME_MAX + 1];
		struct parsed got;

		assert_true(dms_pool_name_valid(pools[p]));
		assert_int_equal(dms_pool_dm_name(pools[p], buf, sizeof(buf)), 0);
		parse(buf, &got);
		assert_int_equal(got.n, 3);
		assert_string_equal(got.part[0], "dmstore");
		assert_string_equal(got.part[1], pools[p]);
		assert_string_equal(got.part[2], "pool");
		all[n++] = strdup(buf);

		for (size_t k = 0; k < DMS_ARRAY_SIZE(kinds); k++) {
			for (size_t o = 0; o < DMS_ARRAY_SIZE(objects); o++) {
				char *plus;

				assert_true(dms_name_valid(objects[o]));
				id++;
				assert_int_equal(dms_dm_name(pools[p], kinds[k], objects[o], id, buf, sizeof(buf)), 0);
				assert_true(strlen(buf) <= DMS_DM_NAME_MAX);
				parse(buf, &got);
				assert_int_equal(got.n, 4);
				assert_string_equal(got.part[0], "dmstore");
				assert_string_equal(got.part[1], pools[p]);
				assert_string_equal(got.part[2], kinds[k]);
				plus = strchr(got.part[3], '+');
				if (plus) {
					/* Cut to fit: a prefix of the name, then its catalogue id. */
					assert_true(strlen(buf) > DMS_DM_NAME_MAX - 24);
					assert_int_equal(strtoll(plus + 1, NULL, 10), id);
					*plus = '\0';
					assert_true(strlen(got.part[3]) >= 16);
					assert_memory_equal(got.part[3], objects[o], strlen(got.part[3]));
				} else {
					assert_string_equal(got.part[3], objects[o]);
				}
				all[n++] = strdup(buf);
			}
		}
	}
	qsort(all, n, sizeof(*all), cmp);
	for (size_t i = 0; i + 1 < n; i++)
		assert_string_not_equal(all[i], all[i + 1]);
	for (size_t i = 0; i < n; i++)
		free(all[i]);
	free(all);
}

static void the_issue_and_names_of_before(void **state)
{
	char a[DMS_DM_NAME_MAX + 1], b[DMS_DM_NAME_MAX + 1];

	/* Pool "a"'s volume "pool" and pool "a-vol"'s pool device. */
	assert_int_equal(dms_dm_name("a", "vol", "pool", 1, a, sizeof(a)), 0);
	assert_int_equal(dms_pool_dm_name("a-vol", b, sizeof(b)), 0);
	assert_string_equal(a, "dmstore-a-vol-pool");
	assert_string_equal(b, "dmstore-a--vol-pool");
	/* "a" + "vol-x" against "a-vol" + "x" and "a" + "vol" + "x-". */
	assert_int_equal(dms_dm_name("a", "ctr", "vol-x", 1, a, sizeof(a)), 0);
	assert_string_equal(a, "dmstore-a-ctr-vol--x");
	assert_int_equal(dms_dm_name("a-ctr", "vol", "x", 1, a, sizeof(a)), 0);
	assert_string_equal(a, "dmstore-a--ctr-vol-x");
	/* A name ending in '-': the separator is the odd dash at the end of the run. */
	assert_int_equal(dms_dm_name("a-", "img", "b", 1, a, sizeof(a)), 0);
	assert_string_equal(a, "dmstore-a---img-b");
	/* Without '-', exactly the names of dmstore 0.1.0. */
	assert_int_equal(dms_dm_name("p0", "vsnap", "snap_1.x", 7, a, sizeof(a)), 0);
	assert_string_equal(a, "dmstore-p0-vsnap-snap_1.x");
	assert_int_equal(dms_pool_dm_name("p0", a, sizeof(a)), 0);
	assert_string_equal(a, "dmstore-p0-pool");
}

/* The longest names of all fit: no valid pool and object can be refused for its dm name. */
static void longest_names_fit(void **state)
{
	char pool[DMS_POOL_NAME_MAX + 1], name[DMS_NAME_MAX + 1], buf[DMS_DM_NAME_MAX + 1];

	for (int dashes = 0; dashes < 2; dashes++) {
		for (int i = 0; i < DMS_POOL_NAME_MAX; i++)
			pool[i] = dashes && i > 0 ? '-' : 'p';
		pool[DMS_POOL_NAME_MAX] = '\0';
		for (int i = 0; i < DMS_NAME_MAX; i++)
			name[i] = dashes && i > 0 ? '-' : 'n';
		name[DMS_NAME_MAX] = '\0';
		assert_true(dms_pool_name_valid(pool));
		assert_true(dms_name_valid(name));
		assert_int_equal(dms_pool_dm_name(pool, buf, sizeof(buf)), 0);
		assert_int_equal(dms_dm_name(pool, "vsnap", name, (int64_t)1 << 62, buf, sizeof(buf)), 0);
		assert_true(strlen(buf) <= DMS_DM_NAME_MAX);
		assert_true(!dashes == !strchr(buf, '+'));
	}
	/* Too small a buffer is refused, never cut. */
	assert_int_equal(dms_dm_name("p", "vol", "v", 1, buf, 10), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_back_and_never_collides),
		cmocka_unit_test(the_issue_and_names_of_before),
		cmocka_unit_test(longest_names_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
