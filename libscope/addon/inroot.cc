// inroot.cc — opening paths inside another process's root (`scope attach` writes its config file
// and binds its handover socket in the target's /tmp). /proc/<pid>/root is the target's root, but a
// path through it is resolved against OUR root after the first absolute symlink: a target whose /tmp
// is a link to "/etc" would have root's attach create files in the host's /etc. So the path is
// resolved relative to a descriptor of that root, never leaving it: openat2(2) with RESOLVE_IN_ROOT
// (absolute links and ".." stay inside) and RESOLVE_NO_MAGICLINKS, or with RESOLVE_NO_SYMLINKS when
// the caller refuses every link; and where the kernel has no openat2 (before Linux 5.6, or a
// seccomp filter that says ENOSYS/EPERM), a walk one component at a time with
// openat(O_NOFOLLOW|O_DIRECTORY) that refuses any link. The final component is never followed.
//
// A refusal is an Error with `code` (the errno name: ELOOP for a link, ENOTDIR, ENOENT, EEXIST, …),
// `component` (the path, in the root, of the part that failed) and, for a link, `link` (where it
// points), so the tool can say "its /tmp is a symbolic link (to /etc)".
#include <napi.h>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

namespace scope_inroot {
namespace {

const char* ErrnoName(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    case ELOOP: return "ELOOP";
    case EEXIST: return "EEXIST";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EXDEV: return "EXDEV";
    case EISDIR: return "EISDIR";
    case EROFS: return "EROFS";
    case ENOSPC: return "ENOSPC";
    case ESRCH: return "ESRCH";
    case EINVAL: return "EINVAL";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EAGAIN: return "EAGAIN";
    case EMFILE: return "EMFILE";
    case ENOSYS: return "ENOSYS";
    default: return "EOTHER";
  }
}

// Why an open failed: errno, the component (as a path in the root), where a link points.
struct Refusal {
  int err = 0;
  std::string component;
  std::string link;  // non-empty: the component is a symbolic link to this
  std::string why;   // the text after "<component>: "
};

std::string ReadLinkAt(int dirfd, const std::string& name) {
  char buf[4096];
  ssize_t n = readlinkat(dirfd, name.c_str(), buf, sizeof buf - 1);
  if (n < 0) return "?";
  return std::string(buf, static_cast<size_t>(n));
}

// Fills r for `name` in dirfd after an open of it failed with errno e (a link? not a directory?).
void Explain(int dirfd, const std::string& name, const std::string& shown, int e, bool wantDir, Refusal* r) {
  r->err = e;
  r->component = shown;
  struct stat st;
  bool have = fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (have && S_ISLNK(st.st_mode) && (e == ELOOP || e == ENOTDIR || e == EEXIST || e == EXDEV)) {
    r->err = e == EEXIST ? EEXIST : ELOOP;
    r->link = ReadLinkAt(dirfd, name);
    r->why = e == EEXIST ? "exists (a symbolic link to " + r->link + ")" : "is a symbolic link (to " + r->link + ")";
  } else if (have && e == ENOTDIR && wantDir) {
    r->why = "is not a directory";
  } else if (e == EEXIST) {
    r->why = "exists already";
  } else {
    r->why = std::strerror(e);
  }
}

// The components of path, "." and empty ones dropped (".." kept: the walk clamps it at the root).
std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string c = path.substr(i, j - i);
    if (!c.empty() && c != ".") out.push_back(c);
    i = j + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& stack) {
  std::string s;
  for (const auto& c : stack) s += "/" + c;
  return s.empty() ? "/" : s;
}

