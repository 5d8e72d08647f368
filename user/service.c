// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * service.c - `picfw run`: attach or adopt, then follow the policy file, the
 * files it includes, and the interface (see service.h).
 *
 * One poll() loop over three fds: a signalfd (SIGTERM, SIGINT: stop; SIGHUP:
 * apply now), an inotify fd watching the directories of POLICY and of the
 * files it includes (follow.c: editors save by rename, so the names are
 * watched, not the inodes) and an rtnetlink socket for link events (the
 * interface deleted or re-created). A change of any of those files arms a
 * deadline SERVICE_DEBOUNCE_MS ahead; each further change moves it, so a save
 * in several writes, or of several files, is applied once, whole.
 *
 * The files followed are computed again after every load: POLICY, what the
 * last good policy includes, and what the load just made named (as far as it
 * got, when refused): an include added or removed by an edit changes them,
 * and the file whose error refused a policy is followed, so its fix applies.
 *
 * What is applied is what `picfw apply` applies (load_policy, picfw_apply);
 * a refused policy leaves the previous one enforcing. The last good policy
 * is kept in memory to attach again when the interface comes back, even if
 * the file has gone bad meanwhile.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <systemd/sd-daemon.h>

#include "apply.h"
#include "clock.h"
#include "follow.h"
#include "ifaddr.h"
#include "log.h"
#include "maps.h"
#include "policy.h"
#include "policy_file.h"
#include "seed.h"
#include "service.h"

struct service {
	const struct service_opts *o;
	char path[PATH_MAX]; /* POLICY, absolute */
	int sig_fd, nl_fd;
	struct follow fl;    /* POLICY and its included files: fl.files[0] is POLICY */
	int ifindex;	 /* the interface the filter is on; 0: waiting for it */
	int pending;	 /* a followed file changed: apply at deadline */
	double deadline; /* monotonic ms */
	double retry_at; /* monotonic ms: watch again the directories that are not */
	unsigned applied, refused;
	unsigned long long generation;
	unsigned rows;
	/* The last policy applied or attached: attached again when the interface comes back. */
	struct policy good;
	struct policy_image good_img;
	char *good_real;
	struct policy_includes good_inc; /* the files it includes */
	int have_good;
};

/* An apply's outcome, for STATUS= and the log (picfw_apply counts its own in picfw_applies). */
static void record_outcome(struct service *s, int ok)
{
	if (ok)
		s->applied++;
	else
		s->refused++;
}

/*
 * A policy that did not load or compile: refused, before picfw_apply(), so
 * counted here where the exporter reads it (as `picfw apply` does), when
 * picfw is attached.
 */
static void record_refused_policy(struct service *s)
{
	record_outcome(s, 0);
	if (s->ifindex)
		apply_count_refused(s->o->ifname);
}

/* STATUS= for `systemctl status`, and READY=1 after an attach or an apply. */
static void notify_ready(const struct service *s)
{
	if (s->ifindex)
		sd_notifyf(0,
			   "READY=1\nSTATUS=%s: generation %llu, %u rows; %u applied, %u refused",
			   s->o->ifname, s->generation, s->rows, s->applied, s->refused);
	else
		sd_notifyf(0,
			   "READY=1\nSTATUS=%s: waiting for the interface; %u applied, %u refused",
			   s->o->ifname, s->applied, s->refused);
}

/* The active generation's number, rows and digest, from the pins. 0 or a negative errno. */
static int read_active(const char *ifname, struct picfw_meta *meta)
{
	struct picfw_maps m;
	struct picfw_ctl ctl;
	int ret;

	ret = maps_open_pinned(ifname, &m);
	if (ret)
		return ret;
	ret = maps_read_ctl(&m, &ctl);
	if (!ret)
		ret = maps_read_meta(&m, ctl.active & 1, meta);
	maps_close(&m);
	return ret;
}

static void note_generation(struct service *s)
{
	struct picfw_meta meta;

	if (!read_active(s->o->ifname, &meta)) {
		s->generation = meta.generation;
		s->rows = meta.nrows;
	}
}

static void forget_good(struct service *s)
{
	if (!s->have_good)
		return;
	image_free(&s->good_img);
	policy_free(&s->good);
	free(s->good_real);
	s->good_real = NULL;
	policy_includes_free(&s->good_inc);
	s->have_good = 0;
}

