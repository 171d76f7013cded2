/*
 * atomic.h - outputs appear whole or not at all.
 *
 * Protocol (redis rdbSave, git lockfile): write "<dir>/.<name>.tmp.<pid>",
 * fsync it, rename() over the final name, fsync the folder. While a
 * temporary file exists it is registered, so SIGINT/SIGTERM/SIGHUP (and
 * exit()) remove it. The registry is the one file-static table allowed by
 * the no-globals rule: a signal handler has no other way to find it.
 */
#ifndef NASNET_ATOMIC_H
#define NASNET_ATOMIC_H

#include <stddef.h>

/* malloc'd temporary name in the same folder as `path` */
char *atomic_tmp_name(const char *path);
void atomic_register(const char *tmp);
void atomic_unregister(const char *tmp);
/* Install the cleanup handlers (SIGINT, SIGTERM, SIGHUP, atexit). */
void atomic_install_handlers(void);
/* Remove every registered temporary file now. */
void atomic_cleanup(void);

int fsync_path(const char *path);
int fsync_parent_dir(const char *path);
/*
 * fsync tmp, rename tmp -> path, fsync the folder; unregisters tmp.
 * Returns -1 with one error line on any failure. Before the rename (fsync or
 * rename of tmp failed) tmp is removed and `path` keeps its previous content.
 * After the rename only the folder fsync can fail: `path` then already holds
 * the new, complete file (a rename cannot be undone safely), but whether the
 * rename survives a power loss is unknown, so the failure is still reported
 * ("written, but syncing its folder failed") and tools exit non-zero. Either
 * way `path` is whole: the previous file or the new one, never a mix.
 */
int atomic_commit(const char *tmp, const char *path);
/* Whole-file write of a byte buffer (text outputs: tsv, md, csv). */
int atomic_write_file(const char *path, const void *data, size_t n);

#endif
