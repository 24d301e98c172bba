// Which build a binary is: the project version and the git commit it was
// built from, for `tccd --version` and `tccctl --version`. The commit is
// taken at build time (not configure time), so a rebuild after a commit
// reports the new one; "unknown" when the source is not a git checkout
// (e.g. a release tarball) and $TCC_GIT_COMMIT was not set.
//
// Thread-safety: constants only.
#pragma once

#include <string>
#include <string_view>

namespace tcc::build_info {

// The project version, e.g. "0.1.0".
std::string_view Version();

// The commit, e.g. "9c64e0d4dace" or "9c64e0d4dace-dirty".
std::string_view Commit();

// One line for --version: "<program> <version> (commit <commit>)".
std::string VersionLine(std::string_view program);

}  // namespace tcc::build_info