/* Keep p, img, real and inc as the last good policy: what they own is taken over (inc emptied). */
static void keep_good(struct service *s, const struct policy *p, const struct policy_image *img,
		      char *real, struct policy_includes *inc)
{
	forget_good(s);
	s->good = *p;
	s->good_img = *img;
	s->good_real = real;
	s->good_inc = *inc;
	*inc = (struct policy_includes){0};
	s->have_good = 1;
}

/* A followed file changed: apply SERVICE_DEBOUNCE_MS after the last change. */
static void arm(struct service *s)
{
	s->pending = 1;
	s->deadline = monotonic_ms() + SERVICE_DEBOUNCE_MS;
}

/*
 * Follow POLICY, what the last good policy includes and what the load just
 * made named (tried, when it was refused: its broken or missing file is what
 * the operator fixes next). since_ns: when that load started.
 */
static void refollow(struct service *s, const struct policy_includes *tried, int64_t since_ns)
{
	size_t n = 0, i, want = 1 + s->good_inc.n + (tried ? tried->n : 0);
	const char **paths = malloc(want * sizeof(*paths));

	if (!paths) {
		pr_warn("picfw run: following the policy's files: %s\n", strerror(ENOMEM));
		return;
	}
	paths[n++] = s->path;
	for (i = 0; s->have_good && i < s->good_inc.n; i++)
		paths[n++] = s->good_inc.files[i];
	for (i = 0; tried && i < tried->n; i++)
		paths[n++] = tried->files[i];
	if (follow_set(&s->fl, paths, n, since_ns) > 0)
		arm(s);
	free((void *)paths);
}

/* Seed flows from the sockets, as attach does, into the pinned maps (adopt). */
static void seed_pinned(const struct service *s, const struct policy *p)
{
	struct picfw_maps m;

	if (p->replies != PICFW_REPLIES_TRACKED || maps_open_pinned(s->o->ifname, &m))
		return;
	seed_flows_report("run", &m, p);
	maps_close(&m);
}

/* Attach the last good policy to the interface as it is now. 0 or a negative errno. */
static int attach_good(struct service *s, int ifindex)
{
	int ret, linked = picfw_link_ifindex(s->o->ifname);

	if (linked >= 0 && linked != ifindex) {
		/* Pins of a link whose interface went away: take them away first. */
		pr_info("picfw run: removing the defunct filter of %s before attaching again\n",
			s->o->ifname);
		picfw_detach(s->o->ifname);
	}
	ret = picfw_attach(s->o->ifname, s->good_real, &s->good, &s->good_img, s->o->mode);
	if (ret)
		return ret;
	s->ifindex = ifindex;
	iface_warn_unprotected("run", s->o->ifname, &s->good);
	note_generation(s);
	pr_info("picfw run: attached %s to %s (%s XDP): generation %llu, %u rows\n", s->good_real,
		s->o->ifname, s->o->mode == XDP_ATTACH_GENERIC ? "generic" : "native",
		s->generation, s->rows);
	return 0;
}

