/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * test_follow.c - the files `picfw run` follows (user/follow.c): one inotify
 * watch per directory however many followed files it holds, events matched
 * on the names (a write closed, a save by rename), a directory dropped from
 * the set no longer matters, one that is missing, goes away or is swapped
 * for another is watched again when it is back, and a file changed between
 * its read and its directory's watch is not missed.
 *
 * Each test works in its own mkdtemp() directory, removed at the end; every
 * wait for an event is bounded (EVENT_WAIT_MS).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "follow.h"

#define EVENT_WAIT_MS 2000 /* an event that is due; 300 ms for one that must not come */

struct tree {
	char root[64];
	char path[8][128];
};

/* root/a and root/b; path[i] names root/REL. */
static void tree_make(struct tree *t)
{
	char dir[128];

	memset(t, 0, sizeof(*t));
	snprintf(t->root, sizeof(t->root), "/tmp/picfw-follow-XXXXXX");
	assert_non_null(mkdtemp(t->root));
	snprintf(dir, sizeof(dir), "%s/a", t->root);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/b", t->root);
	assert_int_equal(mkdir(dir, 0755), 0);
}

static const char *tree_path(struct tree *t, int i, const char *rel)
{
	snprintf(t->path[i], sizeof(t->path[i]), "%s/%s", t->root, rel);
	return t->path[i];
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* An editor's save: a new file renamed onto the name. */
static void save_by_rename(const char *path, const char *text)
{
	char tmp[160];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	write_file(tmp, text);
	assert_int_equal(rename(tmp, path), 0);
}

static void tree_remove(struct tree *t)
{
	static const char *const rel[] = {
	    "a/main.policy",	 "a/other.policy",	  "b/partners.policy",	  "c/late.policy",
	    "a/main.policy.tmp", "b/partners.policy.tmp", "b.old/partners.policy"};
	static const char *const dirs[] = {"a", "b", "c", "b.old"};
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", t->root, rel[i]);
		unlink(path);
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", t->root, dirs[i]);
		rmdir(path);
	}
	rmdir(t->root);
}

/* Events within ms, read: how many files they marked. */
static int wait_marked(struct follow *f, int ms)
{
	struct pollfd pfd = {.fd = f->fd, .events = POLLIN};
	int n = 0, i;

	/* Several rounds: a save by rename is more than one event. */
	for (i = 0; i < ms / 50; i++) {
		if (poll(&pfd, 1, 50) > 0)
			n += follow_read(f);
		else if (n)
			break;
	}
	return n;
}

static long file_index(const struct follow *f, const char *path)
{
	size_t i;

	for (i = 0; i < f->nfiles; i++)
		if (!strcmp(f->files[i].path, path))
			return (long)i;
	return -1;
}

/* Its mark: 0, FOLLOW_EVENT or FOLLOW_ASSUMED (0 too when not followed). */
static int changed(const struct follow *f, const char *path)
{
	long i = file_index(f, path);

	return i >= 0 ? f->files[i].changed : 0;
}

/* Three files in two directories: two watches; a write and a rename are each the file's. */
static void test_follow_dirs_once_names_matched(void **state)
{
	struct follow f;
	struct tree t;
	const char *paths[4];

	(void)state;
	tree_make(&t);
	paths[0] = tree_path(&t, 0, "a/main.policy");
	paths[1] = tree_path(&t, 1, "b/partners.policy");
	paths[2] = tree_path(&t, 2, "a/other.policy");
	paths[3] = paths[1]; /* named twice: followed once */
	write_file(paths[0], "main\n");
	write_file(paths[1], "partners\n");
	write_file(paths[2], "other\n");
	assert_int_equal(follow_init(&f), 0);
	assert_int_equal(follow_set(&f, paths, 4, 0), 0);
	assert_int_equal(follow_main_err(&f), 0);
	assert_int_equal(f.nfiles, 3);
	assert_int_equal(f.ndirs, 2);
	assert_int_equal(f.unwatched, 0);
	assert_string_equal(f.files[0].path, paths[0]);
	assert_string_equal(f.files[1].base, "partners.policy");

	write_file(paths[1], "partners 2\n"); /* in place: IN_CLOSE_WRITE */
	assert_true(wait_marked(&f, EVENT_WAIT_MS) > 0);
	assert_true(changed(&f, paths[1]));
	assert_false(changed(&f, paths[0]));
	assert_false(changed(&f, paths[2]));
	follow_clear(&f);

	save_by_rename(paths[1], "partners 3\n"); /* IN_MOVED_TO */
	assert_true(wait_marked(&f, EVENT_WAIT_MS) > 0);
	assert_true(changed(&f, paths[1]));
	assert_false(changed(&f, paths[0]));
	follow_clear(&f);

	/* Another name in a watched directory is nobody's. */
	write_file(tree_path(&t, 3, "a/main.policy.tmp"), "x\n");
	assert_int_equal(wait_marked(&f, 300), 0);

	save_by_rename(paths[0], "main 2\n");
	assert_true(wait_marked(&f, EVENT_WAIT_MS) > 0);
	assert_true(changed(&f, paths[0]));
	assert_false(changed(&f, paths[1]));
	follow_close(&f);
	tree_remove(&t);
}

