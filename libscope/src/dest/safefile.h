/* safefile.h — files libscope creates or appends to where another user may have been first. */
#ifndef SCOPE_SAFEFILE_H
#define SCOPE_SAFEFILE_H
#include <stddef.h>

/* name (relative to at, or absolute) opened for appending: made new and exclusively (O_EXCL,
 * O_NOFOLLOW, 0600) when missing; when it is there already, opened without following a symbolic
 * link and kept only when it is ours: owned by our effective or real uid or by root, and, for a
 * regular file, not writable by group or others. -1 otherwise, errno set and why (n bytes) saying
 * what was refused ("is a symbolic link", "owned by uid 1001", ...) or the error. */
int scope_safe_append(int at, const char *name, char *why, size_t n);

/* A directory of ours for files that would otherwise go to dir directly: dir itself when no
 * other user can write there, else its subdirectory sub, made 0700 and accepted only when owned
 * by our effective uid, not a symbolic link and closed to group and others. An O_DIRECTORY
 * descriptor, or -1 with why filled. */
int scope_private_dir(const char *dir, const char *sub, char *why, size_t n);
#endif
