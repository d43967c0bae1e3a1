// handover.cc — handing open descriptors to an attached process (`scope attach`): the tool opens
// the session's files itself, listens on a one-time unix socket only the target's user may connect
// to, and sends the descriptors (SCM_RIGHTS) to the one peer whose pid is the target's. Node's net
// module can neither send descriptors nor read a peer's credentials, hence this file. The library's
// side is libscope/src/handover.c; the message is one letter per descriptor ('e' events, 'm'
// metrics, 'l' log) with the descriptors in the same order.
#include <napi.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

namespace scope_handover {
namespace {

long long NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

// handoverListen(dirfd, name, uid, gid) → the listening descriptor. The socket file is made by bind
// in the directory dirfd (an O_PATH descriptor from dirInRoot: the target's /tmp, resolved without
// leaving its root), named through /proc/self/fd/<dirfd>/<name> (short enough for sun_path whatever
// the directory's path). bind fails if the name exists: no file planted beforehand is used. The
// node bind made is then opened without following (O_PATH|O_NOFOLLOW) and must be a socket of ours
// with one link, else refused (the directory may be the target's to change); it is made 0600, then
// given to uid:gid on that descriptor, so only that user (and root) may connect, and no path is
// followed to something else in between. The pid check in handoverSend is what decides.
Napi::Value ListenJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsNumber() || !info[3].IsNumber()) {
    throw Napi::TypeError::New(env, "handoverListen(dirfd, name, uid, gid)");
  }
  int dirfd = info[0].As<Napi::Number>().Int32Value();
  std::string name = info[1].As<Napi::String>();
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    throw Napi::TypeError::New(env, "handoverListen: \"" + name + "\" is not one plain name");
  }
  std::string path = "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) {
    throw Napi::Error::New(env, name + ": too long for a unix socket name");
  }
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw Napi::Error::New(env, Errno("socket"));
  std::string err;
  int node = -1;
  struct stat st;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    err = Errno("bind " + name);
  } else if ((node = openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(node, &st) != 0) {
    err = Errno("reopening " + name);
  } else if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1) {
    errno = EEXIST;
    err = name + ": replaced by something else right after it was made; not touching it";
  } else {
    std::string self = "/proc/self/fd/" + std::to_string(node);
    if (chmod(self.c_str(), 0600) != 0 ||
        fchownat(node, "", info[2].As<Napi::Number>().Uint32Value(), info[3].As<Napi::Number>().Uint32Value(), AT_EMPTY_PATH) != 0) {
      err = Errno("chown/chmod " + name);
      unlinkat(dirfd, name.c_str(), 0);
    } else if (listen(fd, 8) != 0) {
      err = Errno("listen " + name);
      unlinkat(dirfd, name.c_str(), 0);
    }
  }
  if (node >= 0) close(node);
  if (!err.empty()) {
    close(fd);
    throw Napi::Error::New(env, err);
  }
  return Napi::Number::New(env, fd);
}

