/*
 * fdt.c: a small, careful device tree reader. Pure logic: no CSRs, so the
 * host unit tests and the fuzzer run it too.
 *
 * A DTB is four parts, located by a header of big-endian 32-bit words:
 *
 *   +--------------------+ 0
 *   | header (40 bytes)  |  magic, totalsize, offsets and sizes below
 *   +--------------------+ off_mem_rsvmap
 *   | memory reservation |  (address, size) pairs, ended by (0, 0)
 *   +--------------------+ off_dt_struct
 *   | structure block    |  tokens: BEGIN_NODE name, PROP len nameoff value,
 *   |                    |          END_NODE, NOP, and one END
 *   +--------------------+ off_dt_strings
 *   | strings block      |  property names, NUL-terminated, shared
 *   +--------------------+ totalsize
 *
 * Every token starts on a 4-byte boundary; names and values are padded.
 */
#include "fdt.h"
#include "lib.h"

/* Header fields, as word indexes. */
enum {
	H_MAGIC,
	H_TOTALSIZE,
	H_OFF_STRUCT,
	H_OFF_STRINGS,
	H_OFF_RSVMAP,
	H_VERSION,
	H_LAST_COMP,
	H_BOOT_CPU,
	H_SIZE_STRINGS,
	H_SIZE_STRUCT,
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t header(const void *fdt, int field)
{
	return be32((const uint8_t *)fdt + 4 * field);
}

static const uint8_t *struct_block(const void *fdt)
{
	return (const uint8_t *)fdt + header(fdt, H_OFF_STRUCT);
}

static uint32_t align4(uint32_t x)
{
	return (x + 3) & ~3U;
}

const char *fdt_strerror(int err)
{
	switch (err) {
	case 0:
		return "no error";
	case FDT_ERR_NOTFOUND:
		return "not found";
	case FDT_ERR_BADMAGIC:
		return "not a device tree (bad magic)";
	case FDT_ERR_BADVERSION:
		return "unsupported device tree version";
	case FDT_ERR_BADHEADER:
		return "header points outside the blob";
	case FDT_ERR_BADSTRUCT:
		return "malformed structure block";
	case FDT_ERR_BADVALUE:
		return "property value too short";
	default:
		return "unknown error";
	}
}

/*
 * Reads the token at offset and sets *next to the offset of the token after
 * it. Returns the token, or FDT_ERR_BADSTRUCT if any part of it (a node's
 * name, a property's name or value) lies outside its block.
 */
static int fdt_token(const void *fdt, int offset, int *next)
{
	const uint8_t *s = struct_block(fdt);
	uint32_t size = header(fdt, H_SIZE_STRUCT);

	if (offset < 0 || (offset & 3) != 0 || (uint32_t)offset + 4 > size)
		return FDT_ERR_BADSTRUCT;
	uint32_t tag = be32(s + offset);
	uint32_t o = (uint32_t)offset + 4;

	switch (tag) {
	case FDT_BEGIN_NODE: {
		/* The name runs to a NUL inside the block. */
		uint32_t end = o;
		while (end < size && s[end] != '\0')
			end++;
		if (end == size)
			return FDT_ERR_BADSTRUCT;
		o = align4(end + 1);
		break;
	}
	case FDT_PROP: {
		if (o + 8 > size)
			return FDT_ERR_BADSTRUCT;
		uint32_t len = be32(s + o);
		uint32_t nameoff = be32(s + o + 4);
		uint32_t strings_size = header(fdt, H_SIZE_STRINGS);
		const uint8_t *strings = (const uint8_t *)fdt + header(fdt, H_OFF_STRINGS);
		o += 8;
		if (len > size - o)
			return FDT_ERR_BADSTRUCT;
		/* The property's name: a NUL-terminated string in the strings block. */
		uint32_t n = nameoff;
		while (n < strings_size && strings[n] != '\0')
			n++;
		if (n >= strings_size)
			return FDT_ERR_BADSTRUCT;
		o = align4(o + len);
		break;
	}
	case FDT_END_NODE:
	case FDT_NOP:
	case FDT_END:
		break;
	default:
		return FDT_ERR_BADSTRUCT;
	}
	if (o > size)
		return FDT_ERR_BADSTRUCT;
	*next = (int)o;
	return (int)tag;
}

int fdt_check(const void *fdt, uint64_t bufsize)
{
	if (bufsize < FDT_HEADER_SIZE)
		return FDT_ERR_BADHEADER;
	if (header(fdt, H_MAGIC) != FDT_MAGIC)
		return FDT_ERR_BADMAGIC;
	if (header(fdt, H_VERSION) < 17 || header(fdt, H_LAST_COMP) > 17)
		return FDT_ERR_BADVERSION;

	/* 64-bit sums: a 32-bit offset plus a 32-bit size cannot wrap. */
	uint64_t total = header(fdt, H_TOTALSIZE);
	uint64_t off_rsv = header(fdt, H_OFF_RSVMAP);
	uint64_t off_struct = header(fdt, H_OFF_STRUCT);
	uint64_t size_struct = header(fdt, H_SIZE_STRUCT);
	uint64_t off_strings = header(fdt, H_OFF_STRINGS);
	uint64_t size_strings = header(fdt, H_SIZE_STRINGS);

	/* Offsets are ints in this reader: keep the blob under 2 GiB. */
	if (total < FDT_HEADER_SIZE || total > bufsize || total > 0x7fffffff)
		return FDT_ERR_BADHEADER;
	if (off_rsv < FDT_HEADER_SIZE || (off_rsv & 7) != 0 || off_rsv > total)
		return FDT_ERR_BADHEADER;
	if (off_struct < FDT_HEADER_SIZE || (off_struct & 3) != 0 || (size_struct & 3) != 0 ||
	    off_struct + size_struct > total)
		return FDT_ERR_BADHEADER;
	if (off_strings < FDT_HEADER_SIZE || off_strings + size_strings > total)
		return FDT_ERR_BADHEADER;

	/* The reservation map ends with an all-zero entry inside the blob. */
	const uint8_t *b = fdt;
	for (uint64_t o = off_rsv;; o += 16) {
		if (o + 16 > total)
			return FDT_ERR_BADHEADER;
		int zero = 1;
		for (int i = 0; i < 16; i++)
			zero &= b[o + i] == 0;
		if (zero)
			break;
	}

	/*
	 * Walk the whole structure block once: one root node, properly nested,
	 * then FDT_END. Each token moves forward, so the walk ends.
	 */
	int offset = 0, next, depth = 0, tag;
	if (fdt_token(fdt, 0, &next) != FDT_BEGIN_NODE)
		return FDT_ERR_BADSTRUCT;
	do {
		tag = fdt_token(fdt, offset, &next);
		if (tag < 0)
			return tag;
		if (tag == FDT_BEGIN_NODE)
			depth++;
		if (tag == FDT_END_NODE && --depth < 0)
			return FDT_ERR_BADSTRUCT;
		if (tag == FDT_BEGIN_NODE && depth == 1 && offset != 0)
			return FDT_ERR_BADSTRUCT; /* a second root */
		if (tag == FDT_PROP && depth == 0)
			return FDT_ERR_BADSTRUCT; /* a property outside every node */
		offset = next;
	} while (tag != FDT_END);
	return depth == 0 ? 0 : FDT_ERR_BADSTRUCT;
}

uint32_t fdt_totalsize(const void *fdt)
{
	return header(fdt, H_TOTALSIZE);
}

/* Skips properties and NOPs after offset; returns the next other token's offset. */
static int fdt_skip_props(const void *fdt, int offset, int *tag)
{
	int next;
	for (;;) {
		*tag = fdt_token(fdt, offset, &next);
		if (*tag < 0 || (*tag != FDT_PROP && *tag != FDT_NOP))
			return offset;
		offset = next;
	}
}

int fdt_subnode_first(const void *fdt, int node)
{
	int next, tag;
	if (fdt_token(fdt, node, &next) != FDT_BEGIN_NODE)
		return FDT_ERR_BADSTRUCT;
	int offset = fdt_skip_props(fdt, next, &tag);
	if (tag < 0)
		return tag;
	return tag == FDT_BEGIN_NODE ? offset : FDT_ERR_NOTFOUND;
}

int fdt_subnode_next(const void *fdt, int node)
{
	int offset = node, next, depth = 0, tag;

	if (fdt_token(fdt, node, &next) != FDT_BEGIN_NODE)
		return FDT_ERR_BADSTRUCT;

	/* Step over node and everything inside it. */
	do {
		tag = fdt_token(fdt, offset, &next);
		if (tag < 0 || tag == FDT_END)
			return FDT_ERR_BADSTRUCT;
		if (tag == FDT_BEGIN_NODE)
			depth++;
		if (tag == FDT_END_NODE)
			depth--;
		offset = next;
	} while (depth > 0);

	offset = fdt_skip_props(fdt, offset, &tag);
	if (tag < 0)
		return tag;
	return tag == FDT_BEGIN_NODE ? offset : FDT_ERR_NOTFOUND;
}

const char *fdt_name(const void *fdt, int node)
{
	int next;
	if (fdt_token(fdt, node, &next) != FDT_BEGIN_NODE)
		return NULL;
	return (const char *)struct_block(fdt) + node + 4;
}

int fdt_subnode(const void *fdt, int node, const char *name)
{
	size_t len = strlen(name);
	int child;

	for (child = fdt_subnode_first(fdt, node); child >= 0;
	     child = fdt_subnode_next(fdt, child)) {
		const char *n = fdt_name(fdt, child);
		if (strncmp(n, name, len) == 0 && (n[len] == '\0' || n[len] == '@'))
			return child;
	}
	return child;
}

const void *fdt_prop(const void *fdt, int node, const char *name, int *len)
{
	const uint8_t *s = struct_block(fdt);
	const char *strings = (const char *)fdt + header(fdt, H_OFF_STRINGS);
	int offset, next, tag;

	*len = FDT_ERR_BADSTRUCT;
	if (fdt_token(fdt, node, &offset) != FDT_BEGIN_NODE)
		return NULL;
	/* Properties come first in a node, before any child. */
	for (;; offset = next) {
		tag = fdt_token(fdt, offset, &next);
		if (tag < 0) {
			*len = tag;
			return NULL;
		}
		if (tag == FDT_NOP)
			continue;
		if (tag != FDT_PROP)
			break;
		/* fdt_token() checked that the name and value are in bounds. */
		if (strcmp(strings + be32(s + offset + 8), name) == 0) {
			*len = (int)be32(s + offset + 4);
			return s + offset + 12;
		}
	}
	*len = FDT_ERR_NOTFOUND;
	return NULL;
}

int fdt_prop_cells(const void *fdt, int node, const char *name, int index, int cells,
		   uint64_t *out)
{
	int len;
	const uint8_t *v = fdt_prop(fdt, node, name, &len);

	if (v == NULL)
		return len;
	if (cells < 1 || cells > 2 || index < 0 || ((int64_t)index + cells) * 4 > len)
		return FDT_ERR_BADVALUE;
	uint64_t x = 0;
	for (int i = 0; i < cells; i++)
		x = x << 32 | be32(v + 4 * (index + i));
	*out = x;
	return 0;
}

int fdt_prop_u32(const void *fdt, int node, const char *name, int index, uint32_t *out)
{
	uint64_t x = 0;
	int err = fdt_prop_cells(fdt, node, name, index, 1, &x);
	if (err == 0)
		*out = (uint32_t)x;
	return err;
}

const char *fdt_prop_string(const void *fdt, int node, const char *name)
{
	int len;
	const char *v = fdt_prop(fdt, node, name, &len);

	/* Non-empty, and its last byte is the NUL. */
	if (v == NULL || len < 1 || v[len - 1] != '\0')
		return NULL;
	return v;
}
