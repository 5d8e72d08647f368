// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * follow.c - the followed files and their directories' watches (see follow.h).
 *
 * A table of directories (path, watch descriptor) and one of files (path,
 * name, directory). inotify gives one descriptor per inode: two paths of one
 * directory share it, which is why a watch is removed only when no directory
 * left in the table has its descriptor. A watch removed (by us, or because
 * its directory went away) is told by an IN_IGNORED event; descriptors are
 * handed out cyclically, so one that is no longer in the table is only ours
 * to ignore.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "follow.h"
#include "log.h"

/*
 * A write closed, a rename onto the name, a creation; a deletion or a rename
 * away; the directory itself renamed (another one may take its name).
 */
#define FOLLOW_MASK                                                                            \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVE_SELF | \
	 IN_ONLYDIR)

int64_t follow_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int follow_init(struct follow *f)
{
	*f = (struct follow){.fd = -1};
	f->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	return f->fd < 0 ? -errno : 0;
}

/* The strings of a table (not its watches). */
static void table_free(struct follow *t)
{
	size_t i;

	for (i = 0; i < t->ndirs; i++)
		free(t->dirs[i].path);
	for (i = 0; i < t->nfiles; i++)
		free(t->files[i].path);
	free(t->dirs);
	free(t->files);
	t->dirs = NULL;
	t->files = NULL;
	t->ndirs = t->nfiles = t->unwatched = 0;
}

static int has_wd(const struct follow *t, int wd)
{
	size_t i;

	for (i = 0; i < t->ndirs; i++)
		if (t->dirs[i].wd == wd)
			return 1;
	return 0;
}

/* Remove the watches of from that no directory of keep (NULL: none) shares. */
static void unwatch_missing(const struct follow *from, const struct follow *keep)
{
	size_t i;

	for (i = 0; i < from->ndirs; i++)
		if (from->dirs[i].wd >= 0 && (!keep || !has_wd(keep, from->dirs[i].wd)))
			inotify_rm_watch(from->fd, from->dirs[i].wd);
}

static long find_dir(const struct follow *t, const char *path)
{
	size_t i;

	for (i = 0; i < t->ndirs; i++)
		if (!strcmp(t->dirs[i].path, path))
			return (long)i;
	return -1;
}

static long find_file(const struct follow *t, const char *path)
{
	size_t i;

	for (i = 0; i < t->nfiles; i++)
		if (!strcmp(t->files[i].path, path))
			return (long)i;
	return -1;
}

/* The first file of t in directory d: what a message about d names. */
static const char *dir_file(const struct follow *t, size_t d)
{
	size_t i;

	for (i = 0; i < t->nfiles; i++)
		if (t->files[i].dir == d)
			return t->files[i].path;
	return t->dirs[d].path;
}

static const char *watch_hint(int err)
{
	switch (err) {
	case ENOSPC:
		return " (the inotify watch limit, sysctl fs.inotify.max_user_watches, is reached)";
	case ENOENT:
		return " (the directory is not there)";
	default:
		return "";
	}
}

/* Has path changed after since_ns (within the ctime clock's coarseness)? */
static int changed_since(const char *path, int64_t since_ns)
{
	struct stat st;

	if (stat(path, &st))
		return 0;
	if (since_ns == INT64_MIN) /* any file there */
		return 1;
	return (int64_t)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec >=
	       since_ns - FOLLOW_CTIME_SLACK_NS;
}

/* Mark the files of directory d that changed after since_ns (as how). How many. */
static int mark_changed_since(struct follow *t, size_t d, int64_t since_ns, int how)
{
	size_t i;
	int n = 0;

	for (i = 0; i < t->nfiles; i++)
		if (t->files[i].dir == d && !t->files[i].changed &&
		    changed_since(t->files[i].path, since_ns)) {
			t->files[i].changed = how;
			n++;
		}
	return n;
}

/* Directory path in t (new: watched now, or taken over from old). Its index, or -1. */
static long dir_add(struct follow *t, const struct follow *old, const char *path, size_t len,
		    int64_t since_ns, int *fresh)
{
	struct follow_dir *v, *d;
	long k, o;
	char *copy = strndup(path, len);

	*fresh = 0;
	if (!copy)
		return -1;
	k = find_dir(t, copy);
	if (k >= 0) {
		free(copy);
		return k;
	}
	v = realloc(t->dirs, (t->ndirs + 1) * sizeof(*v));
	if (!v) {
		free(copy);
		return -1;
	}
	t->dirs = v;
	d = &t->dirs[t->ndirs];
	*d = (struct follow_dir){.path = copy, .wd = -1};
	o = find_dir(old, copy);
	if (o >= 0) {
		d->wd = old->dirs[o].wd;
		d->err = old->dirs[o].err;
		d->lost_ns = old->dirs[o].lost_ns;
	}
	if (d->wd < 0) {
		/* New, or not watched so far: try (again). */
		d->wd = inotify_add_watch(t->fd, copy, FOLLOW_MASK);
		if (d->wd < 0) {
			*fresh = o < 0 ? -1 : 0; /* tell a new one's failure */
			d->err = errno;
			if (o < 0)
				d->lost_ns = since_ns ? since_ns : follow_now_ns();
			t->unwatched++;
		} else {
			*fresh = 1;
			if (o >= 0)
				pr_info("picfw run: watching %s again\n", copy);
		}
	}
	return (long)t->ndirs++;
}