// handoverSend(listenFd, pid, tags, fds, timeoutMs) → { ok, refused: [{pid, uid}], error? }.
// Accepts until the peer whose pid is `pid` connects (others are closed at once, nothing sent, and
// listed in refused) or the time is up; sends it the descriptors and closes the connection.
Napi::Value SendJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsString() ||
      !info[3].IsArray() || !info[4].IsNumber()) {
    throw Napi::TypeError::New(env, "handoverSend(listenFd, pid, tags, fds, timeoutMs)");
  }
  int lfd = info[0].As<Napi::Number>().Int32Value();
  pid_t pid = info[1].As<Napi::Number>().Int32Value();
  std::string tags = info[2].As<Napi::String>();
  Napi::Array arr = info[3].As<Napi::Array>();
  std::vector<int> fds;
  for (uint32_t i = 0; i < arr.Length(); i++) fds.push_back(arr.Get(i).As<Napi::Number>().Int32Value());
  if (fds.empty() || fds.size() != tags.size() || fds.size() > 3) {
    throw Napi::TypeError::New(env, "handoverSend: one tag letter per descriptor, 1 to 3 of them");
  }
  long long deadline = NowMs() + info[4].As<Napi::Number>().Int64Value();
  Napi::Object out = Napi::Object::New(env);
  Napi::Array refused = Napi::Array::New(env);
  out.Set("refused", refused);
  std::string error;
  bool sent = false;
  while (!sent && error.empty()) {
    long long left = deadline - NowMs();
    if (left <= 0) {
      error = "pid " + std::to_string(pid) + " did not come for its descriptors in time";
      break;
    }
    pollfd p{lfd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      error = Errno("poll");
      break;
    }
    if (r == 0) continue;
    int c = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) error = Errno("accept");
      continue;
    }
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid != pid) {
      Napi::Object who = Napi::Object::New(env);
      who.Set("pid", Napi::Number::New(env, cred.pid));
      who.Set("uid", Napi::Number::New(env, cred.uid));
      refused.Set(refused.Length(), who);
      close(c);
      continue;
    }
    char ctl[CMSG_SPACE(3 * sizeof(int))];
    std::memset(ctl, 0, sizeof ctl);
    iovec iov{const_cast<char*>(tags.data()), tags.size()};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl;
    m.msg_controllen = CMSG_SPACE(fds.size() * sizeof(int));
    cmsghdr* h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    std::memcpy(CMSG_DATA(h), fds.data(), fds.size() * sizeof(int));
    ssize_t n;
    do n = sendmsg(c, &m, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) error = Errno("sending the descriptors to pid " + std::to_string(pid));
    else sent = true;
    close(c);
  }
  out.Set("ok", Napi::Boolean::New(env, sent));
  if (!error.empty()) out.Set("error", error);
  return out;
}

Napi::Value CloseJs(const Napi::CallbackInfo& info) {
  if (info.Length() >= 1 && info[0].IsNumber()) close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// peerConnect(name) → { fd, pid, uid, gid } or { error, code }. Connects to the abstract unix
// socket "@name" (name without the '@', the exact length, no padding), or to the path name when it
// starts with '/', and reads who listens there
// (SO_PEERCRED: the process and credentials of whoever called listen()). The control-socket client
// decides from that whether to talk at all: node's net cannot read a peer's credentials. The
// connect does not block: a full backlog answers EAGAIN, which the caller may try again.
Napi::Value PeerConnectJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "peerConnect(name)");
  std::string name = info[0].As<Napi::String>();
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  Napi::Object out = Napi::Object::New(env);
  // A name starting with '/' is a path (the control socket's file, reachable by its owner and root
  // only); anything else an abstract name.
  bool path = !name.empty() && name[0] == '/';
  std::string shown = path ? name : "@" + name;
  if (name.empty() || name.size() + 1 > sizeof a.sun_path) {
    out.Set("error", shown + (path ? ": too long for a unix socket path" : ": not a possible abstract socket name"));
    out.Set("code", "EINVAL");
    return out;
  }
  std::memcpy(a.sun_path + (path ? 0 : 1), name.data(), name.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());   // the leading NUL, or the ending one
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    out.Set("error", Errno("socket"));
    out.Set("code", errno == EMFILE || errno == ENFILE ? "EMFILE" : "ESOCKET");
    return out;
  }
  int r;
  do r = connect(fd, reinterpret_cast<sockaddr*>(&a), len);
  while (r != 0 && errno == EINTR);
  ucred cred{};
  socklen_t clen = sizeof cred;
  if (r != 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0) {
    int e = errno;
    close(fd);
    out.Set("error", shown + ": " + std::strerror(e));
    out.Set("code", e == ECONNREFUSED ? "ECONNREFUSED" : e == EAGAIN ? "EAGAIN" : e == ENOENT ? "ENOENT" : e == EACCES ? "EACCES" : "EOTHER");
    return out;
  }
  out.Set("fd", Napi::Number::New(env, fd));
  out.Set("pid", Napi::Number::New(env, cred.pid));
  out.Set("uid", Napi::Number::New(env, cred.uid));
  out.Set("gid", Napi::Number::New(env, cred.gid));
  return out;
}

}  // namespace scope_handover
