// permission.cc — why PTRACE_SEIZE failed, in words a person can act on: the process is gone or a
// zombie, already has a tracer, runs as another user or is not dumpable, Yama's ptrace_scope
// forbids it, this process lacks CAP_SYS_PTRACE, or (when none of those) an LSM or seccomp.
#include "inject.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace scope_inject {
namespace {

bool HasCapSysPtrace() {
  std::string eff = StatusField("/proc/self/status", "CapEff");
  if (eff.empty()) return geteuid() == 0;
  return (std::strtoull(eff.c_str(), nullptr, 16) >> 19) & 1;  // CAP_SYS_PTRACE is capability 19
}

int YamaScope() {
  FILE* f = std::fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
  if (!f) return -1;
  int v = -1;
  if (std::fscanf(f, "%d", &v) != 1) v = -1;
  std::fclose(f);
  return v;
}

// "1000 1000 1000 1000" (real, effective, saved, filesystem) → the first three.
bool Ids(const std::string& line, unsigned long out[3]) {
  return std::sscanf(line.c_str(), "%lu %lu %lu", &out[0], &out[1], &out[2]) == 3;
}

bool IsOurDescendant(pid_t pid) {
  const pid_t self = getpid();
  for (int depth = 0; pid > 1 && depth < 4096; ++depth) {
    pid = ParentOf(pid);
    if (pid == self) return true;
  }
  return false;
}

// PF_KTHREAD in the flags field of /proc/<pid>/stat.
bool IsKernelThread(pid_t pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "re");
  if (!f) return false;
  char buf[1024];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* rp = std::strrchr(buf, ')');  // the command name may hold spaces and parentheses
  unsigned long flags = 0;
  return rp && std::sscanf(rp + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) == 1 && (flags & 0x00200000);
}

std::string Comm(pid_t pid) {
  std::string name = StatusField("/proc/" + std::to_string(pid) + "/status", "Name");
  return name.empty() ? "" : " (" + name + ")";
}

}  // namespace

Status ExplainSeizeError(pid_t pid, int err) {
  const std::string who = "pid " + std::to_string(pid) + Comm(pid);
  const char state = TaskState(pid, pid);
  if (state == 'Z' || state == 'X')
    return Fail("EXITED", who + " has exited: it is a zombie its parent has not reaped yet");
  if (err == ESRCH || state == 0) return Fail("ESRCH", "no process " + std::to_string(pid));
  if (err != EPERM) return Fail("ERROR", "PTRACE_SEIZE " + who + ": " + ErrnoText(err));

  const std::string status = "/proc/" + std::to_string(pid) + "/status";
  if (IsKernelThread(pid)) return Fail("EPERM", who + " is a kernel thread; only user processes can be injected");
  const std::string tracer = StatusField(status, "TracerPid");
  if (!tracer.empty() && tracer != "0") {
    pid_t t = static_cast<pid_t>(std::atoi(tracer.c_str()));
    return Fail("EPERM", who + " is already traced by pid " + tracer + Comm(t) +
                             " (a debugger or tracer); a thread has one tracer at a time: detach it first");
  }
  const bool cap = HasCapSysPtrace();
  const int yama = YamaScope();
  if (yama == 3)
    return Fail("EPERM", "kernel.yama.ptrace_scope is 3: no process may attach to another, whatever its "
                         "privileges (only a reboot lowers it)");
  if (yama == 2 && !cap)
    return Fail("EPERM", "kernel.yama.ptrace_scope is 2: only a process with CAP_SYS_PTRACE may attach; run as root");

  unsigned long uid[3] = {0, 0, 0}, gid[3] = {0, 0, 0};
  const bool known = Ids(StatusField(status, "Uid"), uid) && Ids(StatusField(status, "Gid"), gid);
  const unsigned long myUid = geteuid(), myGid = getegid();
  const bool sameIds = known && uid[0] == myUid && uid[1] == myUid && uid[2] == myUid && gid[0] == myGid &&
                       gid[1] == myGid && gid[2] == myGid;
  const std::string noCap =
      myUid == 0 ? " (this process is root but lacks CAP_SYS_PTRACE: a container started without it?)"
                 : ": run as root";
  if (known && !sameIds && !cap)
    return Fail("EPERM", who + " runs as uid " + std::to_string(uid[1]) + " gid " + std::to_string(gid[1]) +
                             " and this process as uid " + std::to_string(myUid) + " gid " + std::to_string(myGid) +
                             "; attaching to another user's process needs CAP_SYS_PTRACE" + noCap);
  // The kernel hands a non-dumpable process's /proc directory to root.
  struct stat st;
  if (sameIds && !cap && stat(("/proc/" + std::to_string(pid)).c_str(), &st) == 0 && st.st_uid != uid[1])
    return Fail("EPERM", who + " is not dumpable (a setuid or setgid program, or prctl(PR_SET_DUMPABLE, 0)); "
                               "attaching to it needs CAP_SYS_PTRACE" + noCap);
  if (yama == 1 && !cap && !IsOurDescendant(pid))
    return Fail("EPERM", "kernel.yama.ptrace_scope is 1: only an ancestor of " + who +
                             " (or a process it named with PR_SET_PTRACER) may attach, or one with CAP_SYS_PTRACE; "
                             "run as root, or lower it with sysctl kernel.yama.ptrace_scope=0");
  return Fail("EPERM", "the kernel refused to let this process trace " + who +
                           " although its uid, capabilities and Yama allow it: an LSM (AppArmor, SELinux), a "
                           "seccomp filter, or a user namespace it cannot see into forbids it");
}

}  // namespace scope_inject
