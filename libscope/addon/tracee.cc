// tracee.cc — one thread of another process under PTRACE_SEIZE: stopped, waited for without ever
// being reaped from its parent, its state saved, and put back exactly as it was before the detach
// (x86-64). The calls themselves are remotecall.cc.
//
// Signals. During a call the thread blocks every signal but the synchronous faults (SIGSEGV,
// SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS: the kernel would reset their handler to SIG_DFL if it
// had to force one on a blocked thread). So a signal for the process goes to another thread that
// takes it, or stays pending and is delivered after we restore the mask: with the app's own
// registers, so the handler runs and the interrupted syscall returns EINTR or restarts exactly as
// its SA_RESTART says — as if the signal had come while it was blocked there. Running the app's
// handler inside our call instead would get that wrong (a restarted sigsuspend() after its handler
// ran would never return). Inside sigsuspend, ppoll or pselect the thread's mask is a temporary
// one; PTRACE_GETSIGMASK then returns the real one it will go back to (Linux ≥ 5.1) and
// PTRACE_SETSIGMASK drops that pending restore, so putting the real mask back and letting the
// kernel restart the syscall re-installs the temporary mask as the app asked. The few signals that
// reach the thread before the mask is in place, or cannot be blocked (SIGSTOP), are held: taken at
// their signal-delivery-stop, discarded there, and handed back at the end — the first through
// PTRACE_DETACH with its original siginfo, any others queued again to the thread. A group-stop just
// lets the call go on; detaching puts the thread back into the stop. A fault anywhere else than our
// return address is the injected code crashing: the call is abandoned and the thread restored (code
// CRASHED).
#include "tracee.h"

#if defined(__x86_64__)

#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace scope_inject {
namespace {

constexpr auto kGrace = std::chrono::seconds(2);  // to stop a thread again, or see it die

}  // namespace

std::string SigName(int sig) {
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 32)
  if (const char* abbrev = sigabbrev_np(sig)) return std::string("SIG") + abbrev;
#endif
  return "signal " + std::to_string(sig);
}

Tracee::Tracee(pid_t pid, pid_t tid, Clock::time_point deadline)
    : pid_(pid), tid_(tid), parentIsUs_(tid == pid && ParentOf(pid) == getpid()), deadline_(deadline) {}

Tracee::~Tracee() {
  if (seized_ && !gone_) Release();
  if (memfd_ >= 0) close(memfd_);
}

int Tracee::Seize() {
  if (ptrace(PTRACE_SEIZE, tid_, nullptr, nullptr) != 0) return errno;
  seized_ = true;
  memfd_ = open((TaskDir(pid_, tid_) + "/mem").c_str(), O_RDWR | O_CLOEXEC);
  return 0;
}

// The next state change of the thread, without ever reaping it: its exit is peeked (WNOWAIT) and
// left to its parent, and stops are consumed by a waitid that does not ask for exits. Polled, so
// the wait is bounded without touching this process's signal handling.
Tracee::Event Tracee::Wait(Clock::time_point deadline) {
  long backoffNs = 20000;
  for (;;) {
    Event e;
    if (waitid(P_PID, static_cast<id_t>(tid_), &e.si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) != 0) {
      if (errno == EINTR) continue;
      // ECHILD: the thread is not ours to wait for any more (reaped elsewhere, or replaced by an
      // execve in another thread).
      if (errno == ECHILD) {
        gone_ = true, stopped_ = false, exitText_ = "is gone (exited, or another thread called execve)";
        e.kind = Event::kExited;
        return e;
      }
      e.err = errno;
      return e;
    }
    if (e.si.si_pid == 0) {
      if (Clock::now() >= deadline) {
        e.kind = Event::kTimeout;
        return e;
      }
      timespec ts{0, backoffNs};
      nanosleep(&ts, nullptr);
      backoffNs = backoffNs * 2 > 2000000 ? 2000000 : backoffNs * 2;
      continue;
    }
    if (e.si.si_code == CLD_EXITED || e.si.si_code == CLD_KILLED || e.si.si_code == CLD_DUMPED) {
      gone_ = true, stopped_ = false, lastStop_ = kNone;
      exitText_ = e.si.si_code == CLD_EXITED ? "exited with status " + std::to_string(e.si.si_status)
                                              : "was killed by " + SigName(e.si.si_status);
      // Its parent is told only once its tracer has waited for it: when we are not the parent,
      // this wait hands it over; when we are, the zombie stays for our own child-process code.
      // A thread other than the main one has no parent to wait for it: its tracer releases it.
      if (!parentIsUs_) {
        siginfo_t r{};
        waitid(P_PID, static_cast<id_t>(tid_), &r, WEXITED | WNOHANG | __WALL);
      }
      e.kind = Event::kExited;
      return e;
    }
    siginfo_t got{};
    if (waitid(P_PID, static_cast<id_t>(tid_), &got, WSTOPPED | WNOHANG | __WALL) != 0) {
      if (errno == EINTR) continue;
      e.err = errno;
      return e;
    }
    if (got.si_pid == 0) continue;  // the stop ended (SIGKILL): look again
    stopped_ = true;
    const int code = got.si_status, sig = code & 0xff, event = (code >> 8) & 0xff;
    e.kind = Event::kStopped;
    e.sig = sig;
    if (event != 0) {
      lastStop_ = kEvent;  // PTRACE_EVENT_STOP: our interrupt, or a group-stop
    } else {
      lastStop_ = kSignal;
      if (ptrace(PTRACE_GETSIGINFO, tid_, nullptr, &e.si) != 0) {
        std::memset(&e.si, 0, sizeof e.si);
        e.si.si_signo = sig;
        e.si.si_code = SI_USER;
      }
    }
    return e;
  }
}

