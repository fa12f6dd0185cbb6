/*
 * oploop.c - latency of one file-system operation on many paths.
 *
 * usage: oploop write TEXT < PATHS      open(O_WRONLY|O_TRUNC), write TEXT,
 *                                       close: what `echo TEXT > PATH` does
 *        oploop rmdir < PATHS           rmdir
 *        oploop command TEXT < DIRS     TEXT to DIR/ctl as write does, then
 *                                       read DIR/wait to its end: `echo
 *                                       start > ctl; cat wait`, the time
 *                                       until the action is over
 *        oploop command - < LINES       the same, each line "DIR TEXT":
 *                                       a different command per line
 *
 * PATHS is one path a line.  Times each operation with CLOCK_MONOTONIC
 * and prints one line:
 *
 *   p50_us=X p99_us=Y mean_us=Z per_s=R n=N
 *
 * per_s counts the whole run, one operation after another.  A shell loop
 * would add a fork and exec to every sample, more than the operation
 * itself costs.  Any failure stops the run with the path and errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "samples.h"

static int write_file(const char *path, const char *text)
{
	size_t len;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -errno;
	len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	return ret;
}

static int read_to_end(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY), ret = 0;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* One operation on path: 0, or -errno. */
static int op_once(const char *op, const char *text, const char *path)
{
	char file[4096];
	int r;

	if (strcmp(op, "rmdir") == 0)
		return rmdir(path) < 0 ? -errno : 0;
	if (strcmp(op, "write") == 0)
		return write_file(path, text);
	snprintf(file, sizeof(file), "%s/ctl", path);
	r = write_file(file, text);
	if (r == 0) {
		snprintf(file, sizeof(file), "%s/wait", path);
		r = read_to_end(file);
	}
	return r;
}

int main(int argc, char *argv[])
{
	const char *op = argc > 1 ? argv[1] : "";
	char *line = NULL, *text = NULL, *own = NULL;
	const char *line_text;
	double *lat = NULL, *grown, t, wall, p50, p99, mean;
	size_t cap = 0, lcap = 0;
	ssize_t len;
	long n = 0;
	int r, ret = 1;

	if (!(((strcmp(op, "write") == 0 || strcmp(op, "command") == 0) && argc == 3) ||
	      (strcmp(op, "rmdir") == 0 && argc == 2))) {
		fprintf(stderr, "usage: oploop write TEXT < PATHS | oploop rmdir < PATHS"
			" | oploop command TEXT|- < DIRS\n");
		return 2;
	}
	if (argc == 3 && asprintf(&text, "%s\n", argv[2]) < 0) {
		fprintf(stderr, "oploop: out of memory\n");
		return 1;
	}
	wall = now_us();
	while ((len = getline(&line, &lcap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if ((size_t)n == cap) {
			cap = cap ? 2 * cap : 1024;
			grown = realloc(lat, cap * sizeof(*lat));
			if (!grown) {
				fprintf(stderr, "oploop: out of memory\n");
				goto out;
			}
			lat = grown;
		}
		/* "command -": the line is "DIR TEXT". */
		line_text = text;
		if (text && strcmp(text, "-\n") == 0) {
			char *sp = strchr(line, ' ');

			if (!sp) {
				fprintf(stderr, "oploop: \"%s\" is not \"DIR TEXT\"\n", line);
				goto out;
			}
			*sp = '\0';
			free(own);
			if (asprintf(&own, "%s\n", sp + 1) < 0) {
				own = NULL;
				fprintf(stderr, "oploop: out of memory\n");
				goto out;
			}
			line_text = own;
		}
		t = now_us();
		r = op_once(op, line_text, line);
		lat[n] = now_us() - t;
		if (r < 0) {
			fprintf(stderr, "oploop: %s %s: %s\n", op, line, strerror(-r));
			goto out;
		}
		n++;
	}
	wall = (now_us() - wall) / 1e6;
	if (n == 0) {
		fprintf(stderr, "oploop: no paths on stdin\n");
		goto out;
	}
	samples_summary(lat, n, &p50, &p99, &mean);
	printf("p50_us=%.1f p99_us=%.1f mean_us=%.1f per_s=%.0f n=%ld\n", p50, p99,
	       mean, (double)n / wall, n);
	ret = 0;
out:
	free(lat);
	free(own);
	free(line);
	free(text);
	return ret;
}
