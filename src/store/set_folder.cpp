#include "store/set_folder.h"

#include <sstream>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/time_format.h"

namespace sc::store {

mode_t Publishing::modeOf(const std::string& file) const {
  if (holdsKey(file)) return keyMode.value_or(keyGroup ? 0640 : 0600);
  return certMode;
}

FileOwner Publishing::ownerOf(const std::string& file, bool inVolume) const {
  return {inVolume ? owner : std::nullopt, holdsKey(file) ? keyGroup : std::nullopt};
}

std::string metaJson(Source source, TimePoint published) {
  Poco::JSON::Object meta(Poco::JSON_PRESERVE_KEY_ORDER);
  meta.set("source", std::string(sourceName(source)));
  meta.set("published", formatTime(published));
  std::ostringstream out;
  meta.stringify(out);
  return out.str();
}

SetMeta parseMeta(const std::string& json) {
  try {
    auto obj = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
    return {parseSource(obj->optValue<std::string>("source", "")), parseTime(obj->optValue<std::string>("published", ""))};
  } catch (const Poco::Exception&) {
    return {};
  }
}

std::string bytesOf(const CertFiles& files, const std::string& file) {
  return file == kCombinedFile ? combinedOf(files) : fileOf(files, file);
}

Result<CertFiles> readSetFolder(FileSystem& fs, const Path& dir) {
  CertFiles files;
  for (const char* file : kSetFiles) {
    auto bytes = fs.readFile(dir / file);
    if (!bytes) return std::unexpected(bytes.error());
    fileOf(files, file) = *bytes;
  }
  return files;
}

Status writeSetFolder(FileSystem& fs, const Publishing& publishing, const Path& final, const CertFiles& files,
                      mode_t dirMode, const std::string* meta, bool inVolume) {
  Path tmp = final;
  tmp += ".tmp";
  if (auto ok = fs.removeTree(tmp); !ok) return ok;  // left by a writer that was killed
  if (auto ok = fs.makeDir(tmp, dirMode); !ok) return ok;
  std::vector<Path> written;
  for (const char* file : kPublishedFiles) {
    written.push_back(tmp / file);
    auto ok = fs.writeNew(written.back(), bytesOf(files, file), publishing.modeOf(file),
                          publishing.ownerOf(file, inVolume), Sync::Later);
    if (!ok) return ok;
  }
  if (meta) {
    written.push_back(tmp / "meta.json");
    if (auto ok = fs.writeNew(written.back(), *meta, 0600, {}, Sync::Later); !ok) return ok;
  }
  if (auto ok = fs.syncFiles(written); !ok) return ok;
  if (auto ok = fs.syncDir(tmp); !ok) return ok;
  if (auto ok = fs.rename(tmp, final); !ok) return ok;
  return fs.syncDir(final.parent_path());
}

}  // namespace sc::store
