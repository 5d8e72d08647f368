// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * maps.c - map images to the kernel, counters back (see maps.h).
 *
 * The port and class arrays are mmapable: a generation is written with
 * memcpy, not 131,072 syscalls. The tries are written entry by entry.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpffs.h"
#include "clock.h"
#include "log.h"
#include "maps.h"
#include "test_hooks.h"

#define PICFW_MAP_NAME(id, name) [id] = #name,
const char *const map_names[MAP_COUNT] = { PICFW_MAPS(PICFW_MAP_NAME) };
#undef PICFW_MAP_NAME

#define PORTS_BYTES \
	((size_t)PICFW_GENERATIONS * PICFW_TRANSPORTS * PICFW_PORTS * sizeof(struct picfw_port_classes))
#define BITS_BYTES ((size_t)PICFW_GENERATIONS * PICFW_MAX_CLASSES * sizeof(struct picfw_bits))
#define SLOT_ROWS_BYTES \
	((size_t)PICFW_GENERATIONS * PICFW_MAX_ROWS * sizeof(struct picfw_slot_row))

static size_t page_round(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (n + page - 1) / page * page;
}

static int maps_mmap(struct picfw_maps *m)
{
	void *p;

	p = mmap(NULL, page_round(PORTS_BYTES), PROT_READ | PROT_WRITE, MAP_SHARED,
		 m->fd[MAP_PORTS], 0);
	if (p == MAP_FAILED)
		return -errno;
	m->ports_mem = p;
	p = mmap(NULL, page_round(BITS_BYTES), PROT_READ | PROT_WRITE, MAP_SHARED,
		 m->fd[MAP_BITS], 0);
	if (p == MAP_FAILED)
		return -errno;
	m->bits_mem = p;
	p = mmap(NULL, page_round(SLOT_ROWS_BYTES), PROT_READ | PROT_WRITE, MAP_SHARED,
		 m->fd[MAP_SLOT_ROWS], 0);
	if (p == MAP_FAILED)
		return -errno;
	m->slot_rows_mem = p;
	return 0;
}

static void maps_init(struct picfw_maps *m)
{
	int i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < MAP_COUNT; i++)
		m->fd[i] = -1;
}

static int open_pin_dir(const char *dir, struct picfw_maps *m, int check);

/* IFACE's pins, with the layout check (check 1) or without (detach). */
static int open_pinned(const char *ifname, struct picfw_maps *m, int check)
{
	char dir[PICFW_PATH_LEN];
	int err;

	maps_init(m);
	err = pin_dir(ifname, dir, sizeof(dir));
	if (err)
		return err;
	return open_pin_dir(dir, m, check);
}

int maps_open_pinned(const char *ifname, struct picfw_maps *m)
{
	return open_pinned(ifname, m, 1);
}

int maps_open_pinned_any_version(const char *ifname, struct picfw_maps *m)
{
	return open_pinned(ifname, m, 0);
}

int maps_open_pin_dir(const char *dir, struct picfw_maps *m)
{
	return open_pin_dir(dir, m, 1);
}

/* Another version's filter in dir: say why, refuse it whole. */
static int other_version(const char *dir, const char *why)
{
	pr_warn("picfw: the filter pinned in %s was attached by another version of picfw "
		"(%s): this one would misread its maps. Detach it (picfw detach, or with "
		"that version), then attach with this one\n", dir, why);
	return -EPROTO;
}

static int open_pin_dir(const char *dir, struct picfw_maps *m, int check)
{
	char path[PICFW_PATH_LEN + 64], why[160];
	int i, err;

	maps_init(m);
	m->owned = 1;
	for (i = 0; i < MAP_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, map_names[i]);
		m->fd[i] = bpf_obj_get(path);
		if (m->fd[i] >= 0)
			continue;
		err = -errno;
		/* The first map there, a later one missing: an older picfw's filter. */
		if (i > 0 && err == -ENOENT && !check)
			continue; /* any version's (detach): leave it at -1 */
		maps_close(m);
		if (i > 0 && err == -ENOENT) {
			snprintf(why, sizeof(why), "it has no map %s", map_names[i]);
			return other_version(dir, why);
		}
		return err;
	}
	if (check && maps_layout_check(m->fd, why, sizeof(why))) {
		maps_close(m);
		return other_version(dir, why);
	}
	if (!check)
		return 0;
	err = maps_mmap(m);
	if (err)
		maps_close(m);
	return err;
}

