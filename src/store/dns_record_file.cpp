#include "store/dns_record_file.h"

#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "store/json_fields.h"
#include "store/state.h"

namespace sc::store {
namespace {

// A lineage has one record per name; a list longer than this is not ours.
constexpr std::size_t kMaxRecords = 200;
constexpr std::size_t kMaxFieldBytes = 1024;

DnsRecord recordFrom(const Poco::JSON::Object::Ptr& o) {
  DnsRecord r{stringField(o, "name", kMaxFieldBytes), stringField(o, "value", kMaxFieldBytes),
              stringField(o, "server", kMaxFieldBytes), stringField(o, "zone", kMaxFieldBytes),
              stringField(o, "domain", kMaxFieldBytes), std::nullopt, timeField(o, "since")};
  if (o->has("seen") && o->get("seen").isBoolean()) r.seen = o->get("seen").extract<bool>();
  return r;
}

Poco::JSON::Object recordJson(const DnsRecord& r) {
  Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
  o.set("name", r.name);
  o.set("value", r.value);
  for (auto [key, text] : {std::pair{"server", &r.server}, {"zone", &r.zone}, {"domain", &r.domain}})
    if (!text->empty()) o.set(key, *text);
  if (r.seen) o.set("seen", *r.seen);
  if (r.since) o.set("since", formatTime(*r.since));
  return o;
}

}  // namespace

DnsRecordFile::DnsRecordFile(FileSystem& fs, Path root, std::string fileName)
    : fs_(fs), root_(std::move(root)), fileName_(std::move(fileName)) {}

std::vector<DnsRecord> DnsRecordFile::load() {
  std::vector<DnsRecord> out;
  auto text = fs_.readFile(file());
  if (!text) return out;
  try {
    auto v = Poco::JSON::Parser().parse(*text);
    if (v.type() != typeid(Poco::JSON::Object::Ptr)) return out;
    auto obj = v.extract<Poco::JSON::Object::Ptr>();
    if (!obj->isArray("records")) return out;
    auto records = obj->getArray("records");
    for (unsigned i = 0; i < records->size() && out.size() < kMaxRecords; ++i) {
      if (!records->isObject(i)) continue;
      auto r = recordFrom(records->getObject(i));
      if (!r.name.empty() && !r.value.empty()) out.push_back(r);
    }
  } catch (const Poco::Exception&) {
  }
  return out;
}

Status DnsRecordFile::save(const std::vector<DnsRecord>& records) {
  if (records.empty()) {
    if (fs_.kind(file()).value_or(EntryKind::Missing) == EntryKind::Missing) return {};
    return fs_.remove(file());
  }
  Poco::JSON::Object obj(Poco::JSON_PRESERVE_KEY_ORDER);
  Poco::JSON::Array list;
  for (const auto& r : records) list.add(recordJson(r));
  obj.set("records", list);
  std::ostringstream out;
  obj.stringify(out);
  return replaceFile(fs_, file(), out.str(), "save the DNS records in " + file().string());
}

}  // namespace sc::store
