/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The live parameter store (params.h has the design and the choice of the
 * QSBR flavor). Writers copy, change and publish; old snapshots go to
 * call_rcu() and are freed after a grace period.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_THREAD__)
#define SX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SX_TSAN 1
#endif
#endif

#ifndef SX_TSAN
#define _LGPL_SOURCE /* inline read side: rcu_quiescent_state() is a load and a compare */
#endif
#include <urcu-qsbr.h> /* the rcu_* names mapped to the QSBR flavor */

#ifdef SX_TSAN
#include <sanitizer/tsan_interface.h>
/*
 * ThreadSanitizer does not see liburcu 0.13's barriers (inline asm and an
 * uninstrumented library). Publication and lookup use the C11 atomics that
 * rcu_assign_pointer()/rcu_dereference() stand for (release store,
 * dependent load), and the grace period is told to TSan as what it is: a
 * reader's quiescent state releases, and the free after the grace period
 * acquires, the same address.
 */
static char tsan_grace;
#define SNAP_PUBLISH(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define SNAP_READ(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define GRACE_RELEASE() __tsan_release(&tsan_grace)
#define GRACE_ACQUIRE() __tsan_acquire(&tsan_grace)
#else
#define SNAP_PUBLISH(p, v) rcu_assign_pointer(p, v)
#define SNAP_READ(p) rcu_dereference(p)
#define GRACE_RELEASE() do { } while (0)
#define GRACE_ACQUIRE() do { } while (0)
#endif

#include "params.h"

/* What call_rcu() frees: the snapshot and its override array. */
struct snap_box {
	struct rcu_head rcu;
	struct sx_param_snap snap;
};

struct sx_param_store {
	struct sx_param_group groups[SX_PARAM_MAX_GROUPS];
	unsigned int ngroups;
	pthread_mutex_t wlock;       /* writers */
	struct snap_box *cur;        /* RCU-protected */
	uint64_t gen;                /* == cur->snap.gen, for a cheap "changed?" */
};

/* Per-thread RCU state: how many contexts this thread drives (registered
 * while > 0) and whether it is online. */
static __thread unsigned int rcu_refs;
static __thread bool rcu_is_online;

void
sx_rcu_reader_get(void)
{
	if (rcu_refs++ == 0) {
		rcu_register_thread(); /* QSBR: registered threads start online */
		rcu_is_online = true;
	}
}

void
sx_rcu_reader_put(void)
{
	if (rcu_refs == 0)
		return;
	if (--rcu_refs == 0) {
		GRACE_RELEASE();
		if (!rcu_is_online)
			rcu_thread_online();
		rcu_unregister_thread();
		rcu_is_online = false;
	}
}

void
sx_rcu_quiescent(void)
{
	if (rcu_refs != 0 && rcu_is_online) {
		GRACE_RELEASE();
		rcu_quiescent_state();
	}
}

void
sx_rcu_offline(void)
{
	if (rcu_refs != 0 && rcu_is_online) {
		GRACE_RELEASE();
		rcu_thread_offline();
		rcu_is_online = false;
	}
}

void
sx_rcu_online(void)
{
	if (rcu_refs != 0 && !rcu_is_online) {
		rcu_thread_online();
		rcu_is_online = true;
	}
}

/*
 * call_rcu() wants a registered, online caller (liburcu rcu-api.md). A
 * writer that is not a reader thread registers for the call; a reader
 * thread that sleeps offline comes online for it.
 */
static void
defer_free(struct rcu_head *head, void (*fn)(struct rcu_head *))
{
	bool reg = rcu_refs == 0, off = rcu_refs != 0 && !rcu_is_online;

	if (reg)
		rcu_register_thread();
	else if (off)
		rcu_thread_online();
	GRACE_RELEASE(); /* the writer's reads of the old version come before its free */
	call_rcu(head, fn);
	if (reg)
		rcu_unregister_thread();
	else if (off)
		rcu_thread_offline();
}

