// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * droplog_nearest.c - the policy `picfw log` names nearest rows from (see
 * droplog.h): the copy of the active generation's policy that attach and
 * apply keep in /run/picfw, trusted only when it is the policy that judged
 * the packet.
 *
 * A copy is taken for epoch E when (1) picfw_ctl names generation G active
 * with epoch E, (2) the copy of G passes the checks a policy file gets
 * (policy_file_open, in a 0700 directory of ours) and compiles to the digest
 * picfw_meta[G] holds (a copy left from an older apply, when writing the new
 * one failed, does not), and (3) picfw_ctl still names G with epoch E after
 * all that: no activation in between, so neither G's copy nor its meta can
 * have been rewritten (apply writes only the inactive generation's).
 * Epochs only grow, so a record of epoch E was judged by exactly that policy.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile.h"
#include "droplog.h"
#include "log.h"
#include "maps.h"
#include "policy_copy.h"
#include "policy_file.h"

void droplog_nearest_init(struct droplog_nearest *dn, const struct picfw_maps *m,
			  const char *ifname)
{
	memset(dn, 0, sizeof(*dn));
	dn->m = m;
	dn->ifname = ifname;
}

static void drop_policy(struct droplog_nearest *dn)
{
	if (!dn->nf)
		return;
	nearest_free(dn->nf);
	policy_free(&dn->p);
	dn->nf = NULL;
	dn->epoch = 0;
}

void droplog_nearest_free(struct droplog_nearest *dn)
{
	drop_policy(dn);
}

/* Take the active generation's copy (see the top). 0, or -1 with why. */
static int load(struct droplog_nearest *dn, char *why, size_t len)
{
	struct picfw_ctl before, after;
	char path[PICFW_PATH_LEN];
	struct nearest_finder *nf;
	struct picfw_meta meta;
	struct policy p;
	uint64_t digest;
	uint32_t gen;
	int ret;

	ret = maps_read_ctl(dn->m, &before);
	gen = before.active & 1;
	if (!ret)
		ret = maps_read_meta(dn->m, gen, &meta);
	if (ret) {
		snprintf(why, len, "reading the pins of %s: %s", dn->ifname, strerror(-ret));
		return -1;
	}
	if (policy_copy_path(dn->ifname, gen, path, sizeof(path))) {
		snprintf(why, len, "no policy copy for %s", dn->ifname);
		return -1;
	}
	if (policy_copy_load(path, &p, &digest, why, len))
		return -1;
	if (memcmp(meta.digest, &digest, sizeof(digest))) {
		snprintf(why, len, "%s is not the policy %s enforces (a copy left from an "
			 "earlier apply?)", path, dn->ifname);
		policy_free(&p);
		return -1;
	}
	ret = maps_read_ctl(dn->m, &after);
	if (ret || (after.active & 1) != gen || after.gen[gen].epoch != before.gen[gen].epoch) {
		snprintf(why, len, "%s applied a policy while its copy was read", dn->ifname);
		policy_free(&p);
		return -1;
	}
	drop_policy(dn);
	dn->p = p;
	nf = nearest_new(&dn->p);
	if (!nf) {
		snprintf(why, len, "%s", strerror(ENOMEM));
		policy_free(&dn->p);
		return -1;
	}
	dn->nf = nf;
	dn->epoch = before.gen[gen].epoch;
	return 0;
}

int droplog_nearest_find(struct droplog_nearest *dn, const struct picfw_drop_record *r,
			 struct droplog_near *out)
{
	char why[1024];

	if (r->reason != PICFW_R_NO_MATCH || (r->family != 4 && r->family != 6) ||
	    (r->l4proto != IPPROTO_TCP && r->l4proto != IPPROTO_UDP) || !r->epoch)
		return 0;
	/*
	 * A record of a later epoch than the copy we hold (or none yet): a
	 * policy applied since, load its copy; once per epoch, so that a copy
	 * that cannot be read is not tried for every record. Records of an
	 * earlier epoch (still in the ring after an apply) stay unknown.
	 */
	if ((!dn->nf || (int32_t)(r->epoch - dn->epoch) > 0) && r->epoch != dn->tried) {
		dn->tried = r->epoch;
		if (load(dn, why, sizeof(why))) {
			if (!dn->warned)
				pr_warn("picfw log: warning: no nearest rows: %s\n", why);
			else
				pr_debug("picfw log: no nearest rows: %s\n", why);
			dn->warned = 1;
		}
	}
	if (!dn->nf || r->epoch != dn->epoch)
		return 0; /* unknown: never a row of another policy */
	memset(&out->pkt, 0, sizeof(out->pkt));
	out->pkt.family = r->family;
	out->pkt.transport = r->l4proto == IPPROTO_TCP ? PICFW_TCP : PICFW_UDP;
	out->pkt.sport = r->sport;
	out->pkt.dport = r->dport;
	memcpy(out->pkt.saddr, r->saddr, sizeof(out->pkt.saddr));
	memcpy(out->pkt.daddr, r->daddr, sizeof(out->pkt.daddr));
	out->n = nearest_find(dn->nf, &out->pkt);
	out->p = &dn->p;
	return 1;
}
