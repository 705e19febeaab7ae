#include "reload/command_reloader.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "log/log.h"

namespace sc::reload {
namespace {

constexpr std::size_t kMaxLoggedOutput = 4096;

}  // namespace

void logReloadOutput(const std::string& program, const std::string& output) {
  std::istringstream lines(output.substr(0, kMaxLoggedOutput));
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) log::info("reload_output", {{"command", program}, {"line", line}});
}

std::vector<std::string> childEnvironment(const ReloadEvent& event) {
  return {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SIDECERT_NAME=" + event.name,
          "SIDECERT_LIVE=" + event.liveDir, "SIDECERT_SOURCE=" + event.source};
}

CommandReloader::CommandReloader(std::vector<std::string> argv, std::chrono::seconds timeout, int stopFd)
    : argv_(std::move(argv)), timeout_(timeout), stopFd_(stopFd) {}

std::string CommandReloader::describe() const {
  std::string out;
  for (const auto& a : argv_) out += (out.empty() ? "" : " ") + a;
  return out;
}

Status CommandReloader::reload(const ReloadEvent& event) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return failErrno("reload: pipe for", argv_[0]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // Poco opens its sockets and epoll without close-on-exec: none may reach the child.
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigfillset(&defaults);
  posix_spawnattr_setsigmask(&attr, &none);  // the supervisor blocks signals; the child must not
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  std::vector<char*> args;
  for (auto& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);
  auto environment = childEnvironment(event);
  std::vector<char*> envp;
  for (auto& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv_[0].c_str(), &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    return fail("reload: start " + argv_[0] + ": " + std::strerror(rc), rc);
  }

  std::string output;
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  bool timedOut = false, stopped = false;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timedOut = true;
      break;
    }
    pollfd p[2] = {{pipefd[0], POLLIN, 0}, {stopFd_, POLLIN, 0}};
    int n = ::poll(p, stopFd_ >= 0 ? 2 : 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    if (stopFd_ >= 0 && (p[1].revents & POLLIN)) {
      stopped = true;
      break;
    }
    char buf[4096];
    ssize_t got = ::read(pipefd[0], buf, sizeof buf);
    if (got <= 0) break;  // EOF: the command and everything it started closed the pipe
    if (output.size() < kMaxLoggedOutput) output.append(buf, static_cast<std::size_t>(got));
  }
  ::close(pipefd[0]);
  if (timedOut || stopped) ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  logReloadOutput(argv_[0], output);
  if (stopped) return failAs(ErrorKind::Cancelled, "reload: " + describe() + " was stopped (SIGTERM); it is still due");
  if (timedOut) return fail("reload: " + describe() + " did not finish within " + std::to_string(timeout_.count()) + "s");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFEXITED(status))
    return fail("reload: " + describe() + " exited with status " + std::to_string(WEXITSTATUS(status)));
  return fail("reload: " + describe() + " was killed by signal " + std::to_string(WTERMSIG(status)));
}

}  // namespace sc::reload