static void
box_free(struct snap_box *b)
{
	if (b == NULL)
		return;
	free(b->snap.ovr);
	free(b);
}

static void
box_free_rcu(struct rcu_head *head)
{
	GRACE_ACQUIRE();
	box_free(caa_container_of(head, struct snap_box, rcu));
}

/* A copy of @p src with room for @p extra more overrides. */
static struct snap_box *
box_copy(const struct snap_box *src, uint32_t extra)
{
	struct snap_box *b = malloc(sizeof(*b));
	uint32_t n = src->snap.novr + extra;

	if (b == NULL)
		return NULL;
	memcpy(&b->snap, &src->snap, sizeof(b->snap));
	b->snap.ovr = NULL;
	if (n > 0) {
		b->snap.ovr = calloc(n, sizeof(*b->snap.ovr));
		if (b->snap.ovr == NULL) {
			free(b);
			return NULL;
		}
		if (src->snap.novr > 0)
			memcpy(b->snap.ovr, src->snap.ovr,
			       src->snap.novr * sizeof(*b->snap.ovr));
	}
	return b;
}

/* Publish @p b (writer lock held) and retire the old version. */
static void
publish(struct sx_param_store *st, struct snap_box *b)
{
	struct snap_box *old = st->cur;

	b->snap.gen = old->snap.gen + 1;
	SNAP_PUBLISH(st->cur, b);
	__atomic_store_n(&st->gen, b->snap.gen, __ATOMIC_RELEASE);
	defer_free(&old->rcu, box_free_rcu);
}

static bool
row_ok(const struct sx_param *row, double v)
{
	if (!(v >= row->min && v <= row->max)) /* also false for NaN */
		return false;
	if ((row->flags & SX_PARAM_INT) && v != floor(v))
		return false;
	return true;
}

