/*
 * dataref.h - a child's reference to its dataset file.
 *
 * A genotype file must train the same way wherever it is used (`cd round-000
 * && parallel train-child ::: arch_*.h5`, another machine, a copy of the
 * folder), so it records the dataset's absolute path and fingerprint
 * (dataset.h), and a reader finds the file again:
 *
 *   dataref_bind(&cfg.train)          when writing: absolute path + fingerprint
 *                                     (left as is when the file is not here)
 *   dataref_resolve(&cfg.train, arch) when using: the recorded path if it is
 *                                     there, else the same relative path or file
 *                                     name next to the genotype file or in a
 *                                     folder above it; a file whose fingerprint
 *                                     differs from the recorded one is refused
 *
 * Both print one line with error() and return -1 on failure.
 */
#ifndef NASNET_DATAREF_H
#define NASNET_DATAREF_H

#include <stddef.h>

#include "childcfg.h"

int dataref_bind(struct train_config *t);
int dataref_resolve(struct train_config *t, const char *genofile_path);
/*
 * An installed data file NAME (the NAS-Bench-201 table, the default dataset):
 * BINDIR/../share/nasnet-c/NAME after `make install`, or data/NAME of the
 * source tree the program runs from (bin/../data). Found from the program's own
 * location, never the current folder. Returns 0 and the path in out, or -1
 * (nothing printed) when neither is there.
 */
int dataref_share(const char *name, char *out, size_t n);
/* The default dataset path data/fashion-mnist.h5, when it is not here, as its
 * installed copy (in buf); any other path as it is. */
const char *dataref_default(const char *path, char *buf, size_t n);

#endif