Status Tracee::ExitedStatus(const char* during) {
  return Fail("EXITED", "pid " + std::to_string(pid_) + " " + exitText_ + " " + during);
}

Status Tracee::Resume(int request, int sig) {
  if (ptrace(static_cast<__ptrace_request>(request), tid_, nullptr, reinterpret_cast<void*>(static_cast<long>(sig))) == 0) {
    stopped_ = false;
    lastStop_ = kNone;
    return Ok();
  }
  int err = errno;
  // ESRCH on a stopped tracee: SIGKILL woke it and it is dying.
  if (err == ESRCH) {
    stopped_ = false;
    Event e = Wait(Clock::now() + kGrace);
    if (e.kind == Event::kExited) return ExitedStatus("during the injection");
  }
  return Fail("ERROR", "ptrace request " + std::to_string(request) + " on thread " + std::to_string(tid_) + ": " +
                           ErrnoText(err));
}

void Tracee::Hold(const Event& ev) { held_.push_back(ev.si); }

Status Tracee::Stop() {
  if (ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr) != 0)
    return Fail("ERROR", "PTRACE_INTERRUPT: " + ErrnoText(errno));
  for (;;) {
    Event e = Wait(deadline_);
    if (e.kind == Event::kExited) return ExitedStatus("before it could be stopped");
    if (e.kind == Event::kTimeout)
      return Fail("TIMEOUT", "thread " + std::to_string(tid_) + " of pid " + std::to_string(pid_) +
                                 " did not stop in time (uninterruptible sleep?); nothing was changed");
    if (e.kind == Event::kError) return Fail("ERROR", "waitid: " + ErrnoText(e.err));
    if (lastStop_ != kSignal) break;
    // A signal that was on its way to the app before our interrupt: taken now, handed back at the end.
    Hold(e);
    if (Status st = Resume(PTRACE_CONT, 0); !st.ok()) return st;
  }
  regs_.assign(sizeof(user_regs_struct), 0);
  if (ptrace(PTRACE_GETREGS, tid_, nullptr, regs_.data()) != 0) return Fail("ERROR", "PTRACE_GETREGS: " + ErrnoText(errno));
  regsSaved_ = true;
  fp_.assign(1 << 16, 0);  // XSAVE areas are a few KiB (AMX tiles: 11 KiB); the kernel says how many
  iovec iov{fp_.data(), fp_.size()};
  if (ptrace(PTRACE_GETREGSET, tid_, reinterpret_cast<void*>(NT_X86_XSTATE), &iov) == 0) {
    fp_.resize(iov.iov_len);
    fpKind_ = NT_X86_XSTATE;
  } else {
    fp_.assign(sizeof(user_fpregs_struct), 0);
    if (ptrace(PTRACE_GETFPREGS, tid_, nullptr, fp_.data()) != 0)
      return Fail("ERROR", "PTRACE_GETFPREGS: " + ErrnoText(errno));
    fpKind_ = NT_PRFPREG;
  }
  if (ptrace(PTRACE_GETSIGMASK, tid_, reinterpret_cast<void*>(sizeof mask_), &mask_) != 0)
    return Fail("ERROR", "PTRACE_GETSIGMASK: " + ErrnoText(errno));
  uint64_t block = ~kFaults;
  if (ptrace(PTRACE_SETSIGMASK, tid_, reinterpret_cast<void*>(sizeof block), &block) != 0)
    return Fail("ERROR", "PTRACE_SETSIGMASK: " + ErrnoText(errno));
  maskChanged_ = true;
  return Ok();
}

