#include "coordinator/store/headers_codec.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tcc {
namespace {

void PutLength(std::string& out, size_t length) {
  uint32_t value = static_cast<uint32_t>(length);
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>(value >> shift));
}

absl::StatusOr<absl::string_view> TakeField(absl::string_view& in) {
  if (in.size() < 4) return absl::DataLossError("stored headers: truncated length");
  uint32_t length = 0;
  for (int i = 0; i < 4; ++i)
    length |= static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  in.remove_prefix(4);
  if (length > in.size()) {
    return absl::DataLossError(
        absl::StrCat("stored headers: field of ", length, " bytes with ", in.size(), " left"));
  }
  absl::string_view field = in.substr(0, length);
  in.remove_prefix(length);
  return field;
}

}  // namespace

std::string EncodeHeaders(const Headers& headers) {
  std::string out;
  for (const auto& [key, value] : headers) {
    PutLength(out, key.size());
    out += key;
    PutLength(out, value.size());
    out += value;
  }
  return out;
}

absl::StatusOr<Headers> DecodeHeaders(absl::string_view encoded) {
  Headers headers;
  while (!encoded.empty()) {
    absl::StatusOr<absl::string_view> key = TakeField(encoded);
    if (!key.ok()) return key.status();
    absl::StatusOr<absl::string_view> value = TakeField(encoded);
    if (!value.ok()) return value.status();
    headers.emplace(*key, *value);
  }
  return headers;
}

}  // namespace tcc
