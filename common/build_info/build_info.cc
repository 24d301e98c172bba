#include "common/build_info/build_info.h"

#include "common/build_info/build_info_values.h"

namespace tcc::build_info {

std::string_view Version() { return kVersion; }

std::string_view Commit() { return kCommit; }

std::string VersionLine(std::string_view program) {
  return std::string(program) + " " + std::string(Version()) + " (commit " + std::string(Commit()) +
         ")";
}

}  // namespace tcc::build_info
