/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * follow.h - the files `picfw run` follows: POLICY and every file it
 * includes, by name, through one inotify fd. An inotify watch is on an inode,
 * and editors and configuration management save by rename (a new inode under
 * the old name), so a followed file's directory is watched, once however many
 * followed files it holds, and events are matched on the file's name. No
 * libbpf; messages through the logging funnel as "picfw run: ...".
 */
#ifndef PICFW_FOLLOW_H
#define PICFW_FOLLOW_H

#include <stddef.h>
#include <stdint.h>

/*
 * Files followed at most: POLICY, what the last good policy includes and what
 * a refused one named (policy.h: at most POLICY_MAX_INCLUDES opened and
 * POLICY_MAX_ERRORS refused each), so one watch per directory stays far below
 * fs.inotify.max_user_watches.
 */
#define FOLLOW_MAX_FILES 256

/* A file changed if its ctime is this close to a watch being added, or later. */
#define FOLLOW_CTIME_SLACK_NS 20000000LL

struct follow_dir {
	char *path;
	int wd;		 /* -1: not watched (it could not be, or it went away) */
	int err;	 /* why not: an errno */
	int64_t lost_ns; /* CLOCK_REALTIME: not watched since */
};

/*
 * How a file was marked changed: an event named it; or its directory was
 * watched only after the caller read it and its ctime is near that read or
 * later (the ctime slack: it may be the very content read, the caller may
 * find nothing new). An event outranks an assumption.
 */
enum { FOLLOW_EVENT = 1, FOLLOW_ASSUMED = 2 };

struct follow_file {
	char *path;	  /* as given to follow_set() */
	const char *base; /* its name in its directory (in path) */
	size_t dir;	  /* index into dirs */
	int changed;	  /* since the last follow_clear(): FOLLOW_EVENT, FOLLOW_ASSUMED or 0 */
	int gone_logged;  /* the caller told its deletion */
};

struct follow {
	int fd; /* inotify, non-blocking; -1 before follow_init() */
	struct follow_dir *dirs;
	size_t ndirs;
	struct follow_file *files; /* files[0]: the first path given to follow_set() */
	size_t nfiles;
	size_t unwatched; /* dirs with wd -1 */
};

/* The inotify fd. 0 or a negative errno. */
int follow_init(struct follow *f);

/*
 * Follow exactly paths[0..n) (duplicates once; not resolved: a rename onto
 * the name is what is followed), each directory watched once. Directories no
 * longer needed are unwatched, those kept keep their watch; a file followed
 * before keeps its changed and gone_logged. since_ns (CLOCK_REALTIME, 0:
 * none) is when the caller read the files: a file in a directory watched only
 * now that changed after it is marked changed, FOLLOW_ASSUMED (its events
 * came before the watch, or it is what was read). A directory that cannot be
 * watched is logged (except paths[0]'s: see follow_main_err) and tried again
 * by follow_retry(). Returns how many files were marked changed, or -ENOMEM
 * (then the files followed before are).
 */
int follow_set(struct follow *f, const char *const *paths, size_t n, int64_t since_ns);

/* 0, or the negative errno why paths[0]'s directory is not watched. */
int follow_main_err(const struct follow *f);

/*
 * Read the pending events: mark the followed files they name changed (all of
 * them, as files[0], when the queue overflowed), tell a watched directory
 * that went away (deleted, or renamed) and unwatch it for follow_retry().
 * Returns how many files were marked.
 */
int follow_read(struct follow *f);

/*
 * Watch again the directories that are not (f->unwatched): for each that now
 * is, its followed files that exist are marked, if the directory was not there
 * (or went away: it is another one now), else if they changed since the watch
 * was missing (a watch limit). Returns how many were marked.
 */
int follow_retry(struct follow *f);

/* Forget the changed marks (the caller applied everything). */
void follow_clear(struct follow *f);

/* The watches, the table and the fd. */
void follow_close(struct follow *f);

/* Nanoseconds on CLOCK_REALTIME, the clock of a file's ctime: since_ns. */
int64_t follow_now_ns(void);

#endif /* PICFW_FOLLOW_H */
