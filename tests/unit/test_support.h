#pragma once
// Helpers shared by the unit tests: a temporary folder, made and removed per test.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "sidecert-test-XXXXXX").string();
    root_ = ::mkdtemp(templ.data());
  }
  ~TempDir() { std::filesystem::remove_all(root_); }
  std::string path(const std::string& rel = "") const { return rel.empty() ? root_.string() : (root_ / rel).string(); }
  std::string write(const std::string& rel, const std::string& text) const {
    std::filesystem::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
    return path(rel);
  }
  std::string read(const std::string& rel) const {
    std::ifstream in(root_ / rel);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::filesystem::path root_;
};
