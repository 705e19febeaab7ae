#pragma once
// Each setting's parser: one value as given (a YAML scalar or list, or an
// environment string) checked and applied to Settings, with a message that names
// what is wrong. load.cpp reads the file and the environment and calls these.
#include <functional>
#include <string>
#include <vector>

#include "config/settings.h"
#include "core/result.h"

namespace sc::config {

// One value as given, and where: YAML scalars and lists, or an env string.
struct RawValue {
  std::vector<std::string> items;  // a scalar is one item
  bool isList = false;
  std::string origin;              // "sidecert.yml:4" or "SIDECERT_DOMAINS"
};

using Apply = std::function<Status(Settings&, const RawValue&)>;

struct Setting {
  const char* yamlKey;
  const char* envName;
  Apply apply;
};

// The settings, by YAML key and environment name.
const std::vector<Setting>& settingsTable();
// A lineage's folder name: letters, digits, '.', '-', '_'; at most 64.
Status checkName(const std::string& n);

}  // namespace sc::config
