#pragma once
// SIGTERM, SIGINT and SIGHUP, read on a thread of their own so that they are seen
// while a pass is under way (a slow CA, a poll): a stop is requested at once, and
// every sleep, poll and transfer watching the StopSignal ends. SIGHUPs coalesce
// into one readable descriptor; a stop is never queued behind them.
#include <atomic>
#include <memory>
#include <thread>

#include "core/stop.h"

namespace sc::app {

class SignalThread {
 public:
  // Blocks the three signals in the calling thread: call it before any other
  // thread starts, so that every thread inherits the mask. They stay pending
  // until a SignalThread (or signalfd) reads them.
  static Status blockSignals();
  // Blocks them if not yet done and starts the thread. Capabilities belong to
  // threads: start it after privileges were dropped.
  static Result<std::unique_ptr<SignalThread>> start(StopSignal& stop);
  ~SignalThread();

  int hangupFd() const { return hangup_; }  // readable after a SIGHUP
  bool takeHangup();                        // true, once, after any number of SIGHUPs
  int stopSignal() const { return stopSignal_.load(); }  // SIGTERM or SIGINT, 0 before

 private:
  SignalThread(StopSignal& stop, int signals, int hangup, int quit);
  void loop();
  StopSignal& stop_;
  int signals_, hangup_, quit_;
  std::atomic<int> stopSignal_{0};
  std::thread thread_;
};

}  // namespace sc::app