struct sx_param_store *
sx_param_store_create(const struct sx_param_group *groups, unsigned int ngroups,
		      const double *const *init)
{
	struct sx_param_store *st;
	struct snap_box *b;

	if (ngroups > SX_PARAM_MAX_GROUPS || (ngroups > 0 && groups == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	for (unsigned int g = 0; g < ngroups; g++)
		if (groups[g].name == NULL || groups[g].n > SX_CC_MAX_PARAMS ||
		    (groups[g].n > 0 && groups[g].rows == NULL)) {
			errno = EINVAL;
			return NULL;
		}
	st = calloc(1, sizeof(*st));
	b = calloc(1, sizeof(*b));
	if (st == NULL || b == NULL) {
		free(st);
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	memcpy(st->groups, groups, ngroups * sizeof(*groups));
	st->ngroups = ngroups;
	for (unsigned int g = 0; g < ngroups; g++) {
		const struct sx_cc_ops *ops = groups[g].cc_ops;

		for (unsigned int i = 0; i < groups[g].n; i++) {
			if (init != NULL && init[g] != NULL)
				b->snap.v[g][i] = init[g][i];
			else if (ops != NULL && ops->npresets > 0)
				b->snap.v[g][i] = ops->presets[0].v[i];
			else
				b->snap.v[g][i] = groups[g].rows[i].def;
		}
	}
	b->snap.gen = 1;
	pthread_mutex_init(&st->wlock, NULL);
	st->cur = b;
	st->gen = 1;
	return st;
}

void
sx_param_store_destroy(struct sx_param_store *st)
{
	bool online = rcu_refs != 0 && rcu_is_online;

	if (st == NULL)
		return;
	/* rcu_barrier() waits for grace periods: a reader thread calling it
	 * must be offline or it would wait for itself. */
	if (online)
		sx_rcu_offline();
	rcu_barrier();
	if (online)
		sx_rcu_online();
	box_free(st->cur);
	pthread_mutex_destroy(&st->wlock);
	free(st);
}

unsigned int
sx_param_store_ngroups(const struct sx_param_store *st)
{
	return st->ngroups;
}

const struct sx_param_group *
sx_param_store_group(const struct sx_param_store *st, unsigned int g)
{
	return g < st->ngroups ? &st->groups[g] : NULL;
}

static int
row_index(const struct sx_param_group *grp, const char *name, size_t len)
{
	for (unsigned int i = 0; i < grp->n; i++)
		if (strlen(grp->rows[i].name) == len && memcmp(grp->rows[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

int
sx_param_lookup(const struct sx_param_store *st, const char *name, unsigned int *g,
		unsigned int *i)
{
	const char *dot;
	int found = 0;

	if (st == NULL || name == NULL)
		return -ENOENT;
	dot = strchr(name, '.');
	for (unsigned int k = 0; k < st->ngroups; k++) {
		const struct sx_param_group *grp = &st->groups[k];
		const char *row = name;
		int idx;

		if (dot != NULL) {
			if (strlen(grp->name) != (size_t)(dot - name) ||
			    memcmp(grp->name, name, (size_t)(dot - name)) != 0)
				continue;
			row = dot + 1;
		}
		idx = row_index(grp, row, strlen(row));
		if (idx < 0)
			continue;
		if (found++ == 0) {
			*g = k;
			*i = (unsigned int)idx;
		}
	}
	if (found == 0)
		return -ENOENT;
	return found == 1 ? 0 : -EINVAL;
}

/* Index of @p qpn's override in @p s, or where it would go (negative - 1). */
static long
ovr_find(const struct sx_param_snap *s, uint32_t qpn)
{
	uint32_t lo = 0, hi = s->novr;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->ovr[mid].qpn == qpn)
			return mid;
		if (s->ovr[mid].qpn < qpn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

int
sx_param_store_set(struct sx_param_store *st, uint32_t qpn, const char *name, double value)
{
	const struct sx_param *row;
	struct snap_box *b;
	unsigned int g, i;
	int rc;

	if (st == NULL)
		return -EINVAL;
	rc = sx_param_lookup(st, name, &g, &i);
	if (rc < 0)
		return rc;
	row = &st->groups[g].rows[i];
	if (qpn != 0 && (row->flags & SX_PARAM_CTX_ONLY))
		return -EINVAL;
	if (!row_ok(row, value))
		return -ERANGE;
	pthread_mutex_lock(&st->wlock);
	if (qpn == 0) {
		b = box_copy(st->cur, 0);
		if (b == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		b->snap.v[g][i] = value;
	} else {
		long k = ovr_find(&st->cur->snap, qpn);
		struct sx_param_override *o;

		if (k < 0 && st->cur->snap.novr >= SX_PARAM_MAX_OVERRIDES) {
			rc = -ENOSPC;
			goto out;
		}
		b = box_copy(st->cur, k < 0 ? 1 : 0);
		if (b == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		if (k < 0) {
			k = -k - 1;
			memmove(&b->snap.ovr[k + 1], &b->snap.ovr[k],
				(b->snap.novr - (uint32_t)k) * sizeof(*b->snap.ovr));
			memset(&b->snap.ovr[k], 0, sizeof(b->snap.ovr[k]));
			b->snap.ovr[k].qpn = qpn;
			b->snap.novr++;
		}
		o = &b->snap.ovr[k];
		o->set[g] |= 1u << i;
		o->v[g][i] = value;
	}
	publish(st, b);
out:
	pthread_mutex_unlock(&st->wlock);
	return rc;
}

int
sx_param_store_unset(struct sx_param_store *st, uint32_t qpn, const char *name)
{
	unsigned int g = 0, i = 0;
	struct snap_box *b;
	long k;
	int rc = 0;

	if (st == NULL || qpn == 0)
		return -EINVAL;
	if (name != NULL && (rc = sx_param_lookup(st, name, &g, &i)) < 0)
		return rc;
	pthread_mutex_lock(&st->wlock);
	k = ovr_find(&st->cur->snap, qpn);
	if (k < 0 || (name != NULL && !(st->cur->snap.ovr[k].set[g] & (1u << i)))) {
		rc = -ENOENT;
		goto out;
	}
	b = box_copy(st->cur, 0);
	if (b == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (name != NULL)
		b->snap.ovr[k].set[g] &= ~(1u << i);
	if (name == NULL || memcmp(b->snap.ovr[k].set, (uint32_t[SX_PARAM_MAX_GROUPS]){0},
				   sizeof(b->snap.ovr[k].set)) == 0) {
		memmove(&b->snap.ovr[k], &b->snap.ovr[k + 1],
			(b->snap.novr - (uint32_t)k - 1) * sizeof(*b->snap.ovr));
		b->snap.novr--;
	}
	publish(st, b);
out:
	pthread_mutex_unlock(&st->wlock);
	return rc;
}

int
sx_param_store_preset(struct sx_param_store *st, const char *preset)
{
	struct snap_box *b;

	if (st == NULL || preset == NULL)
		return -ENOENT;
	for (unsigned int g = 0; g < st->ngroups; g++) {
		const struct sx_cc_ops *ops = st->groups[g].cc_ops;

		if (ops == NULL)
			continue;
		for (unsigned int k = 0; k < ops->npresets; k++) {
			if (strcmp(ops->presets[k].name, preset) != 0)
				continue;
			pthread_mutex_lock(&st->wlock);
			b = box_copy(st->cur, 0);
			if (b == NULL) {
				pthread_mutex_unlock(&st->wlock);
				return -ENOMEM;
			}
			for (unsigned int i = 0; i < ops->nparams; i++)
				b->snap.v[g][i] = ops->presets[k].v[i];
			publish(st, b);
			pthread_mutex_unlock(&st->wlock);
			return 0;
		}
	}
	return -ENOENT;
}

const struct sx_param_override *
sx_param_snap_override(const struct sx_param_snap *snap, uint32_t qpn)
{
	long k = qpn != 0 ? ovr_find(snap, qpn) : -1;

	return k >= 0 ? &snap->ovr[k] : NULL;
}

double
sx_param_snap_value(const struct sx_param_snap *snap, uint32_t qpn, unsigned int g,
		    unsigned int i)
{
	const struct sx_param_override *o = sx_param_snap_override(snap, qpn);

	if (o != NULL && (o->set[g] & (1u << i)))
		return o->v[g][i];
	return snap->v[g][i];
}

int
sx_param_store_get(struct sx_param_store *st, uint32_t qpn, const char *name, double *value,
		   bool *overridden)
{
	const struct sx_param_override *o;
	unsigned int g, i;
	int rc = sx_param_lookup(st, name, &g, &i);

	if (rc < 0)
		return rc;
	/* The writer lock, not RCU: any thread may ask, and a get is rare. */
	pthread_mutex_lock(&st->wlock);
	o = sx_param_snap_override(&st->cur->snap, qpn);
	*value = sx_param_snap_value(&st->cur->snap, qpn, g, i);
	if (overridden != NULL)
		*overridden = o != NULL && (o->set[g] & (1u << i));
	pthread_mutex_unlock(&st->wlock);
	return 0;
}

uint64_t
sx_param_store_gen(const struct sx_param_store *st)
{
	return __atomic_load_n(&st->gen, __ATOMIC_RELAXED);
}

uint64_t
sx_param_store_poll(struct sx_param_store *st, uint64_t seen_gen, sx_param_apply_fn apply,
		    void *arg)
{
	const struct snap_box *b;
	uint64_t gen;

	/* Acquire: the snapshot loaded below is at least this new. */
	if (__atomic_load_n(&st->gen, __ATOMIC_ACQUIRE) == seen_gen)
		return seen_gen;
	rcu_read_lock(); /* QSBR: empty; documents the section */
	b = SNAP_READ(st->cur);
	gen = b->snap.gen;
	/* st->gen is stored after the pointer: it may lag one publish behind
	 * what was applied already. */
	if (gen != seen_gen)
		apply(arg, &b->snap);
	rcu_read_unlock();
	return gen;
}
