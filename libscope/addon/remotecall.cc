// remotecall.cc — functions called in another process's address space, on a thread tracee.cc
// has stopped (x86-64).
//
// How a call is made: the thread is stopped (PTRACE_INTERRUPT), its registers, FP/vector state and
// signal mask are saved; a string and a return address of 0 are written below its red zone; rip
// is set to the function, rdi/rsi to the arguments, orig_rax to -1 so the kernel does not restart
// the syscall the thread was blocked in with our registers; the call returns to address 0 and
// faults, and that SIGSEGV signal-delivery-stop (rip 0, rsp just above our return slot) is the end
// of the call: rax is read and the signal discarded. At the end memory, registers (orig_rax and
// rax included) and mask are put back, so an interrupted read(), accept(), nanosleep() or futex
// wait is restarted by the kernel as if nothing had happened.
#include "tracee.h"

#if defined(__x86_64__)

#include <sys/ptrace.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace scope_inject {

// A syscall of the injected code interrupted with -ERESTART_RESTARTBLOCK (a nanosleep, a timed
// futex wait, poll) has overwritten the thread's one restart_block in the kernel: the app's own
// interrupted syscall can no longer be restarted through it (Release re-executes it instead).
void Tracee::NoteRestartBlock() {
  user_regs_struct now;
  if (ptrace(PTRACE_GETREGS, tid_, nullptr, &now) == 0 && static_cast<long long>(now.orig_rax) >= 0 &&
      static_cast<long long>(now.rax) == -kErestartRestartblock)
    restartBlockLost_ = true;
}

Status Tracee::ReadMem(uint64_t addr, void* buf, size_t n) {
  if (memfd_ < 0 || pread(memfd_, buf, n, static_cast<off_t>(addr)) != static_cast<ssize_t>(n))
    return Fail("ERROR", "reading " + std::to_string(n) + " bytes at " + Hex(addr) + " in pid " + std::to_string(pid_) +
                             ": " + ErrnoText(errno));
  return Ok();
}

Status Tracee::ReadString(uint64_t addr, size_t max, std::string* out) {
  out->clear();
  char chunk[256];
  while (out->size() < max) {
    // In pieces that never cross a page: a string near the end of a mapping must not fail on
    // the unmapped page after it.
    size_t n = sizeof chunk - ((addr + out->size()) % sizeof chunk);
    if (memfd_ < 0 || pread(memfd_, chunk, n, static_cast<off_t>(addr + out->size())) <= 0)
      return Fail("ERROR", "reading a string at " + Hex(addr) + ": " + ErrnoText(errno));
    if (const void* nul = std::memchr(chunk, 0, n)) {
      out->append(chunk, static_cast<size_t>(static_cast<const char*>(nul) - chunk));
      return Ok();
    }
    out->append(chunk, n);
  }
  out->resize(max);
  return Ok();
}

Status Tracee::Reserve(size_t bytes, const std::vector<Mapping>& maps) {
  const uint64_t sp = Regs(regs_).rsp;
  const uint64_t hi = (sp - 128) & ~uint64_t{15};  // below the red zone a leaf function may be using
  strAt_ = hi - ((bytes + 1 + 15) & ~size_t{15});
  callSp_ = strAt_ - 8;  // holds the return address 0; rsp + 8 is 16-aligned at entry, as the ABI wants
  scratchLo_ = callSp_;
  scratchHi_ = hi;
  const Mapping* m = MappingAt(maps, sp);
  const std::string where = "the stack pointer " + Hex(sp) + " of thread " + std::to_string(tid_);
  if (!m || m->perms.size() < 2 || m->perms[1] != 'w')
    return Fail("UNSAFE", where + " is not in a writable mapping; the thread is not on a stack a call can use");
  // dlopen and the library's constructors need stack; a thread on a small custom stack (a
  // coroutine, a signal stack) would overflow it. The main stack grows on demand.
  constexpr uint64_t kRoom = 64 * 1024;
  if (scratchLo_ < m->start || (m->path != "[stack]" && scratchLo_ - m->start < kRoom))
    return Fail("UNSAFE", where + " has only " + std::to_string(sp - m->start) + " bytes of stack below it; a call needs " +
                              std::to_string(kRoom));
  scratchSaved_.resize(scratchHi_ - scratchLo_);
  if (Status st = ReadMem(scratchLo_, scratchSaved_.data(), scratchSaved_.size()); !st.ok()) {
    scratchSaved_.clear();
    return st;
  }
  return Ok();
}

