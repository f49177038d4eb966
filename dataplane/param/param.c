/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "param.h"

bool
sx_param_ok(const struct sx_param *row, double v)
{
	if (!isfinite(v) || v < row->min || v > row->max)
		return false;
	return !(row->flags & SX_PARAM_INT) || v == floor(v);
}

bool
sx_param_table_ok(const struct sx_param *rows, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		const struct sx_param *row = &rows[i];

		if (row->name == NULL || row->name[0] == '\0' || strchr(row->name, '=') ||
		    strlen(row->name) >= SX_PARAM_NAME_MAX || row->unit == NULL ||
		    !(row->min <= row->max) || !sx_param_ok(row, row->def))
			return false;
		for (unsigned int j = 0; j < i; j++)
			if (strcmp(rows[j].name, row->name) == 0)
				return false;
	}
	return true;
}

int
sx_param_index(const struct sx_param *rows, unsigned int n, const char *name)
{
	if (rows == NULL || name == NULL)
		return -1;
	for (unsigned int i = 0; i < n; i++)
		if (strcmp(rows[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int
sx_param_assign(const struct sx_param *rows, unsigned int n, double *values,
		const char *assignment)
{
	char name[SX_PARAM_NAME_MAX];
	const char *eq, *b, *e, *vs;
	char *end;
	double v;
	size_t len;
	int i;

	if (assignment == NULL)
		return -EINVAL;
	eq = strchr(assignment, '=');
	if (eq == NULL)
		return -EINVAL;
	/* The name, without surrounding blanks. */
	for (b = assignment; b < eq && is_blank(*b); b++)
		;
	for (e = eq; e > b && is_blank(e[-1]); e--)
		;
	len = (size_t)(e - b);
	if (len == 0)
		return -EINVAL;
	if (len < sizeof(name))
		memcpy(name, b, len);
	name[len < sizeof(name) ? len : 0] = '\0'; /* too long for any row: -ENOENT below */
	/* The value: one number, nothing but blanks after it. */
	for (vs = eq + 1; is_blank(*vs); vs++)
		;
	if (*vs == '\0')
		return -EINVAL;
	errno = 0;
	v = strtod(vs, &end);
	if (end == vs)
		return -EINVAL;
	while (is_blank(*end))
		end++;
	if (*end != '\0')
		return -EINVAL;
	i = name[0] == '\0' ? -1 : sx_param_index(rows, n, name);
	if (i < 0)
		return -ENOENT;
	if (errno == ERANGE || !sx_param_ok(&rows[i], v))
		return -ERANGE;
	values[i] = v;
	return 0;
}
