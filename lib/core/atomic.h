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
/*
 * Many outputs of one folder at once (sample-arch's genotype files): the
 * same guarantee as atomic_commit, at one sync per ATOMIC_BATCH_MAX files
 * instead of two per file. atomic_batch_add takes over a complete temporary
 * file (and both malloc'd names); when the batch is full, and at
 * atomic_batch_commit, one syncfs() makes every pending temporary durable,
 * then each is renamed into place; atomic_batch_commit then fsyncs the
 * folder once. On any failure, and at atomic_batch_abort, the pending
 * temporaries are removed (files already renamed stay, whole).
 */
#define ATOMIC_BATCH_MAX 24
struct atomic_batch {
	char *tmp[ATOMIC_BATCH_MAX], *path[ATOMIC_BATCH_MAX];
	int n;
	char *last;   /* the last path renamed (its folder is fsynced at commit) */
};
void atomic_batch_init(struct atomic_batch *b);
int atomic_batch_add(struct atomic_batch *b, char *tmp, char *path);
int atomic_batch_commit(struct atomic_batch *b);
void atomic_batch_abort(struct atomic_batch *b);
/* Whole-file write of a byte buffer (text outputs: tsv, md, csv). */
int atomic_write_file(const char *path, const void *data, size_t n);

#endif