/* A file no longer followed: its directory is unwatched, its changes nobody's. */
static void test_follow_dropped_dir(void **state)
{
	struct follow f;
	struct tree t;
	const char *paths[2];

	(void)state;
	tree_make(&t);
	paths[0] = tree_path(&t, 0, "a/main.policy");
	paths[1] = tree_path(&t, 1, "b/partners.policy");
	write_file(paths[0], "main\n");
	write_file(paths[1], "partners\n");
	assert_int_equal(follow_init(&f), 0);
	assert_int_equal(follow_set(&f, paths, 2, 0), 0);
	assert_int_equal(f.ndirs, 2);
	write_file(paths[1], "partners 2\n");
	assert_true(wait_marked(&f, EVENT_WAIT_MS) > 0);
	/* The mark of a file still followed stays across follow_set(). */
	assert_int_equal(follow_set(&f, paths, 2, 0), 0);
	assert_true(changed(&f, paths[1]));
	follow_clear(&f);

	assert_int_equal(follow_set(&f, paths, 1, 0), 0);
	assert_int_equal(f.nfiles, 1);
	assert_int_equal(f.ndirs, 1);
	write_file(paths[1], "partners 3\n");
	save_by_rename(paths[1], "partners 4\n");
	assert_int_equal(wait_marked(&f, 300), 0);
	assert_int_equal(f.unwatched, 0); /* its IN_IGNORED is not a directory gone */

	/* Followed again: watched again. */
	assert_int_equal(follow_set(&f, paths, 2, 0), 0);
	assert_int_equal(f.ndirs, 2);
	write_file(paths[1], "partners 5\n");
	assert_true(wait_marked(&f, EVENT_WAIT_MS) > 0);
	assert_true(changed(&f, paths[1]));
	follow_close(&f);
	tree_remove(&t);
}

/*
 * A file in a directory that is not there (an include of a file not made
 * yet): not watched, logged; made, it is watched and the file marked.
 */
static void test_follow_missing_dir_retried(void **state)
{
	struct follow f;
	struct tree t;
	const char *paths[2];
	char dir[128];

	(void)state;
	tree_make(&t);
	paths[0] = tree_path(&t, 0, "a/main.policy");
	paths[1] = tree_path(&t, 1, "c/late.policy");
	write_file(paths[0], "main\n");
	usleep(100 * 1000); /* main.policy not changed since the "read" below */
	assert_int_equal(follow_init(&f), 0);
	assert_int_equal(follow_set(&f, paths, 2, follow_now_ns()), 0);
	assert_int_equal(f.ndirs, 2);
	assert_int_equal(f.unwatched, 1);
	assert_int_equal(follow_retry(&f), 0);
	assert_int_equal(f.unwatched, 1);

	snprintf(dir, sizeof(dir), "%s/c", t.root);
	assert_int_equal(mkdir(dir, 0755), 0);
	write_file(paths[1], "late\n");
	assert_int_equal(follow_retry(&f), 1);
	assert_int_equal(f.unwatched, 0);
	assert_true(changed(&f, paths[1]));
	follow_clear(&f);
	write_file(paths[1], "late 2\n");
	assert_true(wait_marked(&f, EVENT_WAIT_MS) > 0);
	assert_true(changed(&f, paths[1]));

	/* The directory removed: told, then watched again once it is back. */
	follow_clear(&f);
	assert_int_equal(unlink(paths[1]), 0);
	assert_int_equal(rmdir(dir), 0);
	wait_marked(&f, 500);
	assert_int_equal(f.unwatched, 1);
	assert_int_equal(mkdir(dir, 0755), 0);
	write_file(paths[1], "late 3\n");
	follow_clear(&f);
	assert_int_equal(follow_retry(&f), 1);
	assert_true(changed(&f, paths[1]));
	assert_false(changed(&f, paths[0]));
	follow_close(&f);
	tree_remove(&t);
}

