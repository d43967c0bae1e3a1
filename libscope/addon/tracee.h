// tracee.h — one thread of another process, traced with PTRACE_SEIZE: stopped, made to call
// functions (remotecall.cc) and put back exactly as it was (tracee.cc). x86-64 only.
#pragma once

#include "inject.h"

#if defined(__x86_64__)

#include <sys/user.h>

namespace scope_inject {

enum LastStop { kNone, kSignal, kEvent };  // the kind of ptrace-stop the thread is in

constexpr uint64_t SigBit(int sig) { return 1ull << (sig - 1); }
// The synchronous faults: never blocked during a call (the kernel would reset a blocked one's
// handler to SIG_DFL to force it), and a sign of crashing code when they come from the call.
constexpr uint64_t kFaults =
    SigBit(SIGSEGV) | SigBit(SIGBUS) | SigBit(SIGILL) | SigBit(SIGFPE) | SigBit(SIGTRAP) | SigBit(SIGSYS);
constexpr long long kErestartRestartblock = 516;  // the kernel's ERESTART_RESTARTBLOCK
inline bool IsFault(int sig) { return sig > 0 && sig < 64 && (SigBit(sig) & kFaults); }
std::string SigName(int sig);
inline user_regs_struct& Regs(std::vector<unsigned char>& bytes) {
  return *reinterpret_cast<user_regs_struct*>(bytes.data());
}

class Tracee {
 public:
  Tracee(pid_t pid, pid_t tid, Clock::time_point deadline);
  ~Tracee();
  Tracee(const Tracee&) = delete;
  Tracee& operator=(const Tracee&) = delete;

  // PTRACE_SEIZE: the thread keeps running. Returns 0 or the errno.
  int Seize();
  // Stops the thread, saves its registers, FP/vector state and signal mask, and blocks every
  // signal but the synchronous faults for the duration of the calls.
  Status Stop();
  // Reserves room below the red zone for strings up to `bytes` long and the calls' stack.
  Status Reserve(size_t bytes, const std::vector<Mapping>& maps);
  // Calls fn(str, arg1) on the thread (str written into the reserved room; nullptr passes 0).
  Status Call(uint64_t fn, const std::string* str, uint64_t arg1, uint64_t* ret);
  Status ReadMem(uint64_t addr, void* buf, size_t n);
  Status ReadString(uint64_t addr, size_t max, std::string* out);
  // Restores memory, registers, FP state and mask, hands back the signals that arrived
  // meanwhile and detaches. Safe to call in any state; a no-op once the thread is gone.
  Status Release();

  bool gone() const { return gone_; }
  const std::string& exitText() const { return exitText_; }

 private:
  struct Event;
  Event Wait(Clock::time_point deadline);
  Status Resume(int request, int sig);
  Status StopAgain();
  Status ExitedStatus(const char* during);
  void Hold(const Event& ev);
  Status SetCallFpState();
  void NoteRestartBlock();

  pid_t pid_, tid_;
  bool parentIsUs_;
  Clock::time_point deadline_;
  int memfd_ = -1;
  bool seized_ = false, stopped_ = false, gone_ = false;
  LastStop lastStop_ = kNone;
  std::string exitText_;
  bool regsSaved_ = false, maskChanged_ = false, restartBlockLost_ = false;
  std::vector<unsigned char> regs_, fp_;    // user_regs_struct, and XSAVE (or FXSAVE) bytes
  int fpKind_ = 0;                          // NT_X86_XSTATE or NT_PRFPREG
  uint64_t mask_ = 0;
  std::vector<siginfo_t> held_;
  uint64_t scratchLo_ = 0, scratchHi_ = 0, callSp_ = 0, strAt_ = 0;
  std::vector<unsigned char> scratchSaved_;
};

// What Wait saw.
struct Tracee::Event {
  enum Kind { kStopped, kExited, kTimeout, kError } kind = kError;
  int sig = 0;
  siginfo_t si{};
  int err = 0;
};

}  // namespace scope_inject

#endif  // __x86_64__
