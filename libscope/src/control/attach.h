/* attach.h — libscope's public entry point for scoping a process that already runs.
 *
 * An injector (scope attach, libscope/addon) stops the target, has it dlopen libscope.so with
 * RTLD_NOW, then call scope_attach with the path of a config file it wrote. Loaded that way (not
 * by LD_PRELOAD), the library does nothing until this call.
 *
 * The file: KEY=VALUE lines of SCOPE_* settings (scope.env's format, # comments), a regular file
 * (a symlink is refused), owned by the caller's effective uid or root and writable by nobody
 * else. It is read, removed, and it alone is the config: the target's environment is not read.
 * The caller then gets a process-start record first, then records of the calls made through
 * every object's GOT, and the control socket "@scope/<pid>" (README: "Attach, detach and the
 * control socket").
 *
 * Returns 0, or a negative errno: -EALREADY (already scoped: preloaded, attached before, or
 * another copy of the library serves the control socket), -ELOOP (a symlink), -EPERM (wrong
 * owner or mode), -EINVAL (not a regular file, no path), -EFBIG (over 1 MiB), -ENOENT …, or
 * -ENOMEM / -EAGAIN when it could not start. A refused file is left where it was and nothing is
 * written anywhere. */
#ifndef SCOPE_ATTACH_H
#define SCOPE_ATTACH_H
#ifdef __cplusplus
extern "C" {
#endif

__attribute__((visibility("default"))) int scope_attach(const char *conf_path);

#ifdef __cplusplus
}
#endif
#endif