// After PTRACE_INTERRUPT on a running thread: wait for any stop.
Status Tracee::StopAgain() {
  for (;;) {
    Event e = Wait(Clock::now() + kGrace);
    if (e.kind == Event::kExited) return ExitedStatus("during the injection");
    if (e.kind == Event::kTimeout)
      return Fail("TIMEOUT", "thread " + std::to_string(tid_) + " of pid " + std::to_string(pid_) +
                                 " does not stop; it stays traced until this process exits");
    if (e.kind == Event::kError) return Fail("ERROR", "waitid: " + ErrnoText(e.err));
    if (lastStop_ == kSignal && !IsFault(e.sig)) Hold(e);
    if (regsSaved_) NoteRestartBlock();
    return Ok();
  }
}

Status Tracee::Release() {
  if (!seized_ || gone_) return Ok();
  if (!stopped_) {
    ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr);
    if (Status st = StopAgain(); !st.ok()) return st;
  }
  Status out = Ok();
  auto note = [&](const char* what) {
    if (out.ok()) out = Fail("ERROR", std::string(what) + " while restoring thread " + std::to_string(tid_) + ": " + ErrnoText(errno));
  };
  if (!scratchSaved_.empty() &&
      pwrite(memfd_, scratchSaved_.data(), scratchSaved_.size(), static_cast<off_t>(scratchLo_)) !=
          static_cast<ssize_t>(scratchSaved_.size()))
    note("writing memory back");
  if (regsSaved_) {
    user_regs_struct r = Regs(regs_);
    if (restartBlockLost_ && static_cast<long long>(r.orig_rax) >= 0 &&
        static_cast<long long>(r.rax) == -kErestartRestartblock) {
      // Run the app's syscall again from its start with its own arguments: a relative sleep
      // starts over (sleeps longer, never shorter), an absolute one is exact.
      r.rax = r.orig_rax;
      r.rip -= 2;
      r.orig_rax = static_cast<unsigned long long>(-1);
    }
    if (ptrace(PTRACE_SETREGS, tid_, nullptr, &r) != 0) note("PTRACE_SETREGS");
    iovec iov{fp_.data(), fp_.size()};
    if (fpKind_ == NT_X86_XSTATE ? ptrace(PTRACE_SETREGSET, tid_, reinterpret_cast<void*>(NT_X86_XSTATE), &iov) != 0
                                 : ptrace(PTRACE_SETFPREGS, tid_, nullptr, fp_.data()) != 0)
      note("restoring the FP/vector state");
  }
  if (maskChanged_ && ptrace(PTRACE_SETSIGMASK, tid_, reinterpret_cast<void*>(sizeof mask_), &mask_) != 0)
    note("PTRACE_SETSIGMASK");
  // Held signals go back: the first through the detach itself when the thread is at a
  // signal-delivery-stop (with its original siginfo), the others queued to the thread again.
  int sig = 0;
  size_t from = 0;
  if (lastStop_ == kSignal && !held_.empty() && ptrace(PTRACE_SETSIGINFO, tid_, nullptr, &held_[0]) == 0) {
    sig = held_[0].si_signo;
    from = 1;
  }
  for (size_t i = from; i < held_.size(); ++i) {
    siginfo_t si = held_[i];
    // Only siginfo a process could have made itself may be queued with its fields (si_code < 0,
    // not SI_TKILL); a kill() or kernel signal goes back as a plain one.
    if (syscall(SYS_rt_tgsigqueueinfo, pid_, tid_, si.si_signo, &si) != 0) syscall(SYS_tgkill, pid_, tid_, si.si_signo);
  }
  held_.clear();
  if (ptrace(PTRACE_DETACH, tid_, nullptr, reinterpret_cast<void*>(static_cast<long>(sig))) != 0) {
    if (errno == ESRCH) {
      gone_ = true;
      return ExitedStatus("while it was being restored");
    }
    note("PTRACE_DETACH");
  }
  seized_ = false;
  stopped_ = false;
  return out;
}

}  // namespace scope_inject

#endif  // __x86_64__
