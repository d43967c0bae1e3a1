// procview.cc — the target as /proc shows it: its mappings, its files opened the way it sees them
// (its own root and mount namespace, not ours), its threads and their states.
#include "inject.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace scope_inject {
namespace {

int ReadWhole(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  out->clear();
  char buf[65536];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      close(fd);
      return e;
    }
    if (r == 0) break;
    out->append(buf, static_cast<size_t>(r));
  }
  close(fd);
  return 0;
}

std::string Proc(pid_t pid, const char* rest) { return "/proc/" + std::to_string(pid) + rest; }

}  // namespace

std::string TaskDir(pid_t pid, pid_t tid) { return "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid); }

int ReadMaps(pid_t pid, pid_t tid, std::vector<Mapping>* out) {
  std::string text;
  if (int e = ReadWhole(TaskDir(pid, tid) + "/maps", &text)) return e;
  out->clear();
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(at, nl - at);
    at = nl + 1;
    Mapping m;
    char perms[8] = {0};
    unsigned major = 0, minor = 0;
    int pathAt = 0;
    if (sscanf(line.c_str(), "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n", &m.start, &m.end, perms,
               &m.offset, &major, &minor, &m.inode, &pathAt) < 7)
      continue;
    m.perms = perms;
    if (pathAt > 0) m.path = line.substr(static_cast<size_t>(pathAt));
    static const char kDeleted[] = " (deleted)";
    const size_t dl = sizeof kDeleted - 1;
    if (m.path.size() > dl && m.path.compare(m.path.size() - dl, dl, kDeleted) == 0) {
      m.path.resize(m.path.size() - dl);
      m.deleted = true;
    }
    out->push_back(std::move(m));
  }
  return 0;
}

const Mapping* MappingAt(const std::vector<Mapping>& maps, uint64_t addr) {
  for (const Mapping& m : maps)
    if (addr >= m.start && addr < m.end) return &m;
  return nullptr;
}

const Mapping* FindLibrary(const std::vector<Mapping>& maps, const std::vector<const char*>& patterns,
                           uint64_t* base) {
  for (const Mapping& m : maps) {
    if (m.path.empty() || m.path[0] != '/' || m.offset != 0) continue;
    const char* name = std::strrchr(m.path.c_str(), '/') + 1;
    for (const char* p : patterns) {
      if (fnmatch(p, name, 0) == 0) {
        *base = m.start;
        return &m;
      }
    }
  }
  return nullptr;
}

int OpenMapped(pid_t pid, pid_t tid, const Mapping& m, std::string* err) {
  if (!m.deleted) {
    int fd = OpenInRoot(pid, tid, m.path, err);
    if (fd >= 0) return fd;
  }
  // The file the process mapped, whatever its name says now; needs CAP_SYS_ADMIN (or
  // CAP_CHECKPOINT_RESTORE), which is why it is the second choice.
  char range[64];
  snprintf(range, sizeof range, "/map_files/%" PRIx64 "-%" PRIx64, m.start, m.end);
  int fd = open(Proc(pid, range).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) return fd;
  if (m.deleted) *err = m.path + " was deleted after pid " + std::to_string(pid) + " mapped it, and /proc/" +
                        std::to_string(pid) + range + ": " + ErrnoText(errno);
  return -1;
}

int OpenInRoot(pid_t pid, pid_t tid, const std::string& path, std::string* err) {
  if (path.empty() || path[0] != '/') {
    *err = "\"" + path + "\" is not an absolute path";
    return -1;
  }
  std::string full = TaskDir(pid, tid) + "/root" + path;
  int fd = open(full.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) *err = full + ": " + ErrnoText(errno);
  return fd;
}

std::string StatusField(const std::string& statusPath, const char* key) {
  std::string text;
  if (ReadWhole(statusPath, &text) != 0) return "";
  const std::string t = "\n" + text, k = std::string("\n") + key + ":";
  size_t at = t.find(k);
  if (at == std::string::npos) return "";
  size_t from = at + k.size(), nl = t.find('\n', from);
  std::string v = t.substr(from, nl == std::string::npos ? std::string::npos : nl - from);
  size_t b = v.find_first_not_of(" \t");
  return b == std::string::npos ? "" : v.substr(b);
}

char TaskState(pid_t pid, pid_t tid) {
  std::string text;
  if (ReadWhole(Proc(pid, ("/task/" + std::to_string(tid) + "/stat").c_str()), &text) != 0) return 0;
  size_t rp = text.rfind(')');  // the command name may hold spaces and parentheses
  return rp == std::string::npos || rp + 2 >= text.size() ? 0 : text[rp + 2];
}

pid_t ParentOf(pid_t pid) {
  std::string text;
  if (ReadWhole(Proc(pid, "/stat"), &text) != 0) return 0;
  size_t rp = text.rfind(')');
  if (rp == std::string::npos) return 0;
  char state = 0;
  int ppid = 0;
  if (sscanf(text.c_str() + rp + 1, " %c %d", &state, &ppid) != 2) return 0;
  return ppid;
}

pid_t PickThread(pid_t pid) {
  auto live = [](char s) { return s != 0 && s != 'Z' && s != 'X' && s != 'x'; };
  if (live(TaskState(pid, pid))) return pid;
  pid_t found = 0;
  if (DIR* d = opendir(Proc(pid, "/task").c_str())) {
    while (dirent* e = readdir(d)) {
      pid_t tid = static_cast<pid_t>(atoi(e->d_name));
      if (tid > 0 && tid != pid && live(TaskState(pid, tid))) {
        found = tid;
        break;
      }
    }
    closedir(d);
  }
  return found;
}

}  // namespace scope_inject
