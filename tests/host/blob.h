/*
 * blob.h: files for the device-tree tests. The Makefile puts them next to
 * the test programs: the compiled fixtures and QEMU's own trees in
 * build/host/fixtures/, and the tests write theirs to build/host/.
 */
#ifndef BLOB_H
#define BLOB_H

#include <stddef.h>
#include <stdint.h>

/* The directory of the running test program, e.g. ".../build/host". */
const char *blob_dir(void);

/*
 * The file's bytes in a buffer malloc'ed to exactly its size, so that
 * AddressSanitizer catches a read one byte past the end; NULL (with a
 * message) if it cannot be read. The caller frees it.
 */
uint8_t *blob_read(const char *path, size_t *size);

/* Writes size bytes to path; 0, or -1 with a message. */
int blob_write(const char *path, const void *data, size_t size);

#endif
