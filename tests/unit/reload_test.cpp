#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <deque>
#include <map>

#include <fcntl.h>
#include <unistd.h>

#include "config/reload_spec.h"
#include "log/log.h"
#include "reload/command_reloader.h"
#include "reload/docker_reloader.h"
#include "reload/signal_reloader.h"

using sc::ReloadSpec;
using sc::parseReloadSpec;
using namespace sc::reload;

TEST(ReloadSpec, ParsesEveryKind) {
  auto sig = parseReloadSpec("signal:nginx");
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_EQ(sig->kind, ReloadSpec::Kind::Signal);
  EXPECT_EQ(sig->target, "nginx");
  EXPECT_EQ(sig->signal, SIGHUP);
  EXPECT_EQ(parseReloadSpec("signal:haproxy:USR2")->signal, SIGUSR2);
  EXPECT_EQ(parseReloadSpec("signal:node:SIGTERM")->signal, SIGTERM);
  EXPECT_EQ(parseReloadSpec("signal:haproxy:USR2")->describe(), "signal:haproxy:SIGUSR2");

  auto restart = parseReloadSpec("docker-restart:gateway");
  ASSERT_TRUE(restart);
  EXPECT_EQ(restart->kind, ReloadSpec::Kind::DockerRestart);
  EXPECT_EQ(restart->target, "gateway");
  auto service = parseReloadSpec("docker-service:express-gw");
  ASSERT_TRUE(service);
  EXPECT_EQ(service->kind, ReloadSpec::Kind::DockerService);
  EXPECT_EQ(service->describe(), "docker-service:express-gw");

  auto exec = parseReloadSpec("docker-exec:gateway:caddy reload --force --config /etc/caddy/Caddyfile");
  ASSERT_TRUE(exec) << exec.error().message;
  EXPECT_EQ(exec->kind, ReloadSpec::Kind::DockerExec);
  EXPECT_EQ(exec->target, "gateway");
  EXPECT_EQ(exec->argv, (std::vector<std::string>{"caddy", "reload", "--force", "--config", "/etc/caddy/Caddyfile"}));
  EXPECT_EQ(exec->describe(), "docker-exec:gateway:caddy reload --force --config /etc/caddy/Caddyfile");
  EXPECT_EQ(parseReloadSpec(R"(docker-exec:gw:["sh", "-c", "kill -USR2 1"])")->argv,
            (std::vector<std::string>{"sh", "-c", "kill -USR2 1"}));

  auto swarm = parseReloadSpec("swarm:express-gw");
  ASSERT_TRUE(swarm) << swarm.error().message;
  EXPECT_EQ(swarm->kind, ReloadSpec::Kind::Swarm);
  EXPECT_EQ(swarm->describe(), "swarm:express-gw:/var/lib/certs");
  EXPECT_EQ(parseReloadSpec("swarm:gw:/etc/nginx/certs/")->dir, "/etc/nginx/certs");
}

TEST(ReloadSpec, RefusesWhatItCannotDoWithAReason) {
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"signal:", "is not a process name"},
      {"signal:nginx:KILLALL", "'KILLALL' is not a signal"},
      {"signal:../x", "is not a process name"},
      {"docker-restart:", "is not a container name"},
      {"docker-service:a/b", "is not a service name"},
      {"docker-restart:-rm", "is not a container name"},
      {"restart:gw", "expected none, signal:PROCESS[:SIGNAL], docker-restart:CONTAINER"},
      {"command:nginx -s reload", "must be an absolute path"},
      {"docker-exec:gateway", "names no program"},
      {"docker-exec:gateway:", "the program to run is empty"},
      {"docker-exec:../gw:nginx -s reload", "is not a container name"},
      {"docker-exec:gw:[1, 2", "is not a list of strings"},
      {"swarm:", "is not a service name"},
      {"swarm:gw:certs", "is not an absolute folder"},
      {"swarm:gw:/var/../etc", "is not an absolute folder"},
  };
  for (const auto& c : cases) {
    auto r = parseReloadSpec(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << c.text << ": " << r.error().message;
  }
}

namespace {

class FakeProcesses : public ProcessTable {
 public:
  std::vector<ProcessInfo> processes;
  std::vector<std::pair<pid_t, int>> sent;
  std::vector<ProcessInfo> list() override { return processes; }
  sc::Status signal(pid_t pid, int sig) override {
    sent.emplace_back(pid, sig);
    return {};
  }
};

}  // namespace

