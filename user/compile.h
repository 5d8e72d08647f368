/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * compile.h - rows and sets to map images. Pure C: no libbpf, no kernel.
 *
 * The image is what one generation of the maps holds:
 *  - remote-address tries (src4/src6): every prefix of every set that a row
 *    names as its remote side, each with the class of rows whose remote set
 *    covers the addresses for which it is the longest match;
 *  - protected tries (prot4/prot6): the protected set's prefixes;
 *  - port classes per transport and port, for inbound destination ports and
 *    for the source ports of outbound rows' replies;
 *  - the class table: row bitmaps, deduplicated, class 0 = no row.
 */
#ifndef PICFW_COMPILE_H
#define PICFW_COMPILE_H

#include <stddef.h>
#include <stdint.h>

#include "picfw.h"
#include "policy.h"

struct image_prefix {
	struct prefix p;
	uint32_t class; /* picfw_bits index; 1 for protected prefixes */
};

struct policy_image {
	uint32_t mode;
	uint32_t nrows;
	struct picfw_gen_cfg cfg; /* what picfw_ctl holds for this generation (epoch: the writer's) */
	uint32_t flows[PICFW_TRANSPORTS]; /* flow table sizes the policy asks for */
	struct image_prefix *src4, *src6, *prot4, *prot6;
	size_t nsrc4, nsrc6, nprot4, nprot6;
	/* [transport][port] */
	struct picfw_port_classes (*ports)[PICFW_PORTS];
	struct picfw_bits *classes; /* classes[0] is the empty set */
	size_t nclasses;
	struct picfw_row_meta *rows; /* nrows entries, file order */
	/* The 256-ary trie of src4/src6 (cfg.trie4/6 say which family it holds). */
	struct picfw_trie_node *trie;
	uint32_t ntrie;
	struct picfw_trie_tail *tails; /* the trie's single-prefix slots */
	uint32_t ntails;
	/* The row table's cells (see picfw_row_table), when cfg.row_table_classes is not 0. */
	uint16_t *row_table;
	size_t nrow_table;
};

/*
 * Tests: the row table's cells per generation (PICFW_ROW_CELLS; 0 restores
 * it), so that a small policy gets a table that holds only some of its
 * inbound port classes.
 */
void compile_set_row_cells(size_t cells);

/* Class of addr in img's trie, as the XDP program walks it (for tests). */
uint32_t image_trie_lookup(const struct policy_image *img, uint8_t family, const uint8_t *addr);

/*
 * Compile p into img. Returns 0, or -1 with a one-line reason in err (a limit
 * exceeded, out of memory); img is then empty.
 */
int compile_policy(const struct policy *p, struct policy_image *img, char *err, size_t errlen);

/* The sets a failed compile blames: index into policy.sets, most to blame first. */
#define COMPILE_BLAME_MAX 3
struct compile_blame {
	int set[COMPILE_BLAME_MAX];
	unsigned nset;
};

/*
 * compile_policy(), and when the class table overflows, the remote sets whose
 * prefixes made the most classes in blame (nset 0 when no set is to blame).
 */
int compile_policy_blame(const struct policy *p, struct policy_image *img, char *err,
			 size_t errlen, struct compile_blame *blame);
void image_free(struct policy_image *img);

/*
 * Counter slots for img's rows, given the active policy's rows (old_rows[k]
 * counting in old_slots[k]): a row whose stable name is in both keeps its
 * slot; a new row gets a slot the active policy does not use (fresh[i] = 1,
 * its counters must be zeroed before the switch). 0, or -1 if out of slots.
 */
int compile_plan_slots(const struct picfw_row_meta *old_rows, const uint32_t *old_slots,
		       uint32_t nold, const struct policy_image *img, uint32_t *slots,
		       uint8_t *fresh);

/* 64-bit FNV-1a: *h (from FNV1A64_BASIS) over len bytes more. */
#define FNV1A64_BASIS 1469598103934665603ULL
void fnv1a64(uint64_t *h, const void *data, size_t len);

/* 64-bit FNV-1a digest of the compiled policy: equal images, equal digests. */
uint64_t image_digest(const struct policy_image *img);

/* Set bit / test bit helpers on a row bitmap, shared with the tests. */
static inline void bits_set(struct picfw_bits *b, unsigned row)
{
	b->words[row / 64] |= 1ULL << (row % 64);
	b->summary |= 1ULL << (row / 64);
}

static inline int bits_test(const struct picfw_bits *b, unsigned row)
{
	return (b->words[row / 64] >> (row % 64)) & 1;
}

#endif /* PICFW_COMPILE_H */