/* p written as its copy in /run/picfw is: a malloc'd string (*len bytes), or NULL. */
static char *policy_text(const struct policy *p, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	policy_write(f, p);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * Does the filter enforce p (real, img) already: the same image and path in
 * the active generation's metadata (as start() asks when it adopts), and the
 * same policy text as the last good one (names and comments, which the image
 * does not hold, are in the copy in /run/picfw)? 1 if so.
 */
static int enforces_already(const struct service *s, const char *real, const struct policy *p,
			    const struct policy_image *img)
{
	struct picfw_meta meta;
	uint64_t digest = image_digest(img);
	char *a, *b;
	size_t la = 0, lb = 0;
	int same;

	if (!s->ifindex || !s->have_good || read_active(s->o->ifname, &meta) ||
	    memcmp(meta.digest, &digest, sizeof(digest)) || strcmp(meta.policy_path, real) ||
	    strcmp(s->good_real, real) || image_digest(&s->good_img) != digest)
		return 0;
	a = policy_text(p, &la);
	b = policy_text(&s->good, &lb);
	same = a && b && la == lb && !memcmp(a, b, la);
	free(a);
	free(b);
	return same;
}

/*
 * Load POLICY and put it in force: apply to the filter if it is there, else
 * attach (when the interface is), else keep it for when the interface comes
 * back. 0 when the policy was taken, else a negative errno: the previous
 * policy keeps enforcing. Told around with RELOADING=1 ... READY=1.
 *
 * if_changed: the followed files' changes are only assumed (FOLLOW_ASSUMED:
 * their directories were watched only after the last load read them, and
 * their ctime is near that read): a policy the filter enforces already is not
 * applied again. A file written just before `picfw run` started, or before an
 * apply that first included it, is assumed changed; applied again, it made a
 * generation of what was in force, and one edit seemed two applies.
 */
static int apply_file(struct service *s, const char *why, int if_changed)
{
	struct policy_includes inc;
	struct apply_result res;
	struct policy_image img;
	struct policy p;
	char *real = NULL;
	int64_t since = follow_now_ns();
	int ret;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)(monotonic_ns() / 1000));
	pr_info("picfw run: %s: applying %s\n", why, s->path);
	if (load_policy_includes("run", s->path, &real, &p, &img, &inc)) {
		record_refused_policy(s);
		if (s->ifindex)
			pr_warn("picfw run: %s refused (see above); generation %llu keeps "
				"enforcing on %s\n",
				s->path, s->generation, s->o->ifname);
		else
			pr_warn("picfw run: %s refused (see above)\n", s->path);
		ret = -EINVAL;
		goto out;
	}
	if (if_changed && enforces_already(s, real, &p, &img)) {
		pr_info("picfw run: %s enforces %s already (generation %llu): not applied "
			"again\n",
			s->o->ifname, s->path, s->generation);
		image_free(&img);
		policy_free(&p);
		free(real);
		ret = 0;
		goto out;
	}
	if (!s->ifindex) {
		keep_good(s, &p, &img, real, &inc);
		record_outcome(s, 1);
		pr_info("picfw run: %s is not here; its policy is attached when it appears\n",
			s->o->ifname);
		ret = 0;
		goto out;
	}
	ret = picfw_apply(s->o->ifname, real, &p, &img, &res);
	if (ret == -ENOENT) { /* detached by hand meanwhile: the service puts it back */
		keep_good(s, &p, &img, real, &inc);
		ret = attach_good(s, s->ifindex);
		record_outcome(s, !ret);
		goto out;
	}
	if (ret) {
		record_outcome(s, 0);
		pr_warn("picfw run: %s not applied; generation %llu keeps enforcing on %s\n",
			s->path, s->generation, s->o->ifname);
		image_free(&img);
		policy_free(&p);
		free(real);
		goto out;
	}
	iface_warn_unprotected("run", s->o->ifname, &p);
	keep_good(s, &p, &img, real, &inc);
	record_outcome(s, 1);
	s->generation = res.generation;
	s->rows = (unsigned)s->good.nrows;
	pr_info("picfw run: applied %s to %s: generation %llu, %u rows (%u kept, %u added, "
		"%u removed)\n",
		s->path, s->o->ifname, s->generation, s->rows, res.kept, res.added, res.removed);
out:
	/* inc: what a policy not taken named (a taken one's is in good_inc now). */
	refollow(s, &inc, since);
	policy_includes_free(&inc);
	notify_ready(s);
	return ret;
}

/*
 * Start on an interface that is there: adopt the filter attached to it
 * (counters and flows kept; the policy applied only if it differs from the
 * one enforcing), or attach. 0, or a negative errno when nothing enforces.
 */
static int start(struct service *s, int ifindex)
{
	struct policy_includes inc;
	struct picfw_meta meta;
	struct policy_image img;
	struct policy p;
	char *real = NULL;
	uint64_t digest;
	int64_t since = follow_now_ns();
	int ret, linked = picfw_link_ifindex(s->o->ifname);

	if (linked != ifindex || read_active(s->o->ifname, &meta)) {
		/* Nothing to adopt: attach. A bad policy leaves the service nothing to enforce. */
		if (load_policy_includes("run", s->path, &real, &p, &img, &inc)) {
			pr_warn("picfw run: %s refused; nothing attached to %s\n", s->path,
				s->o->ifname);
			policy_includes_free(&inc);
			return -EINVAL;
		}
		keep_good(s, &p, &img, real, &inc);
		ret = attach_good(s, ifindex);
		if (!ret)
			refollow(s, NULL, since);
		return ret;
	}
	s->ifindex = ifindex;
	s->generation = meta.generation;
	s->rows = meta.nrows;
	pr_info(
	    "picfw run: adopting the filter attached to %s: generation %llu, %u rows, from %s\n",
	    s->o->ifname, s->generation, s->rows, meta.policy_path);
	if (!picfw_program_is_this_build(s->o->ifname))
		pr_warn("picfw run: warning: the program on %s is another build's (another picfw "
			"attached it): its data path runs until 'picfw detach %s' and an attach "
			"with this one\n",
			s->o->ifname, s->o->ifname);
	if (load_policy_includes("run", s->path, &real, &p, &img, &inc)) {
		record_refused_policy(s);
		pr_warn(
		    "picfw run: %s refused (see above); generation %llu keeps enforcing on %s\n",
		    s->path, s->generation, s->o->ifname);
		refollow(s, &inc, since);
		policy_includes_free(&inc);
		return 0;
	}
	digest = image_digest(&img);
	if (!memcmp(meta.digest, &digest, sizeof(digest)) && !strcmp(meta.policy_path, real)) {
		pr_info("picfw run: %s enforces %s already\n", s->o->ifname, real);
		seed_pinned(s, &p);
		keep_good(s, &p, &img, real, &inc);
		refollow(s, NULL, since);
		return 0;
	}
	image_free(&img);
	policy_free(&p);
	free(real);
	policy_includes_free(&inc);
	if (apply_file(s, "adopted", 0))
		return 0; /* the adopted policy keeps enforcing */
	seed_pinned(s, &s->good);
	return 0;
}