TEST(SignalReloader, SignalsTheMasterNotItsWorkers) {
  FakeProcesses procs;
  procs.processes = {{1, 0, "tini", "tini"},
                     {7, 1, "nginx", "nginx"},
                     {8, 7, "nginx", "nginx"},
                     {9, 7, "nginx", "nginx"},
                     {12, 1, "sh", "sh"}};
  SignalReloader r(procs, "nginx", SIGHUP);
  ASSERT_TRUE(r.reload({}));
  EXPECT_EQ(procs.sent, (std::vector<std::pair<pid_t, int>>{{7, SIGHUP}}));
}

TEST(SignalReloader, MatchesLongNamesByTheirFirstArgument) {
  FakeProcesses procs;
  // the kernel cuts comm at 15 characters
  procs.processes = {{3, 1, "express-gateway", "express-gateway-server"}, {4, 1, "node", "node"}};
  SignalReloader r(procs, "express-gateway-server", SIGUSR1);
  ASSERT_TRUE(r.reload({}));
  EXPECT_EQ(procs.sent, (std::vector<std::pair<pid_t, int>>{{3, SIGUSR1}}));
}

TEST(SignalReloader, ALongNameIsMatchedWholeNotByTheKernelsFirst15Characters) {
  FakeProcesses procs;
  procs.processes = {{3, 1, "gateway-main-pr", "gateway-main-proxy"}, {4, 1, "gateway-main-pr", "gateway-main-process"}};
  SignalReloader r(procs, "gateway-main-process", SIGHUP);
  ASSERT_TRUE(r.reload({}));
  EXPECT_EQ(procs.sent, (std::vector<std::pair<pid_t, int>>{{4, SIGHUP}}));
}

TEST(SignalReloader, NothingToSignalSaysHowToShareThePidNamespace) {
  FakeProcesses procs;
  procs.processes = {{1, 0, "sidecert", "sidecert"}};
  SignalReloader r(procs, "nginx", SIGHUP);
  auto ok = r.reload({});
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().message.find("pid: \"service:gateway\""), std::string::npos) << ok.error().message;
  EXPECT_TRUE(procs.sent.empty());
}

TEST(SignalReloader, ReadsTheRealProcessTable) {
  ProcTable table;
  auto all = table.list();
  bool self = false;
  for (const auto& p : all)
    if (p.pid == ::getpid()) self = !p.comm.empty() && p.ppid == ::getppid();
  EXPECT_TRUE(self);
}

namespace {

// Answers requests in order from a script and records what was asked.
class ScriptedEngine : public DockerEngine {
 public:
  std::map<std::string, EngineReply> replies;  // "METHOD path-prefix" -> reply
  std::vector<std::string> asked;
  std::vector<std::string> bodies;
  sc::Result<EngineReply> call(const std::string& method, const std::string& path, const std::string& body) override {
    asked.push_back(method + " " + path);
    bodies.push_back(body);
    for (const auto& [key, reply] : replies)
      if ((method + " " + path).rfind(key, 0) == 0) return reply;
    return EngineReply{404, R"({"message":"no such thing"})"};
  }
};

const char* kComposeSelf =
    R"({"Id":"abc","Config":{"Labels":{"com.docker.compose.project":"deploy","com.docker.compose.service":"sidecert"}}})";

}  // namespace

TEST(DockerReloader, RestartsTheServiceOfItsOwnComposeProject) {
  ScriptedEngine engine;
  engine.replies["GET /containers/abc/json"] = {200, kComposeSelf};
  engine.replies["GET /containers/json?filters="] = {200, R"([{"Id":"gw1"},{"Id":"gw2"}])"};
  engine.replies["POST /containers/gw"] = {204, ""};
  DockerReloader r(engine, DockerReloader::Mode::RestartContainer, "gateway", "abc");
  auto ok = r.reload({});
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_EQ(engine.asked.size(), 4u);
  // the filter names both the project and the service, URL-encoded
  EXPECT_NE(engine.asked[1].find("com.docker.compose.project%3Ddeploy"), std::string::npos) << engine.asked[1];
  EXPECT_NE(engine.asked[1].find("com.docker.compose.service%3Dgateway"), std::string::npos) << engine.asked[1];
  EXPECT_EQ(engine.asked[2], "POST /containers/gw1/restart?t=10");
  EXPECT_EQ(engine.asked[3], "POST /containers/gw2/restart?t=10");
}

