/*
 * nascheck.h - validate any nasnet-c file against its schema (see the schemas folder).
 *
 * The format attribute picks the kind; the kind's own reader then checks
 * every group, dataset and attribute it defines (types, ranks, dims,
 * ranges, cross-references), so the check is exactly what the tools rely
 * on. Every kind must also carry a complete /provenance group.
 */
#ifndef NASNET_NASCHECK_H
#define NASNET_NASCHECK_H

#include <stddef.h>

/* 0 when valid (format and version written to the buffers), else -1 after error(). */
int nasfile_check(const char *path, char *format, size_t n, int *version);

#endif