/* The interface as it is now: gone, back, or the same. */
static void check_iface(struct service *s)
{
	int ifindex = (int)if_nametoindex(s->o->ifname);

	if (ifindex == s->ifindex)
		return;
	if (!ifindex) {
		pr_warn("picfw run: %s is gone; waiting for it to come back\n", s->o->ifname);
		s->ifindex = 0;
		notify_ready(s);
		return;
	}
	if (!s->have_good) {
		/* Started while it was away, with a policy refused since: nothing to attach. */
		pr_warn("picfw run: %s is here, but no good policy to attach; fix %s\n",
			s->o->ifname, s->path);
		return;
	}
	pr_info("picfw run: %s is here (ifindex %d); attaching\n", s->o->ifname, ifindex);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)(monotonic_ns() / 1000));
	if (attach_good(s, ifindex))
		pr_warn("picfw run: attaching to %s failed; trying again at its next change\n",
			s->o->ifname);
	notify_ready(s);
}

/*
 * Followed files changed and the debounce ran out: apply, or tell that they
 * are gone. A deleted file (POLICY or an included one) is told once and
 * changes nothing: the policy in force stays. POLICY is applied when one of
 * the changed files is there (an edit may have removed the include of one
 * that was deleted with it), and never while POLICY itself is gone.
 */
static void file_settled(struct service *s)
{
	const char *there = NULL;
	char why[PATH_MAX + 16];
	struct stat st;
	size_t i;
	int assumed = 1; /* only FOLLOW_ASSUMED marks on the files there */

	s->pending = 0;
	for (i = 0; i < s->fl.nfiles; i++) {
		struct follow_file *f = &s->fl.files[i];

		int how = f->changed;

		if (!how)
			continue;
		f->changed = 0;
		if (stat(f->path, &st) && errno == ENOENT) {
			if (!f->gone_logged)
				pr_warn("picfw run: %s was deleted; the policy in force stays "
					"(generation %llu)\n",
					f->path, s->generation);
			f->gone_logged = 1;
			continue;
		}
		f->gone_logged = 0;
		if (how != FOLLOW_ASSUMED)
			assumed = 0;
		if (!there)
			there = f->path;
	}
	if (!there || (stat(s->path, &st) && errno == ENOENT))
		return;
	if (!strcmp(there, s->path))
		snprintf(why, sizeof(why), "the file changed");
	else
		snprintf(why, sizeof(why), "%s changed", there);
	apply_file(s, why, assumed);
}

static void read_inotify(struct service *s)
{
	if (follow_read(&s->fl) > 0)
		arm(s);
}