TEST(DockerReloader, OutsideComposeRestartsTheContainerOfThatName) {
  ScriptedEngine engine;
  engine.replies["POST /containers/my-gateway/restart"] = {204, ""};
  DockerReloader r(engine, DockerReloader::Mode::RestartContainer, "my-gateway", "abc");
  ASSERT_TRUE(r.reload({}));
  EXPECT_EQ(engine.asked.back(), "POST /containers/my-gateway/restart?t=10");
}

TEST(DockerReloader, AMissingContainerOrAnEngineErrorIsAClearFailure) {
  ScriptedEngine engine;
  DockerReloader missing(engine, DockerReloader::Mode::RestartContainer, "gw", "abc");
  auto r = missing.reload({});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no container or compose service named 'gw'"), std::string::npos);

  engine.replies["POST /containers/gw/restart"] = {500, R"({"message":"permission denied"})"};
  auto e = missing.reload({});
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("HTTP 500: permission denied"), std::string::npos) << e.error().message;
}

TEST(DockerReloader, NamesAndIdsAreOnePathSegmentEach) {
  ScriptedEngine engine;
  DockerReloader r(engine, DockerReloader::Mode::RestartContainer, "../images/x?force=1", "../../v1.41/info#");
  EXPECT_FALSE(r.reload({}));
  ASSERT_EQ(engine.asked.size(), 2u);
  EXPECT_EQ(engine.asked[0], "GET /containers/..%2F..%2Fv1.41%2Finfo%23/json");
  EXPECT_EQ(engine.asked[1], "POST /containers/..%2Fimages%2Fx%3Fforce%3D1/restart?t=10");
}

TEST(DockerReloader, ForceUpdatesTheServiceOfItsOwnStack) {
  ScriptedEngine engine;
  engine.replies["GET /containers/abc/json"] = {
      200, R"({"Config":{"Labels":{"com.docker.stack.namespace":"express-gateway"}}})"};
  engine.replies["GET /services/express-gateway_express-gw"] = {
      200, R"({"ID":"svc9","Version":{"Index":41},"Spec":{"Name":"express-gateway_express-gw","TaskTemplate":{"ForceUpdate":2}}})"};
  engine.replies["POST /services/svc9/update"] = {200, R"({"Warnings":null})"};
  DockerReloader r(engine, DockerReloader::Mode::UpdateService, "express-gw", "abc");
  auto ok = r.reload({});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(engine.asked.back(), "POST /services/svc9/update?version=41");
  EXPECT_NE(engine.bodies.back().find("\"ForceUpdate\":3"), std::string::npos) << engine.bodies.back();
  EXPECT_NE(engine.bodies.back().find("\"Name\":\"express-gateway_express-gw\""), std::string::npos);
}

TEST(DockerReloader, NoSuchServiceNamesBothCandidates) {
  ScriptedEngine engine;
  engine.replies["GET /containers/abc/json"] = {200, R"({"Config":{"Labels":{"com.docker.stack.namespace":"s"}}})"};
  DockerReloader r(engine, DockerReloader::Mode::UpdateService, "gw", "abc");
  auto ok = r.reload({});
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().message.find("no swarm service named 'gw' or 's_gw'"), std::string::npos) << ok.error().message;
}

namespace {

// The lines a reload command printed, as sidecert logged them.
std::vector<std::string> outputOf(std::vector<std::string> argv) {
  std::vector<std::string> lines;
  sc::log::captureForTests([&](const std::string& line) {
    auto at = line.find("line=");
    if (line.find("reload_output") == std::string::npos || at == std::string::npos) return;
    std::string value = line.substr(at + 5);
    if (value.size() >= 2 && value.front() == '"') value = value.substr(1, value.size() - 2);  // quoted when it has '='
    lines.push_back(value);
  });
  CommandReloader r(std::move(argv), std::chrono::seconds(10));
  auto ok = r.reload({"gw", "/vol/live/gw", "acme"});
  sc::log::captureForTests(nullptr);
  EXPECT_TRUE(ok) << ok.error().message;
  return lines;
}

}  // namespace

TEST(CommandReloader, TheChildGetsItsDocumentedEnvironmentAndNoSecret) {
  ::setenv("SIDECERT_EAB_HMAC_KEY", "secret-hmac", 1);
  auto env = outputOf({"/usr/bin/env"});
  ::unsetenv("SIDECERT_EAB_HMAC_KEY");
  std::sort(env.begin(), env.end());
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                           "SIDECERT_LIVE=/vol/live/gw", "SIDECERT_NAME=gw", "SIDECERT_SOURCE=acme"}));
}

