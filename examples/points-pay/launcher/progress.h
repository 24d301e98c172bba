// The launcher's progress line. On a terminal it is one line rewritten in
// place (\r) a few times a second; otherwise (a log, a CI job) it is a new
// line about every second, so the output stays readable.
//
// Thread-safety: one owner thread.
#pragma once

#include <ostream>
#include <string>

#include "absl/time/time.h"

namespace pointspay {

class Progress {
 public:
  // `is_tty` decides the style (the launcher passes isatty(stdout)).
  Progress(std::ostream& out, bool is_tty);

  // Shows `line` if the last one is old enough (or `force`).
  void Update(const std::string& line, bool force = false);
  // Ends the in-place line, if any.
  void Done();

 private:
  std::ostream& out_;
  const bool tty_;
  absl::Time last_ = absl::InfinitePast();
  size_t last_width_ = 0;
};

}  // namespace pointspay