/*
 * The directory renamed away and another put in its place (a swap): the watch
 * is let go of the old one, and the new one's file is taken as changed.
 */
static void test_follow_dir_swapped(void **state)
{
	struct follow f;
	struct tree t;
	const char *paths[2];
	char dir[128], old[128];

	(void)state;
	tree_make(&t);
	paths[0] = tree_path(&t, 0, "a/main.policy");
	paths[1] = tree_path(&t, 1, "b/partners.policy");
	write_file(paths[0], "main\n");
	write_file(paths[1], "partners\n");
	assert_int_equal(follow_init(&f), 0);
	assert_int_equal(follow_set(&f, paths, 2, 0), 0);
	snprintf(dir, sizeof(dir), "%s/b", t.root);
	snprintf(old, sizeof(old), "%s/b.old", t.root);
	assert_int_equal(rename(dir, old), 0);
	wait_marked(&f, 500);
	assert_int_equal(f.unwatched, 1);
	assert_int_equal(mkdir(dir, 0755), 0);
	write_file(paths[1], "partners 2\n");
	assert_int_equal(follow_retry(&f), 1);
	assert_int_equal(f.unwatched, 0);
	assert_true(changed(&f, paths[1]));
	follow_clear(&f);
	/* The new directory is the one followed, not the old one. */
	write_file(tree_path(&t, 2, "b.old/partners.policy"), "old\n");
	assert_int_equal(wait_marked(&f, 300), 0);
	write_file(paths[1], "partners 3\n");
	assert_true(wait_marked(&f, EVENT_WAIT_MS) > 0);
	assert_true(changed(&f, paths[1]));
	follow_close(&f);
	tree_remove(&t);
}

/* A file changed after it was read (since_ns), before its directory was watched: marked. */
static void test_follow_changed_before_watch(void **state)
{
	struct follow f;
	struct tree t;
	const char *paths[2];
	int64_t since;

	(void)state;
	tree_make(&t);
	paths[0] = tree_path(&t, 0, "a/main.policy");
	paths[1] = tree_path(&t, 1, "b/partners.policy");
	write_file(paths[0], "main\n");
	write_file(paths[1], "partners\n");
	assert_int_equal(follow_init(&f), 0);
	assert_int_equal(follow_set(&f, paths, 1, 0), 0);

	/* Written well before the read: not marked. */
	usleep(100 * 1000);
	assert_int_equal(follow_set(&f, paths, 2, follow_now_ns()), 0);
	assert_false(changed(&f, paths[1]));

	/* Written after the read, before the watch. */
	assert_int_equal(follow_set(&f, paths, 1, 0), 0);
	since = follow_now_ns();
	write_file(paths[1], "partners 2\n");
	assert_int_equal(follow_set(&f, paths, 2, since), 1);
	/* Assumed: as it would be if written just before the read (the ctime slack). */
	assert_int_equal(changed(&f, paths[1]), FOLLOW_ASSUMED);
	assert_false(changed(&f, paths[0]));
	/* An event for it outranks the assumption. */
	write_file(paths[1], "partners 3\n");
	assert_true(wait_marked(&f, EVENT_WAIT_MS) > 0);
	assert_int_equal(changed(&f, paths[1]), FOLLOW_EVENT);
	follow_close(&f);
	tree_remove(&t);
}

/* POLICY's own directory missing: follow_main_err says why, nothing is logged for it. */
static void test_follow_main_dir_missing(void **state)
{
	struct follow f;
	const char *path = "/nonexistent-picfw-follow/x.policy";

	(void)state;
	assert_int_equal(follow_init(&f), 0);
	assert_int_equal(follow_set(&f, &path, 1, 0), 0);
	assert_int_equal(follow_main_err(&f), -ENOENT);
	follow_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_follow_dirs_once_names_matched),
	    cmocka_unit_test(test_follow_dropped_dir),
	    cmocka_unit_test(test_follow_missing_dir_retried),
	    cmocka_unit_test(test_follow_dir_swapped),
	    cmocka_unit_test(test_follow_changed_before_watch),
	    cmocka_unit_test(test_follow_main_dir_missing),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("follow", tests, NULL, NULL);
}