TEST(CommandReloader, TheChildInheritsNoDescriptorButItsStandardOnes) {
  int leaky = ::open("/dev/null", O_RDONLY);  // as Poco opens its sockets: without O_CLOEXEC
  ASSERT_GE(leaky, 3);
  auto fds = outputOf({"/bin/ls", "/proc/self/fd"});
  ::close(leaky);
  // 0, 1, 2 and the one ls opens for the listing; with `leaky` inherited, five
  EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2", "3"}));
}

namespace {

// The engine's multiplexed output: a frame per write, header (stream, 0, 0, 0, length).
std::string frame(char stream, const std::string& text) {
  std::string h = {stream, 0, 0, 0, 0, 0, static_cast<char>(text.size() >> 8), static_cast<char>(text.size() & 0xff)};
  return h + text;
}

}  // namespace

TEST(DockerReloader, ExecRunsTheProgramInEachContainerOfTheServiceAndChecksItsExitStatus) {
  ScriptedEngine engine;
  engine.replies["GET /containers/abc/json"] = {200, kComposeSelf};
  engine.replies["GET /containers/json?filters="] = {200, R"([{"Id":"gw1"}])"};
  engine.replies["POST /containers/gw1/exec"] = {201, R"({"Id":"ex7"})"};
  engine.replies["POST /exec/ex7/start"] = {200, frame(1, "reloading\n") + frame(2, "done\n")};
  engine.replies["GET /exec/ex7/json"] = {200, R"({"Running":false,"ExitCode":0})"};
  DockerReloader r(engine, DockerReloader::Mode::Exec, "gateway", "abc", {"caddy", "reload", "--force"});
  auto ok = r.reload({});
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_EQ(engine.asked.size(), 5u);
  EXPECT_EQ(engine.asked[2], "POST /containers/gw1/exec");
  EXPECT_NE(engine.bodies[2].find(R"("Cmd":["caddy","reload","--force"])"), std::string::npos) << engine.bodies[2];
  EXPECT_EQ(engine.asked[3], "POST /exec/ex7/start");
  EXPECT_NE(engine.bodies[3].find(R"("Detach":false)"), std::string::npos);
  EXPECT_EQ(engine.asked[4], "GET /exec/ex7/json");
}

TEST(DockerReloader, ExecFailsWithTheExitStatusAndTheProgramsLastLine) {
  ScriptedEngine engine;
  engine.replies["POST /containers/gw/exec"] = {201, R"({"Id":"ex1"})"};
  engine.replies["POST /exec/ex1/start"] = {200, frame(1, "loading\n") + frame(2, "Error: bad certificate\n\n")};
  engine.replies["GET /exec/ex1/json"] = {200, R"({"Running":false,"ExitCode":1})"};
  DockerReloader r(engine, DockerReloader::Mode::Exec, "gw", "", {"caddy", "reload"});
  auto failed = r.reload({});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "docker-exec:gw:caddy reload: exited with status 1: Error: bad certificate");

  engine.replies["POST /containers/gw/exec"] = {409, R"({"message":"container gw is not running"})"};
  auto stopped = r.reload({});
  ASSERT_FALSE(stopped);
  EXPECT_NE(stopped.error().message.find("HTTP 409: container gw is not running"), std::string::npos)
      << stopped.error().message;

  ScriptedEngine none;
  DockerReloader missing(none, DockerReloader::Mode::Exec, "gw", "", {"nginx", "-s", "reload"});
  auto m = missing.reload({});
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("no container or compose service named 'gw'"), std::string::npos);
}

TEST(DockerReloader, ExecSurvivesAHostileEngineReply) {
  ScriptedEngine engine;
  engine.replies["POST /containers/gw/exec"] = {201, R"({"Id":"ex1"})"};
  // a frame that claims more than arrived, and an exit code of the wrong type
  engine.replies["POST /exec/ex1/start"] = {200, std::string("\x01\0\0\0\xff\xff\xff\xffpartial", 15)};
  engine.replies["GET /exec/ex1/json"] = {200, R"({"Running":false,"ExitCode":"zero"})"};
  DockerReloader r(engine, DockerReloader::Mode::Exec, "gw", "", {"true"});
  auto ok = r.reload({});
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().message.find("does not parse"), std::string::npos) << ok.error().message;

  engine.replies["POST /containers/gw/exec"] = {201, R"({"Id":""})"};
  auto noId = r.reload({});
  ASSERT_FALSE(noId);
  EXPECT_NE(noId.error().message.find("names no exec"), std::string::npos) << noId.error().message;
}