// The walk: every directory opened with O_PATH|O_DIRECTORY|O_NOFOLLOW from the one before, so a link
// anywhere is refused; ".." pops back to the directory we came from (never above the root).
// The final component is opened with flags|O_NOFOLLOW. Returns the descriptor, or -1 and r filled.
// probe (saying why openat2 refused, errno e): nothing is opened at the end, only looked at.
int Walk(int rootfd, const std::string& path, int flags, mode_t mode, Refusal* r, int probe = 0) {
  std::vector<std::string> comps = Split(path);
  std::vector<int> fds{rootfd};
  std::vector<std::string> names;
  auto closeAll = [&]() {
    for (size_t i = 1; i < fds.size(); i++) close(fds[i]);
  };
  // The last real component is opened with the caller's flags; ".." at the end is a directory.
  size_t last = comps.size();
  while (last > 0 && comps[last - 1] == "..") last--;
  for (size_t i = 0; i < comps.size(); i++) {
    const std::string& c = comps[i];
    if (c == "..") {
      if (fds.size() > 1) {
        close(fds.back());
        fds.pop_back();
        names.pop_back();
      }
      continue;
    }
    bool final = i + 1 == last && last == comps.size();
    if (final && probe) {
      names.push_back(c);
      Explain(fds.back(), c, Join(names), probe, (flags & O_DIRECTORY) != 0, r);
      closeAll();
      return -1;
    }
    int f = final ? flags | O_NOFOLLOW | O_CLOEXEC : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd;
    do fd = openat(fds.back(), c.c_str(), f, mode);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
      int e = errno;
      names.push_back(c);
      Explain(fds.back(), c, Join(names), e, !final || (flags & O_DIRECTORY), r);
      closeAll();
      return -1;
    }
    if (final) {
      closeAll();
      return fd;
    }
    fds.push_back(fd);
    names.push_back(c);
  }
  // The path named a directory by ".." or the root itself: reopen what we stand on with the flags.
  if (probe) {
    r->err = probe;
    r->component = Join(names);
    r->why = std::strerror(probe);
    closeAll();
    return -1;
  }
  int fd;
  do fd = openat(fds.back(), ".", flags | O_CLOEXEC, mode);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    r->err = errno;
    r->component = Join(names);
    r->why = std::strerror(errno);
  }
  closeAll();
  return fd;
}

bool ForceWalk(const Napi::Object& opts) {
  if (!opts.Has("resolver")) return false;
  Napi::Value v = opts.Get("resolver");
  return v.IsString() && v.As<Napi::String>().Utf8Value() == "walk";
}

bool RefuseLinks(const Napi::Object& opts) {
  if (!opts.Has("symlinks")) return false;
  Napi::Value v = opts.Get("symlinks");
  return v.IsString() && v.As<Napi::String>().Utf8Value() == "refuse";
}

// Open path inside rootfd. refuseLinks: no link anywhere; else links resolve inside the root (the
// walk fallback refuses them all). Returns the fd, or -1 with r filled.
int OpenIn(int rootfd, const std::string& path, int flags, mode_t mode, bool refuseLinks, bool walk, Refusal* r) {
  if (!walk) {
    open_how how{};
    how.flags = static_cast<unsigned long long>(flags | O_NOFOLLOW | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (refuseLinks ? RESOLVE_NO_SYMLINKS : 0);
    for (int tries = 0; tries < 8; tries++) {
      long fd = syscall(SYS_openat2, rootfd, path.c_str(), &how, sizeof how);
      if (fd >= 0) return static_cast<int>(fd);
      int e = errno;
      if (e == EINTR || e == EAGAIN) continue;  // EAGAIN: a rename or mount raced the lookup
      if (e == ENOSYS || e == EPERM) break;     // no openat2 here (EPERM: an old seccomp filter)
      // Name the part that failed: a walk that opens nothing at the end finds it.
      if (refuseLinks) {
        Walk(rootfd, path, flags, mode, r, e);
        return -1;
      }
      // In-root mode: a link is fine in the middle; say what is wrong with the last component.
      std::vector<std::string> comps = Split(path);
      std::string parent = "/";
      for (size_t i = 0; i + 1 < comps.size(); i++) parent += comps[i] + "/";
      std::string base = comps.empty() ? "." : comps.back();
      open_how ph{};
      ph.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
      ph.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
      long pfd = syscall(SYS_openat2, rootfd, parent.c_str(), &ph, sizeof ph);
      if (pfd >= 0 && base != "." && base != "..") {
        Explain(static_cast<int>(pfd), base, path, e, (flags & O_DIRECTORY) != 0, r);
      } else {
        r->err = e;
        r->component = path;
        r->why = std::strerror(e);
      }
      if (pfd >= 0) close(static_cast<int>(pfd));
      return -1;
    }
  }
  return Walk(rootfd, path, flags, mode, r);
}

// The descriptor of a root: a pid's (/proc/<pid>/root) or a directory given by path (ours).
int OpenRoot(Napi::Env env, const Napi::Value& root) {
  std::string p;
  if (root.IsNumber()) {
    int pid = root.As<Napi::Number>().Int32Value();
    if (pid <= 0) throw Napi::TypeError::New(env, "root: a pid > 0 or a directory path");
    p = "/proc/" + std::to_string(pid) + "/root";
  } else if (root.IsString()) {
    p = root.As<Napi::String>().Utf8Value();
  } else {
    throw Napi::TypeError::New(env, "root: a pid or a directory path");
  }
  int fd = open(p.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    std::string what = root.IsNumber() ? "pid " + std::to_string(root.As<Napi::Number>().Int32Value()) + "'s root (" + p + ")" : p;
    Napi::Error err = Napi::Error::New(env, what + ": " + std::strerror(e));
    err.Set("code", root.IsNumber() && e == ENOENT ? "ESRCH" : ErrnoName(e));
    err.Set("component", "/");
    throw err;
  }
  return fd;
}

[[noreturn]] void ThrowRefusal(Napi::Env env, const Refusal& r) {
  Napi::Error err = Napi::Error::New(env, r.component + ": " + r.why);
  err.Set("code", ErrnoName(r.err));
  err.Set("component", r.component);
  if (!r.link.empty()) err.Set("link", r.link);
  throw err;
}

Napi::Object Opts(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsObject() ? info[i].As<Napi::Object>() : Napi::Object::New(info.Env());
}

// One component: no "/", not "." nor "..", not empty.
bool PlainName(const std::string& n) { return !n.empty() && n != "." && n != ".." && n.find('/') == std::string::npos; }

}  // namespace