/* Drain the link events: any of them is a reason to look at the interface. */
static void read_netlink(struct service *s)
{
	char buf[8192];

	while (recv(s->nl_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0 || errno == ENOBUFS)
		;
	check_iface(s);
}

/* 1: stop; 0: go on. */
static int read_signal(struct service *s)
{
	struct signalfd_siginfo si;

	if (read(s->sig_fd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (si.ssi_signo == SIGHUP) {
		s->pending = 0;
		follow_clear(&s->fl);
		apply_file(s, "SIGHUP", 0);
		return 0;
	}
	pr_info("picfw run: %s received\n", strsignal((int)si.ssi_signo));
	return 1;
}

static int open_fds(struct service *s, sigset_t *old)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
	sigset_t set;
	const char *main_path = s->path;
	int ret;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, old);
	s->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sig_fd < 0)
		return -errno;
	ret = follow_init(&s->fl);
	if (ret)
		return ret;
	/* POLICY's directory; the included files' after the first load. */
	ret = follow_set(&s->fl, &main_path, 1, 0);
	if (ret < 0)
		return ret;
	ret = follow_main_err(&s->fl);
	if (ret)
		return ret;
	/* Without link events the interface is still polled each SERVICE_POLL_MS. */
	s->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (s->nl_fd >= 0 && bind(s->nl_fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(s->nl_fd);
		s->nl_fd = -1;
	}
	if (s->nl_fd < 0)
		pr_warn(
		    "picfw run: warning: no rtnetlink link events (%s); polling %s each %d ms\n",
		    strerror(errno), s->o->ifname, SERVICE_POLL_MS);
	return 0;
}

/* POLICY made absolute (not resolved: a rename onto the name is what editors do). */
static int split_path(struct service *s, const char *policy)
{
	char cwd[PATH_MAX];
	int n;

	if (policy[0] == '/') {
		n = snprintf(s->path, sizeof(s->path), "%s", policy);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		n = snprintf(s->path, sizeof(s->path), "%s/%s", cwd, policy);
	}
	if (n < 0 || (size_t)n >= sizeof(s->path))
		return -ENAMETOOLONG;
	return strrchr(s->path, '/')[1] ? 0 : -EISDIR;
}

static int loop(struct service *s)
{
	struct pollfd fds[3] = {
	    {.fd = s->sig_fd, .events = POLLIN},
	    {.fd = s->fl.fd, .events = POLLIN},
	    {.fd = s->nl_fd, .events = POLLIN},
	};
	double now;
	int timeout, n;

	for (;;) {
		now = monotonic_ms();
		timeout = SERVICE_POLL_MS;
		if (s->pending)
			timeout = s->deadline > now ? (int)(s->deadline - now) + 1 : 0;
		n = poll(fds, s->nl_fd >= 0 ? 3 : 2, timeout);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (fds[0].revents & POLLIN && read_signal(s))
			return 0;
		if (fds[1].revents & POLLIN)
			read_inotify(s);
		if (s->nl_fd >= 0 && fds[2].revents & POLLIN)
			read_netlink(s);
		else if (n == 0)
			check_iface(s);
		/* Directories not watched (gone, or over a limit): each SERVICE_POLL_MS. */
		if (s->fl.unwatched && monotonic_ms() >= s->retry_at) {
			if (follow_retry(&s->fl) > 0)
				arm(s);
			s->retry_at = monotonic_ms() + SERVICE_POLL_MS;
		}
		if (s->pending && monotonic_ms() >= s->deadline)
			file_settled(s);
	}
}

int service_run(const struct service_opts *o)
{
	struct service s = {.o = o, .sig_fd = -1, .nl_fd = -1, .fl = {.fd = -1}};
	sigset_t old;
	int ret, ifindex;

	ret = split_path(&s, o->policy);
	if (ret) {
		pr_warn("picfw run: bad policy path %s: %s\n", o->policy, strerror(-ret));
		return ret;
	}
	/* Watch first: an edit made while attaching is not missed. */
	ret = open_fds(&s, &old);
	if (ret) {
		pr_warn("picfw run: watching the directory of %s failed: %s\n", s.path,
			strerror(-ret));
		goto out;
	}
	ifindex = (int)if_nametoindex(o->ifname);
	if (ifindex) {
		ret = start(&s, ifindex);
		if (ret)
			goto out;
	} else {
		pr_warn("picfw run: no interface %s; waiting for it\n", o->ifname);
		ret = apply_file(&s, "start", 0);
		if (ret)
			goto out;
	}
	notify_ready(&s);
	ret = loop(&s);
	sd_notify(0, "STOPPING=1");
	if (ret)
		pr_warn("picfw run: waiting for events failed: %s\n", strerror(-ret));
	if (o->detach_on_exit) {
		if (!picfw_detach(o->ifname))
			pr_info("picfw run: stopped; detached from %s (--detach-on-exit)\n",
				o->ifname);
	} else if (s.ifindex) {
		pr_info("picfw run: stopped; the filter stays attached to %s (generation %llu)\n",
			o->ifname, s.generation);
	} else {
		pr_info("picfw run: stopped\n");
	}
out:
	forget_good(&s);
	if (s.nl_fd >= 0)
		close(s.nl_fd);
	follow_close(&s.fl);
	if (s.sig_fd >= 0)
		close(s.sig_fd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}
