/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Topology files: which ranks share a node.
 *
 * 1. NCCL's topology XML (what NCCL_TOPO_FILE reads and NCCL_TOPO_DUMP_FILE
 *    writes): a <system> per node, GPUs as <gpu ... rank="R"/> under
 *    <cpu>/<pci> elements, NICs as <nic><net name=.. dev=../></nic>. NCCL
 *    describes one node per file; several nodes go in one file as several
 *    <system> elements under any root (e.g. <cluster>). Parsed with libxml2.
 *    The NIC under the same PCI switch as a GPU is that rank's rail.
 * 2. A plain config, one node per line: "node <ranks...>", '#' comments.
 *
 * Every rank of the job must appear exactly once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "coll_priv.h"

static int
assign(int *key, int size, long r, int node)
{
	if (r < 0 || r >= size || key[r] != -1)
		return -EINVAL;
	key[r] = node;
	return 0;
}

static int
walk_system(xmlNode *n, int *key, int size, int node)
{
	int rc = 0;

	for (; n != NULL && rc == 0; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcmp(n->name, BAD_CAST "gpu") == 0) {
			xmlChar *r = xmlGetProp(n, BAD_CAST "rank");
			char *end;
			long v;

			if (r == NULL)
				return -EINVAL;
			v = strtol((const char *)r, &end, 10);
			rc = *end == '\0' && end != (char *)r ? assign(key, size, v, node) : -EINVAL;
			xmlFree(r);
		}
		if (rc == 0)
			rc = walk_system(n->children, key, size, node);
	}
	return rc;
}

static int
walk(xmlNode *n, int *key, int size, int *node)
{
	int rc = 0;

	for (; n != NULL && rc == 0; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcmp(n->name, BAD_CAST "system") == 0)
			rc = walk_system(n->children, key, size, (*node)++);
		else
			rc = walk(n->children, key, size, node);
	}
	return rc;
}

static int
load_xml(const char *path, int size, int *key)
{
	xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
						   XML_PARSE_NOWARNING);
	int node = 0, rc;

	if (doc == NULL)
		return -EINVAL;
	rc = walk(xmlDocGetRootElement(doc), key, size, &node);
	xmlFreeDoc(doc);
	return rc;
}

static int
load_config(FILE *f, int size, int *key)
{
	char line[4096];
	int node = 0, rc;

	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = line, *tok, *save = NULL;

		if (strchr(line, '#'))
			*strchr(line, '#') = '\0';
		tok = strtok_r(s, " \t\r\n", &save);
		if (tok == NULL)
			continue;
		if (strcmp(tok, "node") != 0)
			return -EINVAL;
		while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
			char *end;
			long v = strtol(tok, &end, 10);

			if (*end != '\0')
				return -EINVAL;
			rc = assign(key, size, v, node);
			if (rc < 0)
				return rc;
		}
		node++;
	}
	return 0;
}

int
sx_coll_topo_load(const char *path, int size, int *key)
{
	char head[64] = {0};
	FILE *f = fopen(path, "r");
	int r, rc;

	if (f == NULL)
		return -errno;
	for (r = 0; r < size; r++)
		key[r] = -1;
	if (fread(head, 1, sizeof(head) - 1, f) > 0 && strchr(head, '<') != NULL) {
		fclose(f);
		rc = load_xml(path, size, key);
	} else {
		rewind(f);
		rc = load_config(f, size, key);
		fclose(f);
	}
	for (r = 0; rc == 0 && r < size; r++)
		if (key[r] < 0)
			rc = -ENOENT; /* a rank the file does not place */
	return rc;
}
