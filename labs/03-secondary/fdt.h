/*
 * fdt.h: reading a flattened device tree (a DTB), such as the one OpenSBI
 * passes in a1. Reference: Devicetree Specification v0.4, chapter 5,
 * "Flattened Devicetree (DTB) Format".
 *
 * Nothing here trusts the blob: fdt_check() validates the header and every
 * offset in it and walks the whole structure block once, and each later read
 * checks its own bounds, so a broken or hostile tree gives an error, never a
 * read outside the blob or a hang.
 *
 * A node is named by its offset: the byte offset of its FDT_BEGIN_NODE token
 * from the start of the structure block. The root node is offset 0.
 */
#ifndef FDT_H
#define FDT_H

#include <stdint.h>

#define FDT_MAGIC 0xd00dfeed
#define FDT_HEADER_SIZE 40 /* version 17 */

/* Structure block tokens */
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9

/* Errors: all negative. */
#define FDT_ERR_NOTFOUND (-1) /* no such node or property */
#define FDT_ERR_BADMAGIC (-2) /* not a device tree */
#define FDT_ERR_BADVERSION (-3) /* not version 17 compatible */
#define FDT_ERR_BADHEADER (-4) /* sizes or offsets point outside the blob */
#define FDT_ERR_BADSTRUCT (-5) /* the structure block is malformed */
#define FDT_ERR_BADVALUE (-6) /* a property is too short for what is asked */

/* A message for an FDT_ERR_ value. */
const char *fdt_strerror(int err);

/* Validates a blob that may occupy at most bufsize bytes: header and structure. */
int fdt_check(const void *fdt, uint64_t bufsize);

/* The blob's total size, from a header fdt_check() accepted. */
uint32_t fdt_totalsize(const void *fdt);

/* The offset of the first / next child node, or an error. */
int fdt_subnode_first(const void *fdt, int node);
int fdt_subnode_next(const void *fdt, int node);

/*
 * The child of node called name: "cpus" matches "cpus" only, "memory"
 * matches "memory" and "memory@80000000" (a name without its unit address).
 */
int fdt_subnode(const void *fdt, int node, const char *name);

/* A node's name, including its unit address ("cpu@0"); "" for the root. */
const char *fdt_name(const void *fdt, int node);

/* A property's value and length, or NULL (and *len = an error). */
const void *fdt_prop(const void *fdt, int node, const char *name, int *len);

/* Cell index of a property (each cell a big-endian 32-bit word), as u32. */
int fdt_prop_u32(const void *fdt, int node, const char *name, int index, uint32_t *out);

/* cells (1 or 2) cells starting at cell index, joined big-endian. */
int fdt_prop_cells(const void *fdt, int node, const char *name, int index, int cells,
		   uint64_t *out);

/* A property that must be a NUL-terminated string; NULL if not. */
const char *fdt_prop_string(const void *fdt, int node, const char *name);

#endif
