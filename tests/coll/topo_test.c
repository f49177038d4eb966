/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Topology files: the nodes they describe, and a clear error for every
 * malformed one (never a partial layout).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../coll/coll_priv.h"

static int
load_text(const char *text, int size, int *key)
{
	char path[] = "/tmp/coll-topo-XXXXXX";
	int fd = mkstemp(path), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	rc = sx_coll_topo_load(path, size, key);
	unlink(path);
	return rc;
}

static void
test_files(void **state)
{
	int key[6];

	(void)state;
	assert_int_equal(load_text("# two nodes\nnode 3 0\nnode 1 2\n", 4, key), 0);
	assert_int_equal(key[0], 0);
	assert_int_equal(key[3], 0);
	assert_int_equal(key[1], 1);
	assert_int_equal(key[2], 1);
	assert_int_equal(load_text("<cluster><system><cpu><pci><gpu dev='0' rank='1'/></pci>"
				   "<pci><gpu rank='0'/></pci></cpu></system>"
				   "<system><gpu rank='2'/></system></cluster>",
				   3, key),
			 0);
	assert_true(key[0] == 0 && key[1] == 0 && key[2] == 1);
	/* NCCL's own single-node file */
	assert_int_equal(load_text("<system version=\"1\"><cpu><pci><gpu rank=\"0\"/>"
				   "<gpu rank=\"1\"/></pci></cpu></system>",
				   2, key),
			 0);
	assert_true(key[0] == 0 && key[1] == 0);
}

static void
test_bad_files(void **state)
{
	int key[4];

	(void)state;
	assert_int_equal(load_text("node 0 1\nnode 1 2 3\n", 4, key), -EINVAL);  /* twice */
	assert_int_equal(load_text("node 0 1\nnode 2\n", 4, key), -ENOENT);      /* 3 missing */
	assert_int_equal(load_text("node 0 1 2 3 4\n", 4, key), -EINVAL);        /* no rank 4 */
	assert_int_equal(load_text("node 0 x1\n", 4, key), -EINVAL);             /* not a number */
	assert_int_equal(load_text("rack 0 1 2 3\n", 4, key), -EINVAL);          /* unknown line */
	assert_int_equal(load_text("node -1 0 1 2 3\n", 4, key), -EINVAL);
	assert_int_equal(load_text("<system><gpu rank='0'/>", 1, key), -EINVAL); /* unclosed */
	assert_int_equal(load_text("<system><gpu dev='0'/></system>", 1, key), -EINVAL);
	assert_int_equal(load_text("<system><gpu rank='0z'/></system>", 1, key), -EINVAL);
	assert_int_equal(load_text("<system><gpu rank='1'/></system>", 2, key), -ENOENT);
	assert_int_equal(sx_coll_topo_load("/nonexistent/topo.xml", 1, key), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_bad_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
