#include "swarm/set_store.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <sstream>

#include "core/time_format.h"
#include "crypto/encoding.h"
#include "crypto/seal.h"
#include "log/log.h"

namespace sc::swarm {
namespace {

using Poco::JSON::Object;

std::string json(const Object& obj) {
  std::ostringstream out;
  obj.stringify(out);
  return out.str();
}

Result<Object::Ptr> parseObject(const std::string& text) {
  try {
    auto value = Poco::JSON::Parser().parse(text);
    if (value.type() != typeid(Object::Ptr)) return fail("not a JSON object");
    return value.extract<Object::Ptr>();
  } catch (const Poco::Exception& e) {
    return fail(e.displayText());
  }
}

Kind kindOf(const std::string& file) { return store::holdsKey(file) ? Kind::Secret : Kind::Config; }

std::string fileBytes(const store::CertFiles& files, const std::string& file) {
  return file == store::kCombinedFile ? store::combinedOf(files) : store::fileOf(files, file);
}

}  // namespace

std::string fingerprintOf(const std::string& certPem) { return crypto::hex(crypto::sha256(certPem)); }

SetStore::SetStore(SwarmApi& api, std::string scope, std::string sealKey)
    : api_(api), scope_(std::move(scope)), sealKey_(std::move(sealKey)) {}

std::map<std::string, std::string> SetStore::lineageLabels(const std::string& lineage) const {
  return {{kLabelScope, scope_}, {kLabelLineage, lineage}};
}

std::string SetStore::accountContext(const std::string& caUrl) const {
  return "sidecert account\n" + scope_ + "\n" + caUrl;
}

std::string SetStore::boxContext(const std::string& lineage, int generation, const std::string& fingerprint) const {
  return "sidecert set\n" + scope_ + "\n" + lineage + "\n" + std::to_string(generation) + "\n" + fingerprint;
}

Result<StoredSet> SetStore::open(const std::string& lineage, const StoredObject& box) const {
  StoredSet set;
  set.generation = box.generation();
  set.fingerprint = box.label(kLabelFingerprint);
  auto plain = crypto::unseal(sealKey_, box.data, boxContext(lineage, set.generation, set.fingerprint));
  if (!plain) return std::unexpected(plain.error());
  auto obj = parseObject(*plain);
  if (!obj) return wrap("the sealed set", obj.error());
  try {
    auto source = store::parseSource((*obj)->optValue<std::string>("source", ""));
    if (!source) return fail("the sealed set names no known source");
    set.source = *source;
    for (const char* file : store::kSetFiles) store::fileOf(set.files, file) = (*obj)->getValue<std::string>(file);
  } catch (const Poco::Exception& e) {
    return fail("the sealed set lacks a file: " + e.displayText());
  }
  if (fingerprintOf(set.files.cert) != set.fingerprint) return fail("the sealed set's certificate is not the one its label names");
  return set;
}

Result<std::optional<StoredSet>> SetStore::newest(const std::string& lineage) {
  auto labels = lineageLabels(lineage);
  labels[kLabelRole] = kRoleSet;
  auto boxes = api_.list(Kind::Config, labels);
  if (!boxes) return std::unexpected(boxes.error());
  std::sort(boxes->begin(), boxes->end(),
            [](const StoredObject& a, const StoredObject& b) { return a.generation() > b.generation(); });
  for (const auto& box : *boxes) {
    if (box.generation() < 0) continue;
    auto set = open(lineage, box);
    if (set) return std::optional<StoredSet>(std::move(*set));
    log::warn("swarm_set_unreadable", {{"name", lineage}, {"config", box.name}, {"error", set.error().message}});
  }
  return std::optional<StoredSet>();
}

Result<Generation> SetStore::put(const std::string& lineage, const store::CertFiles& files, store::Source source,
                                 TimePoint notAfter) {
  auto labels = lineageLabels(lineage);
  labels[kLabelRole] = kRoleSet;
  auto boxes = api_.list(Kind::Config, labels);
  if (!boxes) return std::unexpected(boxes.error());
  const std::string fingerprint = fingerprintOf(files.cert);
  Generation g;
  int newestBox = 0;
  std::optional<int> existing;
  for (const auto& box : *boxes) {
    newestBox = std::max(newestBox, box.generation());
    if (box.label(kLabelFingerprint) == fingerprint && box.generation() >= 0) existing = box.generation();
  }
  g.number = existing.value_or(newestBox + 1);
  g.created = !existing;
  labels = lineageLabels(lineage);
  labels[kLabelGeneration] = std::to_string(g.number);
  labels[kLabelFingerprint] = fingerprint;
  labels[kLabelSource] = store::sourceName(source);
  labels[kLabelNotAfter] = formatTime(notAfter);
  for (const char* file : store::kPublishedFiles) {
    StoredObject o;
    o.kind = kindOf(file);
    o.name = objectName(scope_, lineage, fingerprint, file);
    o.labels = labels;
    o.labels[kLabelRole] = file;
    auto id = api_.create(o.kind, o.name, o.labels, fileBytes(files, file));
    if (!id) return std::unexpected(id.error());
    o.id = *id;
    g.files.push_back(std::move(o));
  }
  if (existing) return g;
  // The sealed set comes last: a generation whose box exists is whole.
  Object payload;
  payload.set("source", std::string(store::sourceName(source)));
  for (const char* file : store::kSetFiles) payload.set(file, store::fileOf(files, file));
  auto box = crypto::seal(sealKey_, json(payload), boxContext(lineage, g.number, fingerprint));
  if (!box) return wrap("seal the set", box.error());
  labels[kLabelRole] = kRoleSet;
  auto id = api_.create(Kind::Config, objectName(scope_, lineage, fingerprint, kRoleSet), labels, *box);
  if (!id) return std::unexpected(id.error());
  return g;
}

void SetStore::tidy(const std::string& lineage, int newestGeneration) {
  auto services = api_.services();
  if (!services) {
    log::warn("swarm_tidy_failed", {{"name", lineage}, {"error", services.error().message}});
    return;
  }
  std::set<std::string> referenced;
  for (const auto& s : *services) {
    referenced.merge(namesIn(s.spec));
    referenced.merge(namesIn(s.previousSpec));
  }
  std::vector<StoredObject> ours;
  for (Kind kind : {Kind::Secret, Kind::Config}) {
    auto found = api_.list(kind, lineageLabels(lineage));
    if (!found) {
      log::warn("swarm_tidy_failed", {{"name", lineage}, {"error", found.error().message}});
      return;
    }
    ours.insert(ours.end(), found->begin(), found->end());
  }
  for (const auto& o : obsolete(ours, referenced, newestGeneration)) {
    if (auto ok = api_.remove(o.kind, o.id); !ok)
      log::warn("swarm_object_not_removed", {{"name", lineage}, {"object", o.name}, {"error", ok.error().message}});
    else
      log::debug("swarm_object_removed", {{"name", lineage}, {"object", o.name}, {"generation", o.generation()}});
  }
}

Result<std::optional<AccountCopy>> SetStore::account(const std::string& caUrl) {
  auto found = api_.list(Kind::Config, {{kLabelScope, scope_}, {kLabelRole, kRoleAccount}});
  if (!found) return std::unexpected(found.error());
  const auto name = accountName(scope_, caUrl);
  for (const auto& o : *found) {
    if (o.name != name) continue;
    auto plain = crypto::unseal(sealKey_, o.data, accountContext(caUrl));
    if (!plain) return wrap("open the account copy " + name, plain.error());
    auto obj = parseObject(*plain);
    if (!obj) return wrap("the account copy " + name, obj.error());
    auto key = (*obj)->get("key"), url = (*obj)->get("url");
    if (!key.isString() || !url.isString() || key.extract<std::string>().rfind("-----BEGIN ", 0) != 0)
      return fail("the account copy " + name + " holds no PEM key and account URL as text");
    AccountCopy copy{key.extract<std::string>(), url.extract<std::string>()};
    return std::optional<AccountCopy>(copy);
  }
  return std::optional<AccountCopy>();
}

Status SetStore::putAccount(const std::string& caUrl, const AccountCopy& copy) {
  Object payload;
  payload.set("key", copy.key);
  payload.set("url", copy.url);
  auto box = crypto::seal(sealKey_, json(payload), accountContext(caUrl));
  if (!box) return wrap("seal the account key", box.error());
  auto id = api_.create(Kind::Config, accountName(scope_, caUrl),
                        {{kLabelScope, scope_}, {kLabelRole, kRoleAccount}, {kLabelCa, caUrl.substr(0, 200)}}, *box);
  if (!id) return std::unexpected(id.error());
  return {};
}

}  // namespace sc::swarm
