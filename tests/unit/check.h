/* A tiny test harness: each test file is one binary of TEST()s run by
 * main() from RUN(); it prints one line per test and a closing
 * "N passed, N failed" line that tests/run-tests.sh adds up. */
#ifndef MINIVMM_CHECK_H
#define MINIVMM_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed_in_test;
static int check_passed_total, check_failed_total;
static const char *check_file = __FILE__;

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n",	\
				__FILE__, __LINE__, #cond);		\
			check_failed_in_test = 1;			\
		}							\
	} while (0)

#define CHECK_EQ(a, b)							\
	do {								\
		long long _a = (long long)(a), _b = (long long)(b);	\
		if (_a != _b) {						\
			fprintf(stderr, "  %s:%d: %s == %s failed: %lld != %lld\n", \
				__FILE__, __LINE__, #a, #b, _a, _b);	\
			check_failed_in_test = 1;			\
		}							\
	} while (0)

#define TEST(name) static void name(void)

#define RUN(name)							\
	do {								\
		check_failed_in_test = 0;				\
		name();							\
		if (check_failed_in_test) {				\
			check_failed_total++;				\
			printf("FAIL %s\n", #name);			\
		} else {						\
			check_passed_total++;				\
			printf("PASS %s\n", #name);			\
		}							\
	} while (0)

#define CHECK_DONE()							\
	(printf("%d passed, %d failed\n", check_passed_total,		\
		check_failed_total),					\
	 (void)check_file, check_failed_total ? 1 : 0)

#endif
