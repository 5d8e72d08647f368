// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * apply.c - live policy updates (see apply.h).
 *
 * The order is what makes it atomic and kill-safe:
 *  1. write generation I (inactive) completely: tries, ports, classes, slots,
 *     its metadata; new rows' counter slots zeroed. The program never reads I.
 *  2. switch: picfw_ctl.active = I in one map update. Every packet reads
 *     `active` once, so it is judged by A or by I, whole.
 *  3. wait an RCU grace period (maps_sync): no CPU is still inside A.
 *  4. clear A, then mark it clean (its metadata's generation 0).
 * Killed before 2, A still enforces and I is rewritten by the next apply;
 * killed after 2, I enforces. A next apply that finds the inactive generation
 * not clean waits a grace period before reusing it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "bpffs.h"
#include "clock.h"
#include "log.h"
#include "maps.h"
#include "test_hooks.h"

/* The end of every message of a failure after the lock: nothing was switched. */
#define STILL_ENFORCED " (the previous policy is still enforced)\n"

/* A flow table size is fixed when attach makes the maps: say so when the policy asks another. */
static void flow_sizes_note(const struct picfw_maps *m, const char *ifname,
			    const struct policy_image *img)
{
	uint32_t sizes[PICFW_FLOW_TABLES];
	unsigned t;

	if (maps_flow_sizes(m, sizes))
		return;
	for (t = 0; t < PICFW_TRANSPORTS; t++) {
		uint32_t have = sizes[t == PICFW_TCP ? PICFW_FT_TCP4 : PICFW_FT_UDP4];

		if (have != img->flows[t])
			pr_warn("picfw apply: warning: 'flows %s %u' needs a re-attach; the %s flow "
				"tables of %s keep %u entries until 'picfw detach' and 'picfw attach'\n",
				policy_transport_name(t), img->flows[t], policy_transport_name(t),
				ifname, have);
	}
}

int apply_count_refused(const char *ifname)
{
	struct picfw_maps m;
	int lock, ret;

	ret = maps_open_pinned(ifname, &m);
	if (ret)
		return ret;
	lock = picfw_lock(ifname);
	if (lock < 0) {
		maps_close(&m);
		return lock;
	}
	ret = maps_count_apply(&m, 0, (uint64_t)time(NULL));
	close(lock);
	maps_close(&m);
	return ret;
}

int picfw_apply(const char *ifname, const char *policy_path, const struct policy *p,
		const struct policy_image *img, struct apply_result *res)
{
	static struct picfw_row_meta old_rows[PICFW_MAX_ROWS];
	uint32_t old_slots[PICFW_MAX_ROWS], slots[PICFW_MAX_ROWS], a, in, i, nold;
	uint8_t fresh[PICFW_MAX_ROWS];
	struct picfw_gen_cfg cfg = img->cfg;
	struct picfw_meta meta_a, meta_i;
	uint64_t digest = image_digest(img);
	struct picfw_maps m;
	struct picfw_ctl ctl;
	int lock, ret, clean;
	double t0;
	char *real;

	memset(res, 0, sizeof(*res));
	ret = maps_open_pinned(ifname, &m);
	if (ret == -ENOENT) {
		pr_warn("picfw apply: picfw is not attached to %s\n", ifname);
		return ret;
	}
	if (ret == -EPROTO) { /* what differs is told above */
		pr_warn("picfw apply: the filter on %s is another version's; nothing applied\n",
			ifname);
		return ret;
	}
	if (ret) {
		pr_warn("picfw apply: opening the maps of %s: %s\n", ifname, strerror(-ret));
		return ret;
	}
	lock = picfw_lock(ifname);
	if (lock < 0) {
		pr_warn("picfw apply: locking %s: %s\n", ifname, strerror(-lock));
		maps_close(&m);
		return lock;
	}

	t0 = monotonic_ms();
	ret = maps_read_ctl(&m, &ctl);
	if (ret)
		goto out;
	a = ctl.active & 1;
	in = a ^ 1;
	nold = ctl.gen[a].nrows;
	ret = maps_read_meta(&m, a, &meta_a);
	if (!ret)
		ret = maps_read_meta(&m, in, &meta_i);
	if (!ret && nold > PICFW_MAX_ROWS)
		ret = -EINVAL;
	if (!ret)
		ret = maps_read_slots(&m, a, nold, old_slots);
	if (!ret)
		ret = maps_read_row_meta(&m, a, nold, old_rows);
	if (ret)
		goto out;
	/*
	 * The apply that made `a` active clears `in` and marks it clean (meta
	 * generation 0). If it died first, `in` may still have readers and
	 * stale entries: wait a grace period, and clear it whole below.
	 */
	clean = !meta_i.generation;
	if (!clean) {
		ret = maps_sync(&m);
		if (ret)
			goto out;
	}

	if (img->cfg.replies == PICFW_REPLIES_TRACKED && !meta_a.tc_attached) {
		pr_warn("picfw apply: %s was attached without the TC egress program that tracks "
			"replies; keep 'replies stateless', or detach and attach again" STILL_ENFORCED,
			ifname);
		ret = -EOPNOTSUPP;
		goto out_told;
	}
	flow_sizes_note(&m, ifname, img);
	if (compile_plan_slots(old_rows, old_slots, nold, img, slots, fresh)) {
		pr_warn("picfw apply: no free counter slots (at most %u rows across an update)"
			STILL_ENFORCED, PICFW_MAX_ROWS);
		ret = -ENOSPC;
		goto out_told;
	}
	for (i = 0; i < img->nrows; i++) {
		if (fresh[i]) {
			res->added++;
			/* Not counted on by the active generation: safe to reset. */
			ret = maps_zero_row_counter(&m, slots[i]);
			if (ret)
				goto out;
		} else {
			res->kept++;
		}
	}
	res->removed = nold - res->kept;

	/* 1. The inactive generation, whole. */
	memset(&meta_i, 0, sizeof(meta_i));
	real = realpath(policy_path, NULL);
	snprintf(meta_i.policy_path, sizeof(meta_i.policy_path), "%s", real ? real : policy_path);
	free(real);
	meta_i.attach_time = meta_a.attach_time;
	meta_i.apply_time = (uint64_t)time(NULL);
	meta_i.generation = meta_a.generation + 1;
	meta_i.xdp_mode = meta_a.xdp_mode;
	meta_i.tc_attached = meta_a.tc_attached;
	meta_i.tc_created_qdisc = meta_a.tc_created_qdisc;
	meta_i.nrows = img->nrows;
	memcpy(meta_i.digest, &digest, sizeof(digest));
	if (policy_copy_save(ifname, in, p))
		pr_warn("picfw apply: warning: could not save a copy of the policy in %s\n",
			PICFW_RUN_DIR);
	ret = maps_write_meta(&m, in, &meta_i);
	if (!ret)
		ret = clean ? maps_write_clean_generation(&m, in, img, slots)
			    : maps_write_generation(&m, in, img, slots);
	if (ret)
		goto out;
	test_hook_apply_pause();
	res->write_ms = monotonic_ms() - t0;

	/* 2. The switch, 3. the grace period. */
	t0 = monotonic_ms();
	ret = maps_activate(&m, in, &cfg);
	if (ret)
		goto out;
	test_hook_apply_pause();
	ret = maps_sync(&m);
	if (ret)
		goto out_switched;
	res->switch_ms = monotonic_ms() - t0;
	res->generation = meta_i.generation;

	/* 4. Clear the old generation and mark it clean. */
	t0 = monotonic_ms();
	test_hook_apply_pause();
	ret = maps_clear_generation_used(&m, a, &ctl.gen[a]);
	if (!ret) {
		memset(&meta_a, 0, sizeof(meta_a));
		ret = maps_write_meta(&m, a, &meta_a);
	}
	res->clear_ms = monotonic_ms() - t0;
out_switched:
	/*
	 * After the switch the new policy enforces: a failure from here on is
	 * the cleanup's, which the next apply redoes (it finds the old
	 * generation unclean, waits a grace period and rewrites it whole).
	 */
	if (ret)
		pr_warn("picfw apply: warning: %s enforces %s, but clearing the old generation "
			"failed: %s (the next apply clears it)\n", ifname, policy_path,
			strerror(-ret));
	ret = 0; /* the new policy is applied */
	goto out_told;
out:
	if (ret)
		pr_warn("picfw apply: updating the maps of %s failed: %s" STILL_ENFORCED, ifname,
			strerror(-ret));
out_told:
	/* The outcome, for the exporter (picfw_policy_applies_total); still under the lock. */
	if (maps_count_apply(&m, !ret, (uint64_t)time(NULL)))
		pr_debug("picfw apply: could not count the outcome in picfw_applies\n");
	close(lock);
	maps_close(&m);
	return ret;
}
