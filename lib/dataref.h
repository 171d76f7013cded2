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

#include "childcfg.h"

int dataref_bind(struct train_config *t);
int dataref_resolve(struct train_config *t, const char *genofile_path);

#endif
