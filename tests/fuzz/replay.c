/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replays inputs through a fuzz target (wire_fuzz.c or qp_fuzz.c, whichever
 * it is linked with) without libFuzzer, so that any
 * compiler (gcc included) runs the seed corpus and the ICRC vectors through
 * the same checks.
 *
 *   wire_fuzz_replay [-m] PATH...
 *
 * A directory contributes each regular file in it; a file named *.txt is a
 * vector file (tests/vectors format: the last field of each non-comment line
 * is a frame in hex); any other file is one raw input. With -m every input is
 * also fed cut short at each length of its first bytes and with each single
 * bit of its first bytes flipped: a small deterministic mutation pass.
 *
 * Exit status: 0 if every input passed and there was at least one, else 1
 * (a failing check aborts).
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/hex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* How far into each input -m cuts and flips: all headers, some payload. */
#define MUTATE_BYTES 160

struct replay {
	bool mutate;
	size_t inputs;
	size_t runs;
};

static void
run(struct replay *r, const uint8_t *data, size_t len)
{
	uint8_t *copy;
	size_t i, lim;
	unsigned int bit;

	LLVMFuzzerTestOneInput(data, len);
	r->inputs++;
	r->runs++;
	if (!r->mutate || len == 0)
		return;
	lim = len < MUTATE_BYTES ? len : MUTATE_BYTES;
	copy = malloc(len);
	if (copy == NULL) {
		perror("malloc");
		exit(1);
	}
	for (i = 0; i < lim; i++) {
		memcpy(copy, data, i); /* exactly sized: ASan sees overreads */
		LLVMFuzzerTestOneInput(copy, i);
		r->runs++;
	}
	memcpy(copy, data, len);
	for (i = 0; i < lim; i++) {
		for (bit = 0; bit < 8; bit++) {
			copy[i] ^= (uint8_t)(1u << bit);
			LLVMFuzzerTestOneInput(copy, len);
			copy[i] ^= (uint8_t)(1u << bit);
			r->runs++;
		}
	}
	free(copy);
}

static int
replay_vectors(struct replay *r, const char *path, FILE *fp)
{
	char *line = NULL, *hex;
	size_t cap = 0, n;
	ssize_t got;
	uint8_t *buf;
	int rc = 0;

	while (getline(&line, &cap, fp) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		hex = strrchr(line, ' ');
		hex = hex != NULL ? hex + 1 : line;
		n = strlen(hex) / 2 + 1;
		buf = malloc(n);
		if (buf == NULL) {
			rc = -1;
			break;
		}
		got = test_unhex(hex, buf, n);
		if (got < 0) {
			fprintf(stderr, "%s: bad hex\n", path);
			rc = -1;
		} else {
			run(r, buf, (size_t)got);
		}
		free(buf);
		if (rc != 0)
			break;
	}
	free(line);
	return rc;
}

static int
replay_file(struct replay *r, const char *path)
{
	size_t len = strlen(path), n;
	uint8_t *buf = NULL;
	struct stat st;
	int rc = -1;
	FILE *fp;

	fp = fopen(path, "rb");
	if (fp == NULL) {
		perror(path);
		return -1;
	}
	if (len > 4 && strcmp(path + len - 4, ".txt") == 0) {
		rc = replay_vectors(r, path, fp);
		goto out;
	}
	if (fstat(fileno(fp), &st) != 0)
		goto out;
	buf = malloc(st.st_size != 0 ? (size_t)st.st_size : 1);
	if (buf == NULL)
		goto out;
	n = fread(buf, 1, (size_t)st.st_size, fp);
	if (n != (size_t)st.st_size)
		goto out;
	run(r, buf, n);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "%s: cannot replay\n", path);
	free(buf);
	fclose(fp);
	return rc;
}

static int
replay_path(struct replay *r, const char *path)
{
	struct dirent *de;
	struct stat st;
	char sub[4096];
	int rc = 0;
	DIR *d;

	if (stat(path, &st) != 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(r, path);
	d = opendir(path);
	if (d == NULL) {
		perror(path);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (stat(sub, &st) == 0 && S_ISREG(st.st_mode))
			rc = replay_file(r, sub);
	}
	closedir(d);
	return rc;
}

int
main(int argc, char **argv)
{
	struct replay r = {0};
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-m") == 0) {
			r.mutate = true;
			continue;
		}
		if (replay_path(&r, argv[i]) != 0)
			return 1;
	}
	printf("%s: %zu inputs, %zu runs, all passed\n", argv[0], r.inputs, r.runs);
	return r.inputs != 0 ? 0 : 1;
}
