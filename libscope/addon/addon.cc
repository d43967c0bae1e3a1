// The node addon: native helpers the tools need and JavaScript cannot do well: reading an
// executable's ELF program headers, so `scope run` can tell a static executable (no PT_INTERP, so the
// loader never sees LD_PRELOAD) from one libscope can enter, before it starts the command; and
// loading a library into a running process (inject.cc), for `scope attach`; handing it open
// descriptors (handover.cc); opening paths inside another process's root without following links
// out of it (inroot.cc); and connecting to a control socket with its listener's credentials read (handover.cc).
#include <napi.h>

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "util/exekind.h"   // libscope's own reader (src/util/exekind.c), shared

namespace scope_inject {
Napi::Value InjectJs(const Napi::CallbackInfo& info);  // inject.cc
}
namespace scope_inroot {  // inroot.cc
Napi::Value OpenInRootJs(const Napi::CallbackInfo& info);
Napi::Value DirInRootJs(const Napi::CallbackInfo& info);
Napi::Value OpenInDirJs(const Napi::CallbackInfo& info);
Napi::Value UnlinkInDirJs(const Napi::CallbackInfo& info);
Napi::Value Openat2AvailableJs(const Napi::CallbackInfo& info);
}
namespace scope_handover {  // handover.cc
Napi::Value ListenJs(const Napi::CallbackInfo& info);
Napi::Value SendJs(const Napi::CallbackInfo& info);
Napi::Value CloseJs(const Napi::CallbackInfo& info);
Napi::Value PeerConnectJs(const Napi::CallbackInfo& info);
}

namespace {

long PreadFn(int fd, void* buf, size_t n, off_t off) { return static_cast<long>(pread(fd, buf, n, off)); }

// Reads exactly n bytes at off; false on a short file or an error.
bool ReadAt(int fd, void* buf, size_t n, off_t off) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = pread(fd, static_cast<char*>(buf) + done, n - done, off + static_cast<off_t>(done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

template <typename Ehdr, typename Phdr>
void ReadProgramHeaders(int fd, const unsigned char* ident, Napi::Object& out, Napi::Env env) {
  Ehdr eh;
  if (!ReadAt(fd, &eh, sizeof eh, 0)) {
    out.Set("error", "truncated ELF header");
    return;
  }
  (void)ident;
  out.Set("type", eh.e_type == ET_EXEC ? "exec" : eh.e_type == ET_DYN ? "dyn" : "other");
  out.Set("machine", Napi::Number::New(env, eh.e_machine));
  bool hasDynamic = false;
  std::string interp;
  // A sane executable has a handful of program headers; a huge count is a corrupt or hostile file.
  if (eh.e_phentsize != sizeof(Phdr) || eh.e_phnum > 4096) {
    out.Set("error", "unexpected program header table");
    return;
  }
  std::vector<Phdr> ph(eh.e_phnum);
  if (eh.e_phnum > 0 && !ReadAt(fd, ph.data(), sizeof(Phdr) * eh.e_phnum, static_cast<off_t>(eh.e_phoff))) {
    out.Set("error", "truncated program header table");
    return;
  }
  for (const Phdr& p : ph) {
    if (p.p_type == PT_DYNAMIC) hasDynamic = true;
    if (p.p_type == PT_INTERP && p.p_filesz > 0 && p.p_filesz < 4096) {
      std::string s(p.p_filesz, '\0');
      if (ReadAt(fd, s.data(), s.size(), static_cast<off_t>(p.p_offset))) {
        interp.assign(s.c_str());
      }
    }
  }
  out.Set("dynamic", Napi::Boolean::New(env, hasDynamic));
  out.Set("interpreter", interp.empty() ? env.Null() : Napi::String::New(env, interp));
}

// elfInfo(path) → { elf: false } for a non-ELF file (a script), or
// { elf: true, bits, type, machine, dynamic, interpreter, go }. Throws with errno text if unreadable.
Napi::Value ElfInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(env, "elfInfo(path): path must be a string");
  }
  std::string path = info[0].As<Napi::String>();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw Napi::Error::New(env, path + ": " + std::strerror(errno));
  }
  Napi::Object out = Napi::Object::New(env);
  unsigned char ident[EI_NIDENT];
  if (!ReadAt(fd, ident, sizeof ident, 0) || std::memcmp(ident, ELFMAG, SELFMAG) != 0) {
    out.Set("elf", false);
    close(fd);
    return out;
  }
  out.Set("elf", true);
  if (ident[EI_CLASS] == ELFCLASS64) {
    out.Set("bits", 64);
    ReadProgramHeaders<Elf64_Ehdr, Elf64_Phdr>(fd, ident, out, env);
  } else if (ident[EI_CLASS] == ELFCLASS32) {
    out.Set("bits", 32);
    ReadProgramHeaders<Elf32_Ehdr, Elf32_Phdr>(fd, ident, out, env);
  } else {
    out.Set("error", "unknown ELF class");
  }
  enum scope_exe_kind kind = scope_exe_kind_fd(fd, PreadFn);
  out.Set("go", Napi::Boolean::New(env, kind == SCOPE_EXE_GO || kind == SCOPE_EXE_GO_STATIC));
  close(fd);
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("elfInfo", Napi::Function::New(env, ElfInfo, "elfInfo"));
  exports.Set("inject", Napi::Function::New(env, scope_inject::InjectJs, "inject"));
  exports.Set("handoverListen", Napi::Function::New(env, scope_handover::ListenJs, "handoverListen"));
  exports.Set("handoverSend", Napi::Function::New(env, scope_handover::SendJs, "handoverSend"));
  exports.Set("handoverClose", Napi::Function::New(env, scope_handover::CloseJs, "handoverClose"));
  exports.Set("peerConnect", Napi::Function::New(env, scope_handover::PeerConnectJs, "peerConnect"));
  exports.Set("openInRoot", Napi::Function::New(env, scope_inroot::OpenInRootJs, "openInRoot"));
  exports.Set("dirInRoot", Napi::Function::New(env, scope_inroot::DirInRootJs, "dirInRoot"));
  exports.Set("openInDir", Napi::Function::New(env, scope_inroot::OpenInDirJs, "openInDir"));
  exports.Set("unlinkInDir", Napi::Function::New(env, scope_inroot::UnlinkInDirJs, "unlinkInDir"));
  exports.Set("openat2Available", Napi::Function::New(env, scope_inroot::Openat2AvailableJs, "openat2Available"));
  return exports;
}

}  // namespace

NODE_API_MODULE(scope_addon, Init)
