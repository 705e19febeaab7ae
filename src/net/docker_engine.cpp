#include "net/docker_engine.h"

#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

namespace sc::net {

std::string engineError(const EngineReply& reply) {
  std::string message;
  try {
    auto obj = Poco::JSON::Parser().parse(reply.body).extract<Poco::JSON::Object::Ptr>();
    message = obj ? obj->optValue<std::string>("message", "") : "";
  } catch (const Poco::Exception&) {  // not JSON, or a message that is no text: the status alone
  }
  return "HTTP " + std::to_string(reply.status) + (message.empty() ? "" : ": " + message.substr(0, 300));
}

std::string pathSegment(const std::string& s) {
  std::string out;
  Poco::URI::encode(s, "/?#%&=+ ", out);
  return out;
}

}  // namespace sc::net