// openInRoot(root, path, flags, mode, opts?) → fd. root: a pid or a directory path.
Napi::Value OpenInRootJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[1].IsString() || !info[2].IsNumber() || !info[3].IsNumber()) {
    throw Napi::TypeError::New(env, "openInRoot(root, path, flags, mode, options?)");
  }
  Napi::Object opts = Opts(info, 4);
  int rootfd = OpenRoot(env, info[0]);
  Refusal r;
  int fd = OpenIn(rootfd, info[1].As<Napi::String>().Utf8Value(), info[2].As<Napi::Number>().Int32Value(),
                  static_cast<mode_t>(info[3].As<Napi::Number>().Uint32Value()), RefuseLinks(opts), ForceWalk(opts), &r);
  close(rootfd);
  if (fd < 0) ThrowRefusal(env, r);
  return Napi::Number::New(env, fd);
}

// dirInRoot(root, path, opts?) → an O_PATH descriptor of the directory (never a link to one).
Napi::Value DirInRootJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[1].IsString()) throw Napi::TypeError::New(env, "dirInRoot(root, path, options?)");
  Napi::Object opts = Opts(info, 2);
  int rootfd = OpenRoot(env, info[0]);
  Refusal r;
  int fd = OpenIn(rootfd, info[1].As<Napi::String>().Utf8Value(), O_PATH | O_DIRECTORY, 0, RefuseLinks(opts), ForceWalk(opts), &r);
  close(rootfd);
  if (fd < 0) ThrowRefusal(env, r);
  return Napi::Number::New(env, fd);
}

// openInDir(dirfd, name, flags, mode) → fd: one plain name in that directory, never followed.
Napi::Value OpenInDirJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsNumber() || !info[3].IsNumber()) {
    throw Napi::TypeError::New(env, "openInDir(dirfd, name, flags, mode)");
  }
  int dirfd = info[0].As<Napi::Number>().Int32Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  if (!PlainName(name)) throw Napi::TypeError::New(env, "openInDir: \"" + name + "\" is not one plain name");
  int flags = info[2].As<Napi::Number>().Int32Value() | O_NOFOLLOW | O_CLOEXEC;
  int fd;
  do fd = openat(dirfd, name.c_str(), flags, static_cast<mode_t>(info[3].As<Napi::Number>().Uint32Value()));
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    Refusal r;
    Explain(dirfd, name, name, errno, (flags & O_DIRECTORY) != 0, &r);
    ThrowRefusal(env, r);
  }
  return Napi::Number::New(env, fd);
}

// unlinkInDir(dirfd, name) → true, or false when it was not there. Other errors throw.
Napi::Value UnlinkInDirJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsString()) throw Napi::TypeError::New(env, "unlinkInDir(dirfd, name)");
  std::string name = info[1].As<Napi::String>().Utf8Value();
  if (!PlainName(name)) throw Napi::TypeError::New(env, "unlinkInDir: \"" + name + "\" is not one plain name");
  if (unlinkat(info[0].As<Napi::Number>().Int32Value(), name.c_str(), 0) == 0) return Napi::Boolean::New(env, true);
  if (errno == ENOENT) return Napi::Boolean::New(env, false);
  Refusal r;
  r.err = errno;
  r.component = name;
  r.why = std::string("cannot remove it: ") + std::strerror(errno);
  ThrowRefusal(env, r);
}

// openat2Available() → whether this kernel lets us call openat2 (else every lookup is the walk).
Napi::Value Openat2AvailableJs(const Napi::CallbackInfo& info) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT;
  long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
  if (fd >= 0) close(static_cast<int>(fd));
  return Napi::Boolean::New(info.Env(), fd >= 0);
}

}  // namespace scope_inroot