int follow_set(struct follow *f, const char *const *paths, size_t n, int64_t since_ns)
{
	struct follow t = {.fd = f->fd};
	size_t i, d;
	int marked = 0, fresh;

	for (i = 0; i < n; i++) {
		const char *slash = strrchr(paths[i], '/'), *dirp = ".";
		struct follow_file *v, *file;
		size_t dlen = 1;
		long k, o;

		if (find_file(&t, paths[i]) >= 0 || (slash && !slash[1]) || !paths[i][0])
			continue;
		if (t.nfiles == FOLLOW_MAX_FILES) {
			pr_warn(
			    "picfw run: warning: following only %d files; %s and the files after "
			    "it are applied on SIGHUP or with an edit of another\n",
			    FOLLOW_MAX_FILES, paths[i]);
			break;
		}
		if (slash) {
			dirp = paths[i];
			dlen = slash > paths[i] ? (size_t)(slash - paths[i]) : 1;
		}
		k = dir_add(&t, f, dirp, dlen, since_ns, &fresh);
		if (k < 0)
			goto nomem;
		v = realloc(t.files, (t.nfiles + 1) * sizeof(*v));
		if (!v)
			goto nomem;
		t.files = v;
		file = &t.files[t.nfiles];
		*file = (struct follow_file){.path = strdup(paths[i]), .dir = (size_t)k};
		if (!file->path)
			goto nomem;
		file->base = file->path + (slash ? slash - paths[i] + 1 : 0);
		o = find_file(f, paths[i]);
		if (o >= 0) {
			file->changed = f->files[o].changed;
			file->gone_logged = f->files[o].gone_logged;
		}
		t.nfiles++;
		if (fresh < 0 && k > 0)
			pr_warn("picfw run: warning: cannot watch %s for %s: %s%s; its changes are "
				"applied on SIGHUP until it can be (tried each second)\n",
				t.dirs[k].path, paths[i], strerror(t.dirs[k].err),
				watch_hint(t.dirs[k].err));
	}
	/* Watched only now: what changed between the caller's read and the watch. */
	for (d = 0; since_ns && d < t.ndirs; d++) {
		long o = find_dir(f, t.dirs[d].path);

		if (t.dirs[d].wd >= 0 && (o < 0 || f->dirs[o].wd < 0))
			marked += mark_changed_since(&t, d, since_ns, FOLLOW_ASSUMED);
	}
	unwatch_missing(f, &t);
	table_free(f);
	*f = t;
	return marked;
nomem:
	pr_warn("picfw run: following the policy's files: %s\n", strerror(ENOMEM));
	unwatch_missing(&t, f);
	table_free(&t);
	return -ENOMEM;
}

int follow_main_err(const struct follow *f)
{
	if (!f->nfiles)
		return -ENOENT;
	return f->dirs[f->files[0].dir].wd < 0 ? -f->dirs[f->files[0].dir].err : 0;
}

/*
 * The directories watched through wd went away (deleted, or renamed: the
 * watch would follow the inode, not the name): told, then tried again by
 * follow_retry().
 */
static void dir_lost(struct follow *f, int wd, const char *how)
{
	size_t i;

	for (i = 0; i < f->ndirs; i++) {
		if (f->dirs[i].wd != wd)
			continue;
		f->dirs[i].wd = -1;
		f->dirs[i].err = ENOENT;
		f->dirs[i].lost_ns = follow_now_ns();
		f->unwatched++;
		pr_warn("picfw run: %s %s; %s is followed again when it is back (SIGHUP "
			"applies meanwhile)\n",
			f->dirs[i].path, how, dir_file(f, i));
	}
}

static int mark_name(struct follow *f, int wd, const char *name)
{
	size_t i;
	int n = 0;

	for (i = 0; i < f->nfiles; i++)
		if (f->dirs[f->files[i].dir].wd == wd && !strcmp(f->files[i].base, name)) {
			f->files[i].changed = FOLLOW_EVENT;
			n++;
		}
	return n;
}

int follow_read(struct follow *f)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	int marked = 0;
	ssize_t n;
	char *p;

	while ((n = read(f->fd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				pr_warn("picfw run: warning: inotify's queue overflowed; events "
					"were lost: applying again\n");
				if (f->nfiles) {
					f->files[0].changed = FOLLOW_EVENT;
					marked++;
				}
			} else if (ev->mask & IN_MOVE_SELF) {
				inotify_rm_watch(f->fd, ev->wd); /* its IN_IGNORED: nobody's */
				dir_lost(f, ev->wd, "was renamed");
			} else if (ev->mask & IN_IGNORED) {
				dir_lost(f, ev->wd, "is gone");
			} else if (ev->len) {
				marked += mark_name(f, ev->wd, ev->name);
			}
		}
	}
	return marked;
}

int follow_retry(struct follow *f)
{
	size_t i;
	int marked = 0;

	for (i = 0; i < f->ndirs && f->unwatched; i++) {
		struct follow_dir *d = &f->dirs[i];

		if (d->wd >= 0)
			continue;
		d->wd = inotify_add_watch(f->fd, d->path, FOLLOW_MASK);
		if (d->wd < 0) {
			d->err = errno;
			continue;
		}
		f->unwatched--;
		pr_info("picfw run: watching %s again\n", d->path);
		/* Not there before (ENOENT): whatever is there now is new to us. */
		marked += mark_changed_since(f, i, d->err == ENOENT ? INT64_MIN : d->lost_ns,
					     FOLLOW_EVENT);
	}
	return marked;
}

void follow_clear(struct follow *f)
{
	size_t i;

	for (i = 0; i < f->nfiles; i++)
		f->files[i].changed = 0;
}

void follow_close(struct follow *f)
{
	if (f->fd >= 0)
		close(f->fd); /* the watches with it */
	table_free(f);
	f->fd = -1;
}