// The ABI's state at a call: x87 stack empty and default control word, default MXCSR. What the
// thread was computing is in fp_ and comes back at Release.
Status Tracee::SetCallFpState() {
  user_fpregs_struct f;
  std::memset(&f, 0, sizeof f);
  uint32_t maskBits = 0;
  std::memcpy(&maskBits, fp_.data() + offsetof(user_fpregs_struct, mxcr_mask), sizeof maskBits);
  f.cwd = 0x037f;
  f.mxcsr = 0x1f80;
  f.mxcr_mask = maskBits;
  if (ptrace(PTRACE_SETFPREGS, tid_, nullptr, &f) != 0) return Fail("ERROR", "PTRACE_SETFPREGS: " + ErrnoText(errno));
  return Ok();
}

Status Tracee::Call(uint64_t fn, const std::string* str, uint64_t arg1, uint64_t* ret) {
  user_regs_struct r = Regs(regs_);
  if (str) {
    if (str->size() + 1 > scratchHi_ - strAt_) return Fail("ERROR", "string longer than the reserved room");
    if (pwrite(memfd_, str->c_str(), str->size() + 1, static_cast<off_t>(strAt_)) != static_cast<ssize_t>(str->size() + 1))
      return Fail("ERROR", "writing into pid " + std::to_string(pid_) + ": " + ErrnoText(errno));
  }
  const uint64_t zero = 0;
  if (pwrite(memfd_, &zero, sizeof zero, static_cast<off_t>(callSp_)) != sizeof zero)
    return Fail("ERROR", "writing into pid " + std::to_string(pid_) + ": " + ErrnoText(errno));
  r.rip = fn;
  r.rsp = callSp_;
  r.rdi = str ? strAt_ : 0;
  r.rsi = arg1;
  r.rax = 0;
  r.orig_rax = static_cast<unsigned long long>(-1);
  r.eflags &= ~0x500ull;  // DF clear as the ABI requires, TF clear
  if (ptrace(PTRACE_SETREGS, tid_, nullptr, &r) != 0) return Fail("ERROR", "PTRACE_SETREGS: " + ErrnoText(errno));
  if (Status st = SetCallFpState(); !st.ok()) return st;
  if (Status st = Resume(PTRACE_CONT, 0); !st.ok()) return st;
  for (;;) {
    Event e = Wait(deadline_);
    if (e.kind == Event::kExited) return ExitedStatus("during the injected call");
    if (e.kind == Event::kError) return Fail("ERROR", "waitid: " + ErrnoText(e.err));
    if (e.kind == Event::kTimeout) {
      // The call is abandoned where it is: stop the thread so Release can put it back.
      ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr);
      if (Status st = StopAgain(); !st.ok()) return st;
      return Fail("TIMEOUT", "the injected call did not return in time; it was abandoned and the thread restored "
                             "(a lock the call held, such as the loader's, may stay held)");
    }
    if (lastStop_ == kSignal) {
      user_regs_struct now;
      if (ptrace(PTRACE_GETREGS, tid_, nullptr, &now) != 0) return Fail("ERROR", "PTRACE_GETREGS: " + ErrnoText(errno));
      if (e.sig == SIGSEGV && now.rip == 0 && now.rsp == callSp_ + 8) {
        *ret = now.rax;
        return Ok();
      }
      if (IsFault(e.sig))
        return Fail("CRASHED", "the injected code faulted: " + SigName(e.sig) + " at address " +
                                   Hex(reinterpret_cast<uint64_t>(e.si.si_addr)) + ", rip " + Hex(now.rip) +
                                   "; the call was abandoned and the thread restored (a lock it held, such as the "
                                   "loader's, may stay held)");
      Hold(e);  // SIGSTOP, which no mask blocks
    }
    NoteRestartBlock();
    if (Status st = Resume(PTRACE_CONT, 0); !st.ok()) return st;
  }
}

}  // namespace scope_inject

#endif  // __x86_64__
