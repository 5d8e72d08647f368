// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * service.c - `picfw run`: attach or adopt, then follow the policy file and
 * the interface (see service.h).
 *
 * One poll() loop over three fds: a signalfd (SIGTERM, SIGINT: stop; SIGHUP:
 * apply now), an inotify watch on the policy's directory (editors save by
 * rename, so the name is watched, not the inode) and an rtnetlink socket
 * for link events (the interface deleted or re-created). A change of the
 * file arms a deadline SERVICE_DEBOUNCE_MS ahead; each further change moves
 * it, so a save in several writes is applied once, whole.
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
#include <sys/inotify.h>
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
	char dir[PATH_MAX];  /* its directory, watched */
	const char *base;    /* its name in dir */
	int sig_fd, ino_fd, nl_fd, wd;
	int ifindex;	 /* the interface the filter is on; 0: waiting for it */
	int pending;	 /* the file changed: apply at deadline */
	double deadline; /* monotonic ms */
	int gone_logged; /* the file's deletion was told */
	unsigned applied, refused;
	unsigned long long generation;
	unsigned rows;
	/* The last policy applied or attached: attached again when the interface comes back. */
	struct policy good;
	struct policy_image good_img;
	char *good_real;
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
	s->have_good = 0;
}

/* Keep p, img and real as the last good policy: what they own is taken over. */
static void keep_good(struct service *s, const struct policy *p, const struct policy_image *img,
		      char *real)
{
	forget_good(s);
	s->good = *p;
	s->good_img = *img;
	s->good_real = real;
	s->have_good = 1;
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

/*
 * Load POLICY and put it in force: apply to the filter if it is there, else
 * attach (when the interface is), else keep it for when the interface comes
 * back. 0 when the policy was taken, else a negative errno: the previous
 * policy keeps enforcing. Told around with RELOADING=1 ... READY=1.
 */
static int apply_file(struct service *s, const char *why)
{
	struct apply_result res;
	struct policy_image img;
	struct policy p;
	char *real = NULL;
	int ret;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)(monotonic_ns() / 1000));
	pr_info("picfw run: %s: applying %s\n", why, s->path);
	if (load_policy("run", s->path, &real, &p, &img)) {
		record_refused_policy(s);
		if (s->ifindex)
			pr_warn("picfw run: %s refused (see above); generation %llu keeps "
				"enforcing on %s\n",
				s->path, s->generation, s->o->ifname);
		else
			pr_warn("picfw run: %s refused (see above)\n", s->path);
		notify_ready(s);
		return -EINVAL;
	}
	if (!s->ifindex) {
		keep_good(s, &p, &img, real);
		record_outcome(s, 1);
		pr_info("picfw run: %s is not here; its policy is attached when it appears\n",
			s->o->ifname);
		notify_ready(s);
		return 0;
	}
	ret = picfw_apply(s->o->ifname, real, &p, &img, &res);
	if (ret == -ENOENT) { /* detached by hand meanwhile: the service puts it back */
		keep_good(s, &p, &img, real);
		ret = attach_good(s, s->ifindex);
		record_outcome(s, !ret);
		notify_ready(s);
		return ret;
	}
	if (ret) {
		record_outcome(s, 0);
		pr_warn("picfw run: %s not applied; generation %llu keeps enforcing on %s\n",
			s->path, s->generation, s->o->ifname);
		image_free(&img);
		policy_free(&p);
		free(real);
		notify_ready(s);
		return ret;
	}
	iface_warn_unprotected("run", s->o->ifname, &p);
	keep_good(s, &p, &img, real);
	record_outcome(s, 1);
	s->generation = res.generation;
	s->rows = (unsigned)s->good.nrows;
	pr_info("picfw run: applied %s to %s: generation %llu, %u rows (%u kept, %u added, "
		"%u removed)\n",
		s->path, s->o->ifname, s->generation, s->rows, res.kept, res.added, res.removed);
	notify_ready(s);
	return 0;
}

/*
 * Start on an interface that is there: adopt the filter attached to it
 * (counters and flows kept; the policy applied only if it differs from the
 * one enforcing), or attach. 0, or a negative errno when nothing enforces.
 */
