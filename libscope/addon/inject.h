// inject.h — the pieces of `inject` (loading a library into a running process by ptrace) shared
// between its files: the outcome type, ELF lookups (elfsym.cc), the target's /proc view
// (procview.cc) and why the kernel refused to let us trace (permission.cc). The traced thread
// itself is tracee.h; inject.cc puts them together and is the N-API face.
#pragma once

#include <elf.h>
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace scope_inject {

// An outcome: ok, or a stable code (the TypeScript InjectCode union) and a message for people.
struct Status {
  std::string code;
  std::string message;
  bool ok() const { return code.empty(); }
};
inline Status Ok() { return {}; }
inline Status Fail(std::string code, std::string message) { return {std::move(code), std::move(message)}; }

using Clock = std::chrono::steady_clock;

std::string Hex(uint64_t v);
std::string ErrnoText(int err);

// --- elfsym.cc: a 64-bit ELF file read the way the dynamic loader reads it ---------------------

struct ElfImage {
  int fd = -1;                   // not owned
  uint64_t size = 0;
  Elf64_Ehdr eh{};
  std::vector<Elf64_Phdr> ph;
};

// Reads the ELF and program headers. Fails with "ARCH" for an ELF of another class or machine
// than this process's, with "ERROR" for anything unreadable.
Status ElfOpen(int fd, const std::string& what, ElfImage* out);
bool ElfHasInterp(const ElfImage& img);
// The page-aligned p_vaddr of the lowest PT_LOAD: what the mapping at file offset 0 stands for.
uint64_t ElfFirstLoad(const ElfImage& img);
// A defined function symbol's st_value, looked up through PT_DYNAMIC's DT_GNU_HASH or DT_HASH
// (section headers may be stripped; the loader never needs them). The default version wins over
// a hidden (compat) one. false when absent; *err says why when the file itself is at fault.
bool ElfLookup(const ElfImage& img, const std::string& name, uint64_t* value, std::string* err);

// --- procview.cc: the target as /proc shows it -------------------------------------------------

struct Mapping {
  uint64_t start = 0, end = 0, offset = 0, inode = 0;
  std::string perms, path;      // path without the " (deleted)" suffix
  bool deleted = false;
};

// The files below are read through /proc/<pid>/task/<tid>: they stay valid through any live thread
// of the process, also after its main thread exited.
std::string TaskDir(pid_t pid, pid_t tid);
// errno on failure (EACCES when we may not read another user's maps).
int ReadMaps(pid_t pid, pid_t tid, std::vector<Mapping>* out);
const Mapping* MappingAt(const std::vector<Mapping>& maps, uint64_t addr);
// The first mapped file whose basename matches one of the patterns (fnmatch), and the address
// its file offset 0 is mapped at.
const Mapping* FindLibrary(const std::vector<Mapping>& maps, const std::vector<const char*>& patterns,
                           uint64_t* base);
// Opens a mapped file as the target sees it: through /proc/<pid>/root (its mount namespace and
// root), or /proc/<pid>/map_files when the file was deleted or replaced since it was mapped.
int OpenMapped(pid_t pid, pid_t tid, const Mapping& m, std::string* err);
// Opens a path in the target's root (for the library it just loaded).
int OpenInRoot(pid_t pid, pid_t tid, const std::string& path, std::string* err);

// One line of /proc/<pid>/status ("Uid", "TracerPid", …) without its key, "" when absent.
std::string StatusField(const std::string& statusPath, const char* key);
// The one-letter state of a task from /proc/<pid>/task/<tid>/stat ('R', 'S', 'Z', …), 0 if gone.
char TaskState(pid_t pid, pid_t tid);
pid_t ParentOf(pid_t pid);
// The thread to run the calls on: the main thread, or another live one when the main thread has
// exited (pthread_exit) but the process has not. 0 when every thread is a zombie.
pid_t PickThread(pid_t pid);

// --- permission.cc ------------------------------------------------------------------------------

// Turns PTRACE_SEIZE's errno into an outcome that names the cause (EPERM, ESRCH, EXITED).
Status ExplainSeizeError(pid_t pid, int err);

}  // namespace scope_inject
