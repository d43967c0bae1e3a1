/*
 * scope-exec: exec a command whose path and arguments may be any bytes.
 *
 * node's child_process takes arguments as strings and encodes them as UTF-8, so an argument that is
 * not UTF-8 (a file named "\xff.txt") cannot reach a child that node spawns. scope-run spawns this
 * helper instead, with the command on descriptor 3: the path to exec, then argv[0], argv[1], …, each
 * ended by a NUL. The helper reads it all, closes 3 and execs. The pid stays the same, so to scope-run
 * the helper is the command.
 *
 * The helper must not be scoped itself (it would be a process of its own in the session): scope-run
 * gives it the command's LD_PRELOAD as SCOPE_EXEC_LD_PRELOAD, which it puts back just before exec.
 *
 * Exit status when the command cannot be started: 127 not found, 126 otherwise (as a shell does).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARGS_FD 3
/* Far above what the kernel accepts for an exec (ARG_MAX, a quarter of the stack limit). */
#define MAX_BYTES (256u << 20)

static int fail(const char *what, int err, int status) {
  fprintf(stderr, "scope-run: %s: %s\n", what, strerror(err));
  return status;
}

int main(void) {
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  if (!buf) return fail("scope-exec", ENOMEM, 126);
  for (;;) {
    if (len == cap) {
      if (cap >= MAX_BYTES) return fail("scope-exec: arguments", E2BIG, 126);
      char *bigger = realloc(buf, cap * 2);
      if (!bigger) return fail("scope-exec", ENOMEM, 126);
      buf = bigger;
      cap *= 2;
    }
    ssize_t n = read(ARGS_FD, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("scope-exec: reading the command from descriptor 3", errno, 126);
    if (n == 0) break;
    len += (size_t)n;
  }
  close(ARGS_FD);
  if (len == 0 || buf[len - 1] != '\0') return fail("scope-exec: the command on descriptor 3", EINVAL, 126);

  size_t fields = 0;
  for (size_t i = 0; i < len; i++) fields += buf[i] == '\0';
  if (fields < 2) return fail("scope-exec: the command on descriptor 3", EINVAL, 126);
  /* fields - 1 arguments (the first field is the path) and the NULL that ends argv */
  char **argv = calloc(fields, sizeof *argv);
  if (!argv) return fail("scope-exec", ENOMEM, 126);
  char *path = buf;
  size_t argc = 0;
  for (char *p = buf + strlen(buf) + 1; p < buf + len; p += strlen(p) + 1) argv[argc++] = p;

  const char *preload = getenv("SCOPE_EXEC_LD_PRELOAD");
  if (preload) {
    if (setenv("LD_PRELOAD", preload, 1) != 0) return fail("scope-exec: LD_PRELOAD", errno, 126);
    unsetenv("SCOPE_EXEC_LD_PRELOAD");
  }
  execv(path, argv);
  int err = errno;
  return fail(path, err, err == ENOENT ? 127 : 126);
}
