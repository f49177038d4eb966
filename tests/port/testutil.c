/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Block layout from the pcapng specification (draft-ietf-opsawg-pcapng):
 * every block is type (4), total length (4), body, total length again (4);
 * an EPB body is interface id, timestamp high and low, captured length,
 * original length, the data padded to 4 bytes, then options, of which
 * epb_flags (code 2, 4 bytes) holds the direction in bits 0-1 (1 inbound,
 * 2 outbound). Host byte order: the files are written on this machine.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define BLOCK_IDB 1u
#define BLOCK_EPB 6u
#define OPT_END   0u
#define EPB_FLAGS 2u
#define EPB_HLEN  28u /* type, length, if, ts hi, ts lo, caplen, len */

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t
get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void
count_epb(const uint8_t *blk, uint32_t len, struct pcapng_counts *c)
{
	uint32_t caplen = get32(blk + 20);
	uint32_t off = EPB_HLEN + ((caplen + 3) & ~3u);
	uint32_t dir = 0;

	while (off + 4 <= len - 4) {
		uint16_t code = get16(blk + off), olen = get16(blk + off + 2);

		if (code == OPT_END)
			break;
		if (code == EPB_FLAGS && olen == 4)
			dir = get32(blk + off + 4);
		off += 4 + ((olen + 3u) & ~3u);
	}
	c->bytes += caplen;
	if ((dir & 3) == 1)
		c->in++;
	else if ((dir & 3) == 2)
		c->out++;
	else
		c->other++;
}

int
pcapng_count(const char *path, struct pcapng_counts *c)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *blk = NULL;
	uint8_t hdr[8];
	int ret = -1;

	memset(c, 0, sizeof(*c));
	if (fp == NULL)
		return -1;
	while (fread(hdr, sizeof(hdr), 1, fp) == 1) {
		uint32_t type = get32(hdr), len = get32(hdr + 4);
		uint8_t *nb;

		if (len < 12 || len % 4 != 0 || len > (1u << 20))
			goto cleanup;
		nb = realloc(blk, len);
		if (nb == NULL)
			goto cleanup;
		blk = nb;
		memcpy(blk, hdr, sizeof(hdr));
		if (fread(blk + 8, len - 8, 1, fp) != 1 || get32(blk + len - 4) != len)
			goto cleanup;
		if (type == BLOCK_EPB) {
			if (len < EPB_HLEN + 4 || get32(blk + 20) > len - EPB_HLEN - 4)
				goto cleanup;
			count_epb(blk, len, c);
		} else if (type == BLOCK_IDB) {
			c->ifaces++;
		}
	}
	ret = feof(fp) ? 0 : -1;
cleanup:
	free(blk);
	fclose(fp);
	return ret;
}

void
eal_runtime_dir_remove(const char *prefix)
{
	const char *base = getuid() == 0 ? "/var/run" : getenv("XDG_RUNTIME_DIR");
	char path[PATH_MAX], file[2 * PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (base == NULL)
		base = "/tmp";
	snprintf(path, sizeof(path), "%s/dpdk/%s", base, prefix);
	d = opendir(path);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		unlink(file);
	}
	closedir(d);
	rmdir(path);
}
