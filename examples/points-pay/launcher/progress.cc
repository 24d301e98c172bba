#include "examples/points-pay/launcher/progress.h"

#include "absl/time/clock.h"

namespace pointspay {

Progress::Progress(std::ostream& out, bool is_tty) : out_(out), tty_(is_tty) {}

void Progress::Update(const std::string& line, bool force) {
  absl::Time now = absl::Now();
  absl::Duration every = tty_ ? absl::Milliseconds(200) : absl::Seconds(1);
  if (!force && now - last_ < every) return;
  last_ = now;
  if (!tty_) {
    out_ << line << "\n" << std::flush;
    return;
  }
  // Pad over the rest of a longer previous line.
  std::string padded = line;
  if (padded.size() < last_width_) padded.append(last_width_ - padded.size(), ' ');
  last_width_ = line.size();
  out_ << "\r" << padded << std::flush;
}

void Progress::Done() {
  if (tty_ && last_width_ > 0) out_ << "\n" << std::flush;
  last_width_ = 0;
}

}  // namespace pointspay
