// inject.cc — inject(pid, libPath, entry?, options?): load a shared library into a running
// process (issue 7, "scope a running process") by making the process's OWN dlopen run on one of
// its threads. The address of dlopen is read from the libc the target has mapped, through the
// file it mapped (its root, its mount namespace), never from ours: a process with a private or
// different libc gets its own function called. Then, optionally, entry.symbol(entry.arg) in the
// library just loaded. Everything is checked before the process is touched; it is stopped only
// for the calls themselves, on one thread, while its other threads run.
#include <napi.h>

#include "inject.h"
#include "tracee.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace scope_inject {

std::string Hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%" PRIx64, v);
  return b;
}

std::string ErrnoText(int err) {
  char buf[128];
  return strerror_r(err, buf, sizeof buf);  // the GNU variant returns the text
}

namespace {

struct Request {
  pid_t pid = 0;
  std::string lib;
  bool hasEntry = false;
  std::string symbol, arg;
  int timeoutMs = 10000;
};

struct Result {
  Status status;
  uint64_t handle = 0;
  bool hasEntry = false;
  int entryResult = 0;
};

#if defined(__x86_64__)

// The target's own loader entry point.
struct Loader {
  uint64_t dlopen = 0, dlerror = 0;
  int mode = RTLD_NOW;
};

// glibc's __RTLD_DLOPEN, which its dlopen() adds before calling the loader; __libc_dlopen_mode
// callers pass it themselves.
constexpr unsigned kRtldDlopen = 0x80000000u;

// libc as glibc (libc.so.6, or libc-2.x.so on old systems) and musl (the loader is libc) name it.
const std::vector<const char*> kLibc = {"libc.so.6", "libc-[0-9]*.so", "libc.so", "ld-musl-*.so.1", "libc.musl-*.so.1"};
const std::vector<const char*> kLibdl = {"libdl.so.2", "libdl-[0-9]*.so"};

// Each name's run-time address in the mapped file m (0 when the file does not define it).
Status Lookup(pid_t pid, pid_t tid, const Mapping& m, uint64_t base, const std::vector<std::string>& names,
              std::vector<uint64_t>* addrs) {
  std::string err;
  int fd = OpenMapped(pid, tid, m, &err);
  if (fd < 0) return Fail("NO_LIBC", "cannot open " + m.path + " as pid " + std::to_string(pid) + " maps it: " + err);
  ElfImage img;
  Status st = ElfOpen(fd, m.path, &img);
  addrs->assign(names.size(), 0);
  for (size_t i = 0; st.ok() && i < names.size(); ++i) {
    uint64_t v = 0;
    err.clear();
    if (ElfLookup(img, names[i], &v, &err))
      (*addrs)[i] = base - ElfFirstLoad(img) + v;
    else if (!err.empty())
      st = Fail("NO_DLOPEN", m.path + ": " + err);
  }
  close(fd);
  return st;
}

Status FindLoader(pid_t pid, pid_t tid, const std::vector<Mapping>& maps, Loader* out) {
  const std::string who = "pid " + std::to_string(pid);
  uint64_t base = 0;
  const Mapping* libc = FindLibrary(maps, kLibc, &base);
  if (!libc) return Fail("NO_LIBC", "no libc is mapped in " + who + ", so there is no dlopen to call");
  std::vector<uint64_t> a;
  if (Status st = Lookup(pid, tid, *libc, base, {"dlopen", "dlerror", "__libc_dlopen_mode"}, &a); !st.ok()) return st;
  if (a[0]) {  // glibc ≥ 2.34 (libdl merged into libc), musl
    out->dlopen = a[0], out->dlerror = a[1];
    return Ok();
  }
  uint64_t dlBase = 0;
  if (const Mapping* libdl = FindLibrary(maps, kLibdl, &dlBase)) {  // older glibc, libdl loaded
    std::vector<uint64_t> d;
    if (Status st = Lookup(pid, tid, *libdl, dlBase, {"dlopen", "dlerror"}, &d); !st.ok()) return st;
    if (d[0]) {
      out->dlopen = d[0], out->dlerror = d[1];
      return Ok();
    }
  }
  if (a[2]) {  // older glibc without libdl: its internal entry point, which has no dlerror
    out->dlopen = a[2], out->mode = static_cast<int>(RTLD_NOW | kRtldDlopen);
    return Ok();
  }
  return Fail("NO_DLOPEN", libc->path + " in " + who +
                               " exports neither dlopen nor __libc_dlopen_mode, and no libdl.so.2 is loaded");
}

// What can be known without touching the process: is it dynamic, 64-bit, safe to call into, and
// where is its dlopen. *denied: its /proc files are closed to us (then PTRACE_SEIZE says why).
Status Inspect(pid_t pid, pid_t tid, Loader* loader, bool* denied) {
  const std::string proc = TaskDir(pid, tid);
  *denied = false;
  int fd = open((proc + "/exe").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *denied = true;  // EACCES for another user's process, ENOENT for a kernel thread: seize tells
    return Ok();
  }
  char exe[4096];
  ssize_t n = readlink((proc + "/exe").c_str(), exe, sizeof exe - 1);
  const std::string exePath = n > 0 ? std::string(exe, static_cast<size_t>(n)) : proc + "/exe";
  ElfImage img;
  Status st = ElfOpen(fd, "pid " + std::to_string(pid) + " (" + exePath + ")", &img);
  close(fd);
  if (!st.ok()) return st;
  if (!ElfHasInterp(img))
    return Fail("STATIC", "pid " + std::to_string(pid) + " (" + exePath +
                              ") is statically linked: it has no dynamic loader to load a library with");
  const std::string status = proc + "/status";
  // A call returns through a SIGSEGV at address 0; with SIGSEGV ignored the kernel would reset
  // the process's disposition to the default to deliver it.
  if ((std::strtoull(StatusField(status, "SigIgn").c_str(), nullptr, 16) >> (SIGSEGV - 1)) & 1)
    return Fail("UNSAFE", "pid " + std::to_string(pid) + " ignores SIGSEGV, which the remote call returns through");
  if (StatusField(status, "x86_Thread_features").find("shstk") != std::string::npos)
    return Fail("ARCH", "pid " + std::to_string(pid) + " runs with a CET shadow stack; a remote call cannot return on it");
  std::vector<Mapping> maps;
  if (int e = ReadMaps(pid, tid, &maps)) {
    if (e == EACCES || e == EPERM) *denied = true;
    else return Fail("ERROR", proc + "/maps: " + ErrnoText(e));
    return Ok();
  }
  return FindLoader(pid, tid, maps, loader);
}

// The library's own file, found through the link_map dlopen returned (glibc's and musl's handle
// both begin with l_addr, l_name): the load bias, and the path as the loader opened it.
Status EntryAddress(Tracee& t, pid_t pid, pid_t tid, uint64_t handle, const std::string& symbol, uint64_t* fn) {
  uint64_t head[2] = {0, 0};  // l_addr, l_name
  if (Status st = t.ReadMem(handle, head, sizeof head); !st.ok()) return st;
  std::string name, err;
  if (Status st = t.ReadString(head[1], 4096, &name); !st.ok()) return st;
  int fd = OpenInRoot(pid, tid, name, &err);
  if (fd < 0) return Fail("NO_ENTRY", "cannot read the loaded library to find " + symbol + ": " + err);
  ElfImage img;
  Status st = ElfOpen(fd, name, &img);
  uint64_t value = 0;
  if (st.ok() && !ElfLookup(img, symbol, &value, &err))
    st = Fail("NO_ENTRY", name + " has no function " + symbol + (err.empty() ? "" : " (" + err + ")") +
                              "; the library stays loaded (handle " + Hex(handle) + ")");
  close(fd);
  *fn = head[0] + value;
  return st;
}

Result Run(const Request& q) {
  Result res;
  const std::string who = "pid " + std::to_string(q.pid);
  const pid_t tid = PickThread(q.pid);
  if (tid == 0) {
    const char state = TaskState(q.pid, q.pid);
    res.status = state == 0 ? Fail("ESRCH", "no process " + std::to_string(q.pid))
                            : Fail("EXITED", who + " has exited: it is a zombie its parent has not reaped yet");
    return res;
  }
  Loader loader;
  bool denied = false;
  if (res.status = Inspect(q.pid, tid, &loader, &denied); !res.status.ok()) return res;

  Tracee t(q.pid, tid, Clock::now() + std::chrono::milliseconds(q.timeoutMs));
  if (int e = t.Seize()) {
    res.status = ExplainSeizeError(q.pid, e);
    return res;
  }
  if (denied) {  // /proc closed to us and yet the kernel lets us trace: too odd to go on
    t.Release();
    res.status = Fail("EPERM", TaskDir(q.pid, tid) + " cannot be read by this process");
    return res;
  }
  auto run = [&]() -> Status {
    if (Status st = t.Stop(); !st.ok()) return st;
    std::vector<Mapping> maps;  // again: the stack may have grown
    if (int e = ReadMaps(q.pid, tid, &maps)) return Fail("ERROR", TaskDir(q.pid, tid) + "/maps: " + ErrnoText(e));
    if (Status st = t.Reserve(std::max(q.lib.size(), q.arg.size()), maps); !st.ok()) return st;
    if (Status st = t.Call(loader.dlopen, &q.lib, static_cast<unsigned>(loader.mode), &res.handle); !st.ok()) return st;
    if (res.handle == 0) {
      std::string why = "dlopen returned NULL (this libc has no dlerror to say why)";
      uint64_t text = 0;
      if (loader.dlerror && t.Call(loader.dlerror, nullptr, 0, &text).ok() && text != 0) {
        if (Status st = t.ReadString(text, 4096, &why); !st.ok()) return st;
      }
      return Fail("DLOPEN_FAILED", why);
    }
    if (!q.hasEntry) return Ok();
    uint64_t fn = 0, ret = 0;
    if (Status st = EntryAddress(t, q.pid, tid, res.handle, q.symbol, &fn); !st.ok()) return st;
    if (Status st = t.Call(fn, &q.arg, 0, &ret); !st.ok()) return st;
    res.hasEntry = true;
    res.entryResult = static_cast<int32_t>(static_cast<uint32_t>(ret));  // an int comes back in eax
    return Ok();
  };
  res.status = run();
  Status released = t.Release();
  if (res.status.ok() && !released.ok()) res.status = released;
  else if (!released.ok() && released.code != "EXITED") res.status.message += "; then " + released.message;
  return res;
}

#else  // remote.cc knows x86-64 registers only

Result Run(const Request&) {
  Result res;
  res.status = Fail("ARCH", "injection is implemented for x86-64 processes only");
  return res;
}

#endif

std::string StringArg(const Napi::Env& env, const Napi::Value& v, const char* what) {
  if (!v.IsString()) throw Napi::TypeError::New(env, std::string("inject: ") + what + " must be a string");
  std::string s = v.As<Napi::String>();
  if (s.find('\0') != std::string::npos) throw Napi::TypeError::New(env, std::string("inject: ") + what + " holds a NUL byte");
  if (s.size() > 4096) throw Napi::TypeError::New(env, std::string("inject: ") + what + " is longer than 4096 bytes");
  return s;
}

}  // namespace

