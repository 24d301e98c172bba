// SqlValue: one bound parameter or column value (declared in local_db.h).
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tcc/sdk/local_db.h"

namespace tcc::sdk {

SqlValue SqlValue::Blob(std::string bytes) {
  SqlValue v(std::move(bytes));
  v.type_ = Type::kBlob;
  return v;
}

int64_t SqlValue::AsInt() const {
  if (type_ == Type::kReal) return static_cast<int64_t>(real_);
  return type_ == Type::kInt ? int_ : 0;
}

double SqlValue::AsReal() const {
  if (type_ == Type::kInt) return static_cast<double>(int_);
  return type_ == Type::kReal ? real_ : 0;
}

std::string SqlValue::AsText() const {
  switch (type_) {
    case Type::kInt:
      return absl::StrCat(int_);
    case Type::kReal:
      return absl::StrCat(real_);
    case Type::kText:
    case Type::kBlob:
      return bytes_;
    default:
      return "";
  }
}

}  // namespace tcc::sdk
