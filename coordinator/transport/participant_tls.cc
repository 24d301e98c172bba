#include "coordinator/transport/participant_tls.h"

#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tcc/common/status_macros.h"

namespace tcc {
namespace {

constexpr char kOverridesFlag[] = "--participant_tls_overrides";

absl::Status LineError(const std::string& file, int line, absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat(kOverridesFlag, " ", file, " line ", line, ": ", message));
}

// One "key=value" or "plaintext" word of a line into `entry`.
absl::Status ApplyWord(absl::string_view word, TlsOverride& entry) {
  if (word == "plaintext") {
    entry.plaintext = true;
    return absl::OkStatus();
  }
  std::pair<absl::string_view, absl::string_view> kv =
      absl::StrSplit(word, absl::MaxSplits('=', 1));
  std::string* field = kv.first == "ca"     ? &entry.tls.ca_file
                       : kv.first == "cert" ? &entry.tls.cert_file
                       : kv.first == "key"  ? &entry.tls.key_file
                                            : nullptr;
  if (field == nullptr || kv.second.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", word, "\" is not ca=FILE, cert=FILE, key=FILE or plaintext"));
  }
  *field = std::string(kv.second);
  return absl::OkStatus();
}

absl::StatusOr<TlsOverride> ParseLine(const std::vector<absl::string_view>& words,
                                      const std::string& file, int line) {
  TlsOverride entry;
  entry.target = std::string(words[0]);
  for (size_t i = 1; i < words.size(); ++i) {
    absl::Status applied = ApplyWord(words[i], entry);
    if (!applied.ok()) return LineError(file, line, applied.message());
  }
  if (entry.plaintext == entry.tls.enabled()) {
    return LineError(file, line,
                     absl::StrCat(entry.target,
                                  ": give either ca=FILE (and optionally cert=FILE "
                                  "key=FILE) or plaintext"));
  }
  std::string where = absl::StrCat(" on ", kOverridesFlag, " ", file, " line ", line);
  entry.tls.names = {"cert=" + entry.tls.cert_file + where, "key=" + entry.tls.key_file + where,
                     "ca=" + entry.tls.ca_file + where};
  return entry;
}

absl::StatusOr<std::string> ReadFile(const std::string& file) {
  std::ifstream in(file);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(kOverridesFlag, ": cannot read \"", file, "\""));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ModeOf(const TlsOptions& tls) {
  if (!tls.enabled()) return "plaintext";
  return tls.cert_file.empty() ? "TLS" : "mutual TLS (client certificate)";
}

}  // namespace

absl::StatusOr<std::vector<TlsOverride>> ParseTlsOverrides(absl::string_view text,
                                                           const std::string& file) {
  std::vector<TlsOverride> entries;
  absl::flat_hash_set<std::string> seen;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = line.substr(0, line.find('#'));
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (words.empty()) continue;
    TCC_ASSIGN_OR_RETURN(TlsOverride entry, ParseLine(words, file, number));
    if (!seen.insert(entry.target).second) {
      return LineError(file, number, absl::StrCat(entry.target, " is listed twice"));
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::unique_ptr<ParticipantCredentials> ParticipantCredentials::Plaintext() {
  std::unique_ptr<ParticipantCredentials> credentials(new ParticipantCredentials());
  credentials->defaults_ = grpc::InsecureChannelCredentials();
  return credentials;
}

absl::StatusOr<std::unique_ptr<ParticipantCredentials>> ParticipantCredentials::Create(
    const ParticipantTlsConfig& config) {
  if (config.required && !config.defaults.enabled()) {
    return absl::InvalidArgumentError(
        "--participant_tls_required needs --participant_ca (and --participant_cert/"
        "--participant_key for mutual TLS): the TLS settings of targets not in "
        "--participant_tls_overrides");
  }
  std::unique_ptr<ParticipantCredentials> credentials(new ParticipantCredentials());
  TCC_ASSIGN_OR_RETURN(credentials->defaults_, MakeChannelCredentials(config.defaults));
  credentials->defaults_mode_ = ModeOf(config.defaults);
  if (config.overrides_file.empty()) return credentials;
  TCC_ASSIGN_OR_RETURN(std::string text, ReadFile(config.overrides_file));
  TCC_ASSIGN_OR_RETURN(std::vector<TlsOverride> entries,
                       ParseTlsOverrides(text, config.overrides_file));
  for (TlsOverride& entry : entries) {
    if (entry.plaintext && config.required) {
      return absl::InvalidArgumentError(
          absl::StrCat(kOverridesFlag, ": ", entry.target,
                       " is plaintext, but --participant_tls_required is set"));
    }
    entry.tls.refresh_interval = config.defaults.refresh_interval;
    TCC_ASSIGN_OR_RETURN(credentials->overrides_[entry.target], MakeChannelCredentials(entry.tls));
  }
  return credentials;
}

std::shared_ptr<grpc::ChannelCredentials> ParticipantCredentials::For(
    const std::string& target) const {
  auto it = overrides_.find(target);
  return it == overrides_.end() ? defaults_ : it->second;
}

std::string ParticipantCredentials::Describe() const {
  return absl::StrCat(defaults_mode_, ", ", overrides_.size(), " per-target override(s)");
}

}  // namespace tcc
