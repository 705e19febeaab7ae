#include "app/signal_thread.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdint>

namespace sc::app {
namespace {

void closeAll(std::initializer_list<int> fds) {
  for (int fd : fds)
    if (fd >= 0) ::close(fd);
}

sigset_t handledSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  return set;
}

}  // namespace

Status SignalThread::blockSignals() {
  sigset_t set = handledSignals();
  if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return fail("block SIGTERM, SIGINT and SIGHUP");
  return {};
}

Result<std::unique_ptr<SignalThread>> SignalThread::start(StopSignal& stop) {
  if (auto ok = blockSignals(); !ok) return std::unexpected(ok.error());
  sigset_t set = handledSignals();
  int signals = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  int hangup = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int quit = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (signals < 0 || hangup < 0 || quit < 0) {
    auto err = failErrno("create", "the signal thread's descriptors");
    closeAll({signals, hangup, quit});
    return err;
  }
  return std::unique_ptr<SignalThread>(new SignalThread(stop, signals, hangup, quit));
}

SignalThread::SignalThread(StopSignal& stop, int signals, int hangup, int quit)
    : stop_(stop), signals_(signals), hangup_(hangup), quit_(quit), thread_([this] { loop(); }) {}

SignalThread::~SignalThread() {
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(quit_, &one, sizeof one);
  thread_.join();
  closeAll({signals_, hangup_, quit_});
}

void SignalThread::loop() {
  while (true) {
    pollfd fds[2] = {{signals_, POLLIN, 0}, {quit_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents & POLLIN) return;
    // Everything pending at once: a SIGTERM behind a thousand SIGHUPs is served now.
    for (signalfd_siginfo info{}; ::read(signals_, &info, sizeof info) == sizeof info;) {
      int sig = static_cast<int>(info.ssi_signo);
      if (sig == SIGHUP) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(hangup_, &one, sizeof one);
      } else if (stopSignal_.load() == 0) {
        stopSignal_.store(sig);
        stop_.request();
      }
    }
  }
}

bool SignalThread::takeHangup() {
  std::uint64_t count = 0;
  return ::read(hangup_, &count, sizeof count) == sizeof count && count > 0;
}

}  // namespace sc::app
