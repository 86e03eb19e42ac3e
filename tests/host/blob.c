/*
 * blob.c: files for the device-tree tests (see blob.h).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob.h"

const char *blob_dir(void)
{
	static char dir[PATH_MAX];

	if (dir[0] == '\0') {
		/* The program's own path, whatever the current directory. */
		ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
		if (n <= 0) {
			strcpy(dir, ".");
			return dir;
		}
		dir[n] = '\0';
		char *slash = strrchr(dir, '/');
		if (slash != NULL)
			*slash = '\0';
	}
	return dir;
}

uint8_t *blob_read(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		printf("    cannot open %s (make -C tests/host builds it)\n", path);
		return NULL;
	}
	uint8_t *data = NULL;
	long n = -1;
	if (fseek(f, 0, SEEK_END) == 0)
		n = ftell(f);
	if (n > 0 && fseek(f, 0, SEEK_SET) == 0) {
		data = malloc((size_t)n);
		if (data != NULL && fread(data, 1, (size_t)n, f) != (size_t)n) {
			free(data);
			data = NULL;
		}
	}
	fclose(f);
	if (data == NULL) {
		printf("    cannot read %s\n", path);
		return NULL;
	}
	*size = (size_t)n;
	return data;
}

int blob_write(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, size, f) != size) {
		printf("    cannot write %s\n", path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}
