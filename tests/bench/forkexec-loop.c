/* forkexec-loop COUNT COMMAND: runs COMMAND by /bin/sh -c COUNT times, one after another,
 * as bb-queue run starts a delivery (fork, exec of /bin/sh -c, waitpid), and nothing else.
 * The machine's own cost of a delivery command, for tests/bench/queue-run. Exits 1 when
 * a run of COMMAND does not exit 0. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	long count, i;
	pid_t pid;
	int st;

	if (argc != 3 || (count = atol(argv[1])) < 0) {
		fprintf(stderr, "usage: forkexec-loop COUNT COMMAND\n");
		return 2;
	}
	for (i = 0; i < count; i++) {
		if ((pid = fork()) < 0) {
			fprintf(stderr, "forkexec-loop: fork: %s\n", strerror(errno));
			return 1;
		}
		if (pid == 0) {
			execl("/bin/sh", "sh", "-c", argv[2], (char *)NULL);
			_exit(127);
		}
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR) {
				fprintf(stderr, "forkexec-loop: waitpid: %s\n", strerror(errno));
				return 1;
			}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "forkexec-loop: %s: failed (status %d)\n", argv[2], st);
			return 1;
		}
	}
	return 0;
}
