// Encoding of branch headers for storage: a compact length-prefixed byte
// string (key length, key, value length, value, ...). Decoding validates
// every length, so a damaged record is reported, never read out of bounds.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "coordinator/domain/transaction.h"

namespace tcc {

std::string EncodeHeaders(const Headers& headers);
absl::StatusOr<Headers> DecodeHeaders(absl::string_view encoded);

}  // namespace tcc