int maps_from_fds(const int fds[MAP_COUNT], struct picfw_maps *m)
{
	int err;

	maps_init(m);
	memcpy(m->fd, fds, sizeof(m->fd));
	err = maps_mmap(m);
	if (err)
		maps_close(m);
	return err;
}

void maps_close(struct picfw_maps *m)
{
	int i;

	if (m->ports_mem)
		munmap(m->ports_mem, page_round(PORTS_BYTES));
	if (m->bits_mem)
		munmap(m->bits_mem, page_round(BITS_BYTES));
	if (m->slot_rows_mem)
		munmap(m->slot_rows_mem, page_round(SLOT_ROWS_BYTES));
	for (i = 0; m->owned && i < MAP_COUNT; i++)
		if (m->fd[i] >= 0)
			close(m->fd[i]);
	maps_init(m);
}

int maps_read_ctl(const struct picfw_maps *m, struct picfw_ctl *ctl)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(m->fd[MAP_CTL], &zero, ctl) ? -errno : 0;
}

int maps_read_prefix(const struct picfw_maps *m, int id, uint32_t key, void *out, size_t len)
{
	struct bpf_map_info info;
	__u32 n = sizeof(info);
	void *buf;
	int err = 0;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(m->fd[id], &info, &n))
		return -errno;
	buf = calloc(1, info.value_size > len ? info.value_size : len);
	if (!buf)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->fd[id], &key, buf))
		err = -errno;
	else
		memcpy(out, buf, len);
	free(buf);
	return err;
}

static void lpm_key(const struct prefix *p, uint32_t gen, void *key)
{
	if (p->family == 4) {
		struct picfw_lpm4 *k = key;

		k->prefixlen = PICFW_LPM_GEN_BITS + p->len;
		k->gen = gen;
		memcpy(k->addr, p->addr, 4);
	} else {
		struct picfw_lpm6 *k = key;

		k->prefixlen = PICFW_LPM_GEN_BITS + p->len;
		k->gen = gen;
		memcpy(k->addr, p->addr, 16);
	}
}

