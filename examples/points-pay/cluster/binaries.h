// Where the launcher finds the programs it starts: by default the ones built
// next to it (paths compiled in by CMake), so that the README's command works
// from any directory.
//
// Thread-safety: plain values.
#pragma once

#include <string>

namespace pointspay {

struct Binaries {
  std::string tccd;
  std::string points_service;
  std::string paylog_service;
  std::string order_service;
};

// The tccd and the services of this build.
Binaries DefaultBinaries();

}  // namespace pointspay