static int start(struct service *s, int ifindex)
{
	struct picfw_meta meta;
	struct policy_image img;
	struct policy p;
	char *real = NULL;
	uint64_t digest;
	int linked = picfw_link_ifindex(s->o->ifname);

	if (linked != ifindex || read_active(s->o->ifname, &meta)) {
		/* Nothing to adopt: attach. A bad policy leaves the service nothing to enforce. */
		if (load_policy("run", s->path, &real, &p, &img)) {
			pr_warn("picfw run: %s refused; nothing attached to %s\n", s->path,
				s->o->ifname);
			return -EINVAL;
		}
		keep_good(s, &p, &img, real);
		return attach_good(s, ifindex);
	}
	s->ifindex = ifindex;
	s->generation = meta.generation;
	s->rows = meta.nrows;
	pr_info(
	    "picfw run: adopting the filter attached to %s: generation %llu, %u rows, from %s\n",
	    s->o->ifname, s->generation, s->rows, meta.policy_path);
	if (load_policy("run", s->path, &real, &p, &img)) {
		record_refused_policy(s);
		pr_warn(
		    "picfw run: %s refused (see above); generation %llu keeps enforcing on %s\n",
		    s->path, s->generation, s->o->ifname);
		return 0;
	}
	digest = image_digest(&img);
	if (!memcmp(meta.digest, &digest, sizeof(digest)) && !strcmp(meta.policy_path, real)) {
		pr_info("picfw run: %s enforces %s already\n", s->o->ifname, real);
		seed_pinned(s, &p);
		keep_good(s, &p, &img, real);
		return 0;
	}
	image_free(&img);
	policy_free(&p);
	free(real);
	if (apply_file(s, "adopted"))
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

/* The file changed and the debounce ran out: apply it, or tell that it is gone. */
static void file_settled(struct service *s)
{
	struct stat st;

	s->pending = 0;
	if (stat(s->path, &st) && errno == ENOENT) {
		if (!s->gone_logged)
			pr_warn("picfw run: %s was deleted; the policy in force stays (generation "
				"%llu)\n",
				s->path, s->generation);
		s->gone_logged = 1;
		return;
	}
	s->gone_logged = 0;
	apply_file(s, "the file changed");
}

static void read_inotify(struct service *s)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	while ((n = read(s->ino_fd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_IGNORED) {
				pr_warn(
				    "picfw run: %s is gone; the file is no longer followed (SIGHUP "
				    "still applies it)\n",
				    s->dir);
				s->wd = -1;
				continue;
			}
			if (!ev->len || strcmp(ev->name, s->base))
				continue;
			s->pending = 1;
			s->deadline = monotonic_ms() + SERVICE_DEBOUNCE_MS;
		}
	}
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
		apply_file(s, "SIGHUP");
		return 0;
	}
	pr_info("picfw run: %s received\n", strsignal((int)si.ssi_signo));
	return 1;
}

static int open_fds(struct service *s, sigset_t *old)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, old);
	s->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sig_fd < 0)
		return -errno;
	s->ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (s->ino_fd < 0)
		return -errno;
	s->wd = inotify_add_watch(s->ino_fd, s->dir,
				  IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
				      IN_MOVED_FROM | IN_ONLYDIR);
	if (s->wd < 0)
		return -errno;
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
	char cwd[PATH_MAX], *slash;
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
	snprintf(s->dir, sizeof(s->dir), "%s", s->path);
	slash = strrchr(s->dir, '/');
	*slash = 0;
	if (slash == s->dir)
		strcpy(s->dir, "/");
	s->base = s->path + (slash - s->dir) + 1;
	return *s->base ? 0 : -EISDIR;
}

static int loop(struct service *s)
{
	struct pollfd fds[3] = {
	    {.fd = s->sig_fd, .events = POLLIN},
	    {.fd = s->ino_fd, .events = POLLIN},
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
		if (s->pending && monotonic_ms() >= s->deadline)
			file_settled(s);
	}
}

int service_run(const struct service_opts *o)
{
	struct service s = {.o = o, .sig_fd = -1, .ino_fd = -1, .nl_fd = -1, .wd = -1};
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
		pr_warn("picfw run: watching %s failed: %s\n", s.dir, strerror(-ret));
		goto out;
	}
	ifindex = (int)if_nametoindex(o->ifname);
	if (ifindex) {
		ret = start(&s, ifindex);
		if (ret)
			goto out;
	} else {
		pr_warn("picfw run: no interface %s; waiting for it\n", o->ifname);
		ret = apply_file(&s, "start");
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
	if (s.ino_fd >= 0)
		close(s.ino_fd);
	if (s.sig_fd >= 0)
		close(s.sig_fd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}