// inject(pid, libPath, entry?, options?) → { ok: true, handle, entryResult? } | { ok: false, code, message }.
// Wrong argument types throw; everything about the target is a result.
Napi::Value InjectJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Request q;
  if (info.Length() < 2 || !info[0].IsNumber())
    throw Napi::TypeError::New(env, "inject(pid, libPath, entry?, options?): pid must be a number");
  const double pid = info[0].As<Napi::Number>().DoubleValue();
  if (!(pid >= 1 && pid <= 4194304 && pid == static_cast<double>(static_cast<int64_t>(pid))))
    throw Napi::TypeError::New(env, "inject: pid must be a positive integer");
  q.pid = static_cast<pid_t>(pid);
  q.lib = StringArg(env, info[1], "libPath");
  if (q.lib.empty()) throw Napi::TypeError::New(env, "inject: libPath is empty");
  if (info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull()) {
    if (!info[2].IsObject()) throw Napi::TypeError::New(env, "inject: entry must be { symbol, arg }");
    Napi::Object e = info[2].As<Napi::Object>();
    q.hasEntry = true;
    q.symbol = StringArg(env, e.Get("symbol"), "entry.symbol");
    q.arg = StringArg(env, e.Get("arg"), "entry.arg");
    if (q.symbol.empty()) throw Napi::TypeError::New(env, "inject: entry.symbol is empty");
  }
  if (info.Length() > 3 && info[3].IsObject()) {
    Napi::Value t = info[3].As<Napi::Object>().Get("timeoutMs");
    if (!t.IsUndefined()) {
      if (!t.IsNumber() || !(t.As<Napi::Number>().DoubleValue() > 0))
        throw Napi::TypeError::New(env, "inject: options.timeoutMs must be a positive number");
      q.timeoutMs = static_cast<int>(std::min(t.As<Napi::Number>().DoubleValue(), 3600000.0));
    }
  }
  Result r = Run(q);
  Napi::Object out = Napi::Object::New(env);
  out.Set("ok", r.status.ok());
  if (r.status.ok()) {
    out.Set("handle", Hex(r.handle));
    if (r.hasEntry) out.Set("entryResult", r.entryResult);
  } else {
    out.Set("code", r.status.code);
    out.Set("message", r.status.message);
  }
  return out;
}

}  // namespace scope_inject