static int lpm_write(int fd, uint32_t gen, const struct image_prefix *v, size_t n)
{
	struct picfw_lpm6 key; /* large enough for both */
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&key, 0, sizeof(key));
		lpm_key(&v[i].p, gen, &key);
		if (bpf_map_update_elem(fd, &key, &v[i].class, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* Delete every key of generation gen from a trie (both key layouts start alike). */
static int lpm_clear(int fd, size_t key_size, uint32_t gen)
{
	uint8_t cur[sizeof(struct picfw_lpm6)], prev[sizeof(struct picfw_lpm6)];
	size_t n = 0, cap = 1024, i;
	int have_prev = 0, err = 0;
	uint8_t *keys, *more;

	keys = malloc(cap * key_size);
	if (!keys)
		return -ENOMEM;
	/* Collect first: deleting while walking would restart the walk. */
	while (!bpf_map_get_next_key(fd, have_prev ? prev : NULL, cur)) {
		if (((const struct picfw_lpm4 *)(const void *)cur)->gen == gen) {
			if (n == cap) {
				more = realloc(keys, 2 * cap * key_size);
				if (!more) {
					free(keys);
					return -ENOMEM;
				}
				keys = more;
				cap *= 2;
			}
			memcpy(keys + n++ * key_size, cur, key_size);
		}
		memcpy(prev, cur, key_size);
		have_prev = 1;
	}
	if (errno != ENOENT)
		err = -errno;
	for (i = 0; !err && i < n; i++)
		if (bpf_map_delete_elem(fd, keys + i * key_size) && errno != ENOENT)
			err = -errno;
	free(keys);
	return err;
}

int maps_sync(const struct picfw_maps *m)
{
	__u32 zero = 0;
	int inner, err = 0;

	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "picfw_sync_in", sizeof(__u32), sizeof(__u32), 1,
			       NULL);
	if (inner < 0)
		return -errno;
	/* Returns after synchronize_rcu(): see picfw_sync in bpf/maps.h. */
	if (bpf_map_update_elem(m->fd[MAP_GRACE], &zero, &inner, BPF_ANY))
		err = -errno;
	close(inner);
	return err;
}

/*
 * The trie array is 32 MiB and mmap of an array map maps every page at once
 * (remap_vmalloc_range), which costs milliseconds: map only the pages of
 * elements [first, first + count) of generation gen (per_gen elements of
 * size elem each), and unmap them after use (array_unmap). Returns element
 * first, or NULL with errno set.
 */
struct array_pages {
	void *p;
	size_t len;
};

static void *array_map(int fd, size_t elem, size_t per_gen, uint32_t gen, uint32_t first,
		       uint32_t count, struct array_pages *pg)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t start = ((size_t)gen * per_gen + first) * elem;
	size_t off = start / page * page;

	pg->len = page_round(start + (size_t)count * elem - off);
	pg->p = mmap(NULL, pg->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
	if (pg->p == MAP_FAILED || !pg->p) {
		if (!errno)
			errno = EIO;
		return NULL;
	}
	return (char *)pg->p + (start - off);
}

static void array_unmap(const struct array_pages *pg)
{
	munmap(pg->p, pg->len);
}

/* Elements [first, first + count) of generation gen from src; src NULL writes zeros. */
static int array_write(int fd, size_t elem, size_t per_gen, uint32_t gen, uint32_t first,
		       uint32_t count, const void *src)
{
	struct array_pages pg;
	void *at;

	if (!count)
		return 0;
	at = array_map(fd, elem, per_gen, gen, first, count, &pg);
	if (!at)
		return -errno;
	if (src)
		memcpy(at, src, count * elem);
	else
		memset(at, 0, count * elem);
	array_unmap(&pg);
	return 0;
}

/*
 * Generation gen's row table: the image's cells (rows), each with its row's
 * counter slot beside it (slots[row]). Cells past the table's are never
 * read: no clearing.
 */
static int row_table_write(const struct picfw_maps *m, uint32_t gen,
			   const struct policy_image *img, const uint32_t *slots)
{
	struct picfw_row_cell *cell;
	struct array_pages pg;
	size_t i, row;
	int err = 0;

	if (img->nrow_table > PICFW_ROW_CELLS)
		return -EINVAL;
	if (!img->nrow_table)
		return 0;
	cell = array_map(m->fd[MAP_ROW_TABLE], sizeof(*cell), PICFW_ROW_CELLS, gen, 0,
			 (uint32_t)img->nrow_table, &pg);
	if (!cell)
		return -errno;
	for (i = 0; i < img->nrow_table; i++) {
		row = img->row_table[i];
		if (row > img->nrows) {
			err = -EINVAL;
			break;
		}
		cell[i].row_plus1 = (uint16_t)row;
		cell[i].slot = row ? (uint16_t)slots[row - 1] : 0;
	}
	array_unmap(&pg);
	return err;
}

static int trie_write(const struct picfw_maps *m, uint32_t gen, uint32_t first, uint32_t count,
		      const struct picfw_trie_node *src)
{
	return array_write(m->fd[MAP_TRIE], sizeof(*src), PICFW_TRIE_NODES, gen, first, count, src);
}

/* Remove generation gen's entries, and its first `nodes` trie nodes. */
static int clear_generation(const struct picfw_maps *m, uint32_t gen, uint32_t nodes)
{
	int err;

	err = lpm_clear(m->fd[MAP_SRC4], sizeof(struct picfw_lpm4), gen);
	if (!err)
		err = lpm_clear(m->fd[MAP_SRC6], sizeof(struct picfw_lpm6), gen);
	if (!err)
		err = lpm_clear(m->fd[MAP_PROT4], sizeof(struct picfw_lpm4), gen);
	if (!err)
		err = lpm_clear(m->fd[MAP_PROT6], sizeof(struct picfw_lpm6), gen);
	if (err)
		return err;
	memset(m->ports_mem + (size_t)gen * PICFW_TRANSPORTS * PICFW_PORTS, 0,
	       PORTS_BYTES / PICFW_GENERATIONS);
	memset(m->bits_mem + (size_t)gen * PICFW_MAX_CLASSES, 0, BITS_BYTES / PICFW_GENERATIONS);
	memset(m->slot_rows_mem + (size_t)gen * PICFW_MAX_ROWS, 0, SLOT_ROWS_BYTES / PICFW_GENERATIONS);
	return trie_write(m, gen, 0, nodes, NULL);
}

int maps_clear_generation(const struct picfw_maps *m, uint32_t gen)
{
	/* Not knowing what a killed writer left, clear every node of the generation. */
	return clear_generation(m, gen, PICFW_TRIE_NODES);
}

int maps_clear_generation_used(const struct picfw_maps *m, uint32_t gen,
			       const struct picfw_gen_cfg *cfg)
{
	return clear_generation(m, gen,
			       cfg->trie_nodes <= PICFW_TRIE_NODES ? cfg->trie_nodes : PICFW_TRIE_NODES);
}

static int write_generation(const struct picfw_maps *m, uint32_t gen,
			    const struct policy_image *img, const uint32_t *slots, int tries_clean)
{
	uint32_t i, key;
	int err = 0;

	if (gen >= PICFW_GENERATIONS || img->nclasses > PICFW_MAX_CLASSES)
		return -EINVAL;
	if (tries_clean) {
		memset(m->ports_mem + (size_t)gen * PICFW_TRANSPORTS * PICFW_PORTS, 0,
		       PORTS_BYTES / PICFW_GENERATIONS);
		memset(m->bits_mem + (size_t)gen * PICFW_MAX_CLASSES, 0,
		       BITS_BYTES / PICFW_GENERATIONS);
		memset(m->slot_rows_mem + (size_t)gen * PICFW_MAX_ROWS, 0,
		       SLOT_ROWS_BYTES / PICFW_GENERATIONS);
	} else {
		err = maps_clear_generation(m, gen);
	}
	if (err)
		return err;
	/*
	 * A family the array trie answers never reads its LPM trie: fill it only
	 * for a family that falls back (100,000 prefixes: half the write, ~4 MiB).
	 */
	if (!img->cfg.trie4)
		err = lpm_write(m->fd[MAP_SRC4], gen, img->src4, img->nsrc4);
	if (!err && !img->cfg.trie6)
		err = lpm_write(m->fd[MAP_SRC6], gen, img->src6, img->nsrc6);
	if (!err)
		err = test_hook_fail_write();
	if (!err)
		err = lpm_write(m->fd[MAP_PROT4], gen, img->prot4, img->nprot4);
	if (!err)
		err = lpm_write(m->fd[MAP_PROT6], gen, img->prot6, img->nprot6);
	if (err)
		return err;
	memcpy(m->ports_mem + (size_t)gen * PICFW_TRANSPORTS * PICFW_PORTS, img->ports,
	       PORTS_BYTES / PICFW_GENERATIONS);
	if (img->ntrie > PICFW_TRIE_NODES)
		return -EINVAL;
	err = trie_write(m, gen, 0, img->ntrie, img->trie);
	/* Tails need no clearing: only the nodes just written point to them. */
	if (!err && img->ntails > PICFW_TRIE_TAILS)
		err = -EINVAL;
	if (!err)
		err = array_write(m->fd[MAP_TRIE_TAIL], sizeof(struct picfw_trie_tail),
				  PICFW_TRIE_TAILS, gen, 0, img->ntails, img->tails);
	if (err)
		return err;
	/* Class 0 stays all zero: no row. */
	memcpy(m->bits_mem + (size_t)gen * PICFW_MAX_CLASSES + 1, img->classes + 1,
	       (img->nclasses - 1) * sizeof(struct picfw_bits));
	err = row_table_write(m, gen, img, slots);
	if (err)
		return err;
	for (i = 0; i < img->nrows; i++) {
		key = gen * PICFW_MAX_ROWS + i;
		if (bpf_map_update_elem(m->fd[MAP_SLOTS], &key, &slots[i], BPF_ANY))
			return -errno;
		if (bpf_map_update_elem(m->fd[MAP_ROW_META], &key, &img->rows[i], BPF_ANY))
			return -errno;
		/* Flows live as long as the outbound row that made them: by slot. */
		if (img->rows[i].direction == PICFW_DIR_OUT && slots[i] < PICFW_MAX_ROWS)
			m->slot_rows_mem[(size_t)gen * PICFW_MAX_ROWS + slots[i]].row_plus1 = i + 1;
	}
	return 0;
}

int maps_write_generation(const struct picfw_maps *m, uint32_t gen, const struct policy_image *img,
			  const uint32_t *slots)
{
	return write_generation(m, gen, img, slots, 0);
}

int maps_write_clean_generation(const struct picfw_maps *m, uint32_t gen,
				const struct policy_image *img, const uint32_t *slots)
{
	return write_generation(m, gen, img, slots, 1);
}

int maps_activate(const struct picfw_maps *m, uint32_t gen, const struct picfw_gen_cfg *cfg)
{
	uint32_t old_epoch;
	struct picfw_ctl ctl;
	__u32 zero = 0;
	int err;

	err = maps_read_ctl(m, &ctl);
	if (err)
		return err;
	old_epoch = ctl.gen[gen ^ 1].epoch > ctl.gen[gen].epoch ? ctl.gen[gen ^ 1].epoch :
								  ctl.gen[gen].epoch;
	ctl.gen[gen] = *cfg;
	/* The flows' clock (see tick_ns): 0 would stop every flow's time. */
	ctl.gen[gen].tick_ns = flow_tick_ns();
	if (!ctl.gen[gen].tick_ns)
		return -errno;
	/* A new epoch for every activation, never 0 (seeded flows' "match me"). */
	ctl.gen[gen].epoch = old_epoch + 1 ? old_epoch + 1 : 1;
	/*
	 * The program reads `active` once per packet. The update copies the whole
	 * value, but the only bytes that change are gen[gen] (not read while it
	 * is inactive) and the low byte of `active`, so no reader can see a mix.
	 */
	if (bpf_map_update_elem(m->fd[MAP_CTL], &zero, &ctl, BPF_ANY))
		return -errno;
	ctl.active = gen;
	if (bpf_map_update_elem(m->fd[MAP_CTL], &zero, &ctl, BPF_ANY))
		return -errno;
	return 0;
}

int maps_open_pickup(const struct picfw_maps *m, uint32_t seconds)
{
	struct picfw_ctl ctl;
	__u32 zero = 0;
	uint64_t now;
	int err;

	err = maps_read_ctl(m, &ctl);
	if (err)
		return err;
	now = flow_clock_ns();
	if (seconds && !now)
		return -errno;
	ctl.pickup_until = seconds ? now + (uint64_t)seconds * 1000000000ULL : 0;
	if (bpf_map_update_elem(m->fd[MAP_CTL], &zero, &ctl, BPF_ANY))
		return -errno;
	return 0;
}

static int percpu_sum(int fd, uint32_t key, struct picfw_counter *buf, int ncpu,
		      struct picfw_counter *out)
{
	int c;

	if (bpf_map_lookup_elem(fd, &key, buf))
		return -errno;
	out->packets = 0;
	out->bytes = 0;
	for (c = 0; c < ncpu; c++) {
		out->packets += buf[c].packets;
		out->bytes += buf[c].bytes;
	}
	return 0;
}

/*
 * Every row slot of picfw_row_stats in one batch lookup (one syscall where
 * there were PICFW_MAX_ROWS: what a scrape of the exporter costs). 0, or a
 * negative errno; the caller falls back to one lookup per slot.
 */
static int row_counters_batch(int fd, int ncpu, struct picfw_counter *rows)
{
	uint32_t keys[PICFW_MAX_ROWS];
	struct picfw_counter *vals;
	uint32_t out_batch, count = PICFW_MAX_ROWS, i;
	int c, err = 0;

	vals = calloc((size_t)PICFW_MAX_ROWS * (size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	/* An array map answers in one call; ENOENT says the last key was reached. */
	if (bpf_map_lookup_batch(fd, NULL, &out_batch, keys, vals, &count, NULL) &&
	    errno != ENOENT)
		err = -errno;
	if (!err && count != PICFW_MAX_ROWS)
		err = -EAGAIN;
	for (i = 0; !err && i < PICFW_MAX_ROWS; i++) {
		if (keys[i] >= PICFW_MAX_ROWS) {
			err = -EINVAL;
			break;
		}
		rows[keys[i]].packets = rows[keys[i]].bytes = 0;
		for (c = 0; c < ncpu; c++) {
			rows[keys[i]].packets += vals[(size_t)i * ncpu + c].packets;
			rows[keys[i]].bytes += vals[(size_t)i * ncpu + c].bytes;
		}
	}
	free(vals);
	return err;
}

int maps_read_counters(const struct picfw_maps *m, struct picfw_counter *rows,
		       struct picfw_counter *reasons)
{
	int ncpu = libbpf_num_possible_cpus();
	struct picfw_counter *buf;
	uint32_t i;
	int err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	if (rows && !row_counters_batch(m->fd[MAP_ROW_STATS], ncpu, rows))
		rows = NULL; /* read */
	buf = calloc((size_t)ncpu, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	for (i = 0; rows && !err && i < PICFW_MAX_ROWS; i++)
		err = percpu_sum(m->fd[MAP_ROW_STATS], i, buf, ncpu, &rows[i]);
	for (i = 0; reasons && !err && i < PICFW_REASON_SLOTS; i++)
		err = percpu_sum(m->fd[MAP_REASON_STATS], i, buf, ncpu, &reasons[i]);
	free(buf);
	return err;
}

int maps_zero_row_counter(const struct picfw_maps *m, uint32_t slot)
{
	int ncpu = libbpf_num_possible_cpus();
	struct picfw_counter *buf;
	int err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	buf = calloc((size_t)ncpu, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	if (bpf_map_update_elem(m->fd[MAP_ROW_STATS], &slot, buf, BPF_ANY))
		err = -errno;
	free(buf);
	return err;
}

int maps_read_events(const struct picfw_maps *m, uint64_t *events, uint64_t *flows,
		     uint32_t *sizes)
{
	int ncpu = libbpf_num_possible_cpus(), c, err = 0;
	uint64_t *buf;
	uint32_t i;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	buf = calloc((size_t)ncpu, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	for (i = 0; !err && i < PICFW_EVENT_SLOTS; i++) {
		if (bpf_map_lookup_elem(m->fd[MAP_EVENTS], &i, buf)) {
			err = -errno;
			break;
		}
		events[i] = 0;
		for (c = 0; c < ncpu; c++)
			events[i] += buf[c];
	}
	free(buf);
	for (i = 0; !err && i < PICFW_FLOW_TABLES; i++)
		if (bpf_map_lookup_elem(m->fd[MAP_FLOW_COUNT], &i, &flows[i]))
			err = -errno;
	return err ? err : maps_flow_sizes(m, sizes);
}

int maps_add_event(const struct picfw_maps *m, uint32_t table, uint32_t event, uint64_t n)
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	uint32_t key = table * PICFW_EVENTS + event;
	uint64_t *buf;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	if (table >= PICFW_FLOW_TABLES || event >= PICFW_EVENTS)
		return -EINVAL;
	buf = calloc((size_t)ncpu, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	/* CPU 0's counter; a program may add to it meanwhile: approximate, as maps_add_flow. */
	if (bpf_map_lookup_elem(m->fd[MAP_EVENTS], &key, buf))
		err = -errno;
	buf[0] += n;
	if (!err && bpf_map_update_elem(m->fd[MAP_EVENTS], &key, buf, BPF_ANY))
		err = -errno;
	free(buf);
	return err;
}

int maps_flow_sizes(const struct picfw_maps *m, uint32_t *sizes)
{
	struct bpf_map_info info;
	uint32_t i, len;

	for (i = 0; i < PICFW_FLOW_TABLES; i++) {
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(m->fd[MAP_FLOWS_TCP4 + i], &info, &len))
			return -errno;
		sizes[i] = info.max_entries;
	}
	return 0;
}

uint32_t flow_table_of(uint8_t family, uint8_t proto)
{
	return (family == 6 ? PICFW_FT_TCP6 : PICFW_FT_TCP4) + (proto == IPPROTO_UDP);
}

/* A table's key from an entry, and back; returns the key size. */
static size_t flow_key_pack(const struct flow_entry *e, void *key)
{
	struct picfw_flow4_key *k4 = key;
	struct picfw_flow6_key *k6 = key;

	if (e->family == 4) {
		memcpy(k4->remote, e->remote, 4);
		memcpy(k4->local, e->local, 4);
		k4->remote_port = e->remote_port;
		k4->local_port = e->local_port;
		return sizeof(*k4);
	}
	memcpy(k6->remote, e->remote, 16);
	memcpy(k6->local, e->local, 16);
	k6->remote_port = e->remote_port;
	k6->local_port = e->local_port;
	return sizeof(*k6);
}

static void flow_key_unpack(uint32_t table, const void *key, struct flow_entry *e)
{
	const struct picfw_flow4_key *k4 = key;
	const struct picfw_flow6_key *k6 = key;

	memset(e, 0, sizeof(*e));
	e->table = table;
	e->family = table == PICFW_FT_TCP6 || table == PICFW_FT_UDP6 ? 6 : 4;
	e->proto = table == PICFW_FT_UDP4 || table == PICFW_FT_UDP6 ? IPPROTO_UDP : IPPROTO_TCP;
	if (e->family == 4) {
		memcpy(e->remote, k4->remote, 4);
		memcpy(e->local, k4->local, 4);
		e->remote_port = k4->remote_port;
		e->local_port = k4->local_port;
	} else {
		memcpy(e->remote, k6->remote, 16);
		memcpy(e->local, k6->local, 16);
		e->remote_port = k6->remote_port;
		e->local_port = k6->local_port;
	}
}

int maps_for_each_flow(const struct picfw_maps *m,
		       int (*fn)(const struct flow_entry *e, void *ctx), void *ctx)
{
	struct picfw_flow6_key cur, prev; /* the larger key serves both */
	struct flow_entry e;
	struct picfw_flow f;
	uint32_t t, n;
	int fd, have_prev;

	for (t = 0; t < PICFW_FLOW_TABLES; t++) {
		fd = m->fd[MAP_FLOWS_TCP4 + t];
		have_prev = 0;
		/* Bounded: an LRU table that churns under us must not keep us here. */
		for (n = 0; n < 4 * PICFW_MAX_FLOWS_PER_TABLE; n++) {
			if (bpf_map_get_next_key(fd, have_prev ? &prev : NULL, &cur)) {
				if (errno != ENOENT)
					return -errno;
				break;
			}
			if (!bpf_map_lookup_elem(fd, &cur, &f)) {
				flow_key_unpack(t, &cur, &e);
				e.flow = f;
				if (fn(&e, ctx))
					return 0;
			}
			prev = cur;
			have_prev = 1;
		}
	}
	return 0;
}

int maps_add_flow(const struct picfw_maps *m, const struct flow_entry *e)
{
	struct picfw_flow6_key key = { 0 };
	uint32_t t = flow_table_of(e->family, e->proto);
	uint64_t count;

	flow_key_pack(e, &key);
	if (bpf_map_update_elem(m->fd[MAP_FLOWS_TCP4 + t], &key, &e->flow, BPF_NOEXIST))
		return -errno;
	/*
	 * Count it as the programs do (they add atomically; this read and write
	 * is not, so a flow the egress program makes at the same instant may go
	 * uncounted: the count is approximate anyway, see bpf/maps.h).
	 */
	if (!bpf_map_lookup_elem(m->fd[MAP_FLOW_COUNT], &t, &count)) {
		count++;
		bpf_map_update_elem(m->fd[MAP_FLOW_COUNT], &t, &count, BPF_ANY);
	}
	return 0;
}

int maps_read_meta(const struct picfw_maps *m, uint32_t gen, struct picfw_meta *meta)
{
	return bpf_map_lookup_elem(m->fd[MAP_META], &gen, meta) ? -errno : 0;
}

int maps_write_meta(const struct picfw_maps *m, uint32_t gen, const struct picfw_meta *meta)
{
	struct picfw_meta v = *meta;

	v.layout = PICFW_LAYOUT; /* this picfw's meaning of the maps (maps_layout_check) */
	return bpf_map_update_elem(m->fd[MAP_META], &gen, &v, BPF_ANY) ? -errno : 0;
}

int maps_read_applies(const struct picfw_maps *m, struct picfw_applies *a)
{
	uint32_t key = 0;

	return bpf_map_lookup_elem(m->fd[MAP_APPLIES], &key, a) ? -errno : 0;
}

int maps_count_apply(const struct picfw_maps *m, int ok, uint64_t now)
{
	struct picfw_applies a;
	uint32_t key = 0;
	int err;

	err = maps_read_applies(m, &a);
	if (err)
		return err;
	if (ok) {
		a.ok++;
		a.last_ok = now;
	} else {
		a.refused++;
		a.last_refused = now;
	}
	return bpf_map_update_elem(m->fd[MAP_APPLIES], &key, &a, BPF_ANY) ? -errno : 0;
}

int maps_read_slots(const struct picfw_maps *m, uint32_t gen, uint32_t n, uint32_t *slots)
{
	uint32_t i, key;

	if (gen >= PICFW_GENERATIONS || n > PICFW_MAX_ROWS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		key = gen * PICFW_MAX_ROWS + i;
		if (bpf_map_lookup_elem(m->fd[MAP_SLOTS], &key, &slots[i]))
			return -errno;
	}
	return 0;
}

int maps_read_row_meta(const struct picfw_maps *m, uint32_t gen, uint32_t n,
		       struct picfw_row_meta *rows)
{
	uint32_t i, key;

	if (gen >= PICFW_GENERATIONS || n > PICFW_MAX_ROWS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		key = gen * PICFW_MAX_ROWS + i;
		if (bpf_map_lookup_elem(m->fd[MAP_ROW_META], &key, &rows[i]))
			return -errno;
	}
	return 0;
}

int maps_is_protected(const struct picfw_maps *m, uint32_t gen, const struct prefix *addr)
{
	struct picfw_lpm6 key = { 0 }; /* large enough for both */
	uint32_t value;

	lpm_key(addr, gen, &key);
	if (!bpf_map_lookup_elem(m->fd[addr->family == 4 ? MAP_PROT4 : MAP_PROT6], &key, &value))
		return 1;
	return errno == ENOENT ? 0 : -errno;
}
