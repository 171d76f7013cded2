/*
 * atomic.c - temporary files, fsync, rename, and their signal-time cleanup.
 */
#include "atomic.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TMP 32

/* Registered temporary files; touched from signal handlers, hence volatile flags. */
static char tmp_paths[MAX_TMP][PATH_MAX];
static volatile sig_atomic_t tmp_used[MAX_TMP];

char *atomic_tmp_name(const char *path)
{
	char *copy = xstrdup(path), *copy2 = xstrdup(path);
	const char *dir = dirname(copy), *base = basename(copy2);
	size_t n = strlen(dir) + strlen(base) + 48;
	char *tmp = xmalloc(n);

	snprintf(tmp, n, "%s/.%s.tmp.%ld", dir, base, (long)getpid());
	free(copy);
	free(copy2);
	return tmp;
}

void atomic_register(const char *tmp)
{
	for (int i = 0; i < MAX_TMP; i++) {
		if (!tmp_used[i]) {
			snprintf(tmp_paths[i], PATH_MAX, "%s", tmp);
			tmp_used[i] = 1;
			return;
		}
	}
}

void atomic_unregister(const char *tmp)
{
	for (int i = 0; i < MAX_TMP; i++)
		if (tmp_used[i] && !strcmp(tmp_paths[i], tmp))
			tmp_used[i] = 0;
}

void atomic_cleanup(void)
{
	for (int i = 0; i < MAX_TMP; i++) {
		if (tmp_used[i]) {
			unlink(tmp_paths[i]);
			tmp_used[i] = 0;
		}
	}
}

static void on_fatal_signal(int sig)
{
	atomic_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

void atomic_install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	atexit(atomic_cleanup);
}

int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return error("%s: cannot open for fsync:", path);
	if (fsync(fd) < 0 && errno != EINVAL) {
		int e = errno;

		close(fd);
		errno = e;
		return error("%s: fsync failed:", path);
	}
	if (close(fd) < 0)
		return error("%s: close failed:", path);
	return 0;
}

int fsync_parent_dir(const char *path)
{
	char *copy = xstrdup(path);
	int rc = fsync_path(dirname(copy));

	free(copy);
	return rc;
}

/* fsync the folder holding `path`, quietly (errno set on failure) */
static int sync_dir_of(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY), rc = 0, e = 0;

	free(copy);
	if (fd < 0)
		return -1;
	if (fsync(fd) < 0 && errno != EINVAL) {
		e = errno;
		rc = -1;
	}
	close(fd);
	errno = e;
	return rc;
}

int atomic_commit(const char *tmp, const char *path)
{
	int fd = open(tmp, O_RDONLY);

	/* errors name the file the user asked for, not the temporary */
	if (fd < 0) {
		error("%s: cannot open the temporary file for fsync:", path);
		goto fail;
	}
	if (fsync(fd) < 0 && errno != EINVAL) {
		int e = errno;

		close(fd);
		errno = e;
		error("%s: fsync failed:", path);
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		error("%s: cannot rename temporary file into place:", path);
		goto fail;
	}
	atomic_unregister(tmp);
	/* the new file is in place and complete; only its durability across a
	 * power loss is in doubt, and that is still a failure to report */
	if (sync_dir_of(path) < 0)
		return error("%s: written, but syncing its folder failed:", path);
	return 0;
fail:
	unlink(tmp);
	atomic_unregister(tmp);
	return -1;
}

void atomic_batch_init(struct atomic_batch *b)
{
	memset(b, 0, sizeof *b);
}

void atomic_batch_abort(struct atomic_batch *b)
{
	for (int i = 0; i < b->n; i++) {
		unlink(b->tmp[i]);
		atomic_unregister(b->tmp[i]);
		free(b->tmp[i]);
		free(b->path[i]);
	}
	b->n = 0;
	free(b->last);
	b->last = NULL;
}

/* one syncfs for every pending temporary, then their renames */
static int batch_flush(struct atomic_batch *b)
{
	int fd, i;

	if (!b->n)
		return 0;
	fd = open(b->tmp[0], O_RDONLY);
	if (fd < 0 || (syncfs(fd) < 0 && errno != EINVAL)) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		errno = e;
		error("%s: syncing the file system failed:", b->path[0]);
		atomic_batch_abort(b);
		return -1;
	}
	close(fd);
	for (i = 0; i < b->n; i++) {
		if (rename(b->tmp[i], b->path[i]) < 0) {
			error("%s: cannot rename temporary file into place:", b->path[i]);
			break;
		}
		atomic_unregister(b->tmp[i]);
		free(b->tmp[i]);
		free(b->last);
		b->last = b->path[i];
	}
	/* the rest (after a failed rename) is removed */
	memmove(b->tmp, b->tmp + i, (size_t)(b->n - i) * sizeof *b->tmp);
	memmove(b->path, b->path + i, (size_t)(b->n - i) * sizeof *b->path);
	b->n -= i;
	if (b->n) {
		atomic_batch_abort(b);
		return -1;
	}
	return 0;
}

int atomic_batch_add(struct atomic_batch *b, char *tmp, char *path)
{
	if (b->n == ATOMIC_BATCH_MAX && batch_flush(b) < 0) {
		unlink(tmp);
		atomic_unregister(tmp);
		free(tmp);
		free(path);
		return -1;
	}
	b->tmp[b->n] = tmp;
	b->path[b->n] = path;
	b->n++;
	return 0;
}

int atomic_batch_commit(struct atomic_batch *b)
{
	int rc = batch_flush(b);

	if (rc == 0 && b->last && sync_dir_of(b->last) < 0)
		rc = error("%s: written, but syncing its folder failed:", b->last);
	free(b->last);
	b->last = NULL;
	return rc;
}

int atomic_write_file(const char *path, const void *data, size_t n)
{
	char *tmp = atomic_tmp_name(path);
	const char *p = data;
	int fd, rc = -1;

	atomic_register(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		error("%s: cannot create:", tmp);
		goto out;
	}
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			error("%s: write failed:", path);
			close(fd);
			goto out;
		}
		p += w;
		n -= (size_t)w;
	}
	if (close(fd) < 0) {
		error("%s: close failed:", path);
		goto out;
	}
	rc = atomic_commit(tmp, path);
out:
	if (rc < 0) {
		unlink(tmp);
		atomic_unregister(tmp);
	}
	free(tmp);
	return rc;
}
