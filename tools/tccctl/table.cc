#include "tools/tccctl/table.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "tools/tccctl/format.h"

namespace tcc::tccctl {
namespace {

constexpr size_t kGap = 2;  // Spaces between columns.

const char* EscapeCode(Color color) {
  switch (color) {
    case Color::kRed:
      return "\033[31m";
    case Color::kGreen:
      return "\033[32m";
    case Color::kYellow:
      return "\033[33m";
    case Color::kBlue:
      return "\033[34m";
    case Color::kMagenta:
      return "\033[35m";
    case Color::kCyan:
      return "\033[36m";
    case Color::kBold:
      return "\033[1m";
    case Color::kDim:
      return "\033[2m";
    case Color::kNone:
      break;
  }
  return "";
}

}  // namespace

std::string Paint(const std::string& text, Color color, bool enabled) {
  if (!enabled || color == Color::kNone || text.empty()) return text;
  return absl::StrCat(EscapeCode(color), text, "\033[0m");
}

Color StateColor(v1::TransactionState state) {
  switch (state) {
    case v1::TRANSACTION_STATE_TRYING:
    case v1::TRANSACTION_STATE_RUNNING:
      return Color::kCyan;
    case v1::TRANSACTION_STATE_COMMITTING:
    case v1::TRANSACTION_STATE_ROLLING_BACK:
    case v1::TRANSACTION_STATE_COMPENSATING:
      return Color::kYellow;
    case v1::TRANSACTION_STATE_COMMITTED:
      return Color::kGreen;
    case v1::TRANSACTION_STATE_ROLLED_BACK:
      return Color::kBlue;
    default:
      return Color::kNone;
  }
}

Color StateColor(v1::BranchState state) {
  switch (state) {
    case v1::BRANCH_STATE_CONFIRMED:
    case v1::BRANCH_STATE_TRIED:
      return Color::kGreen;
    case v1::BRANCH_STATE_CANCELLED:
      return Color::kBlue;
    case v1::BRANCH_STATE_TRY_REFUSED:
      return Color::kRed;
    default:
      return Color::kNone;
  }
}

Cell::Cell(std::string text, Color color) : text(OneLine(text)), color(color) {}
Cell::Cell(const char* text, Color color) : Cell(std::string(text), color) {}

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::AddRow(std::vector<Cell> cells) {
  cells.resize(headers_.size(), Cell(""));
  rows_.push_back(std::move(cells));
}

void Table::SetMaxWidth(size_t width, size_t min_last) {
  max_width_ = width;
  min_last_ = min_last;
}

std::vector<size_t> Table::ColumnWidths() const {
  std::vector<size_t> widths;
  for (const std::string& header : headers_) widths.push_back(DisplayWidth(header));
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i].text));
    }
  }
  if (max_width_ == 0 || widths.empty()) return widths;
  size_t others = 0;
  for (size_t i = 0; i + 1 < widths.size(); ++i) others += widths[i] + kGap;
  size_t room = max_width_ > others ? max_width_ - others : 0;
  widths.back() = std::min(widths.back(), std::max(room, min_last_));
  return widths;
}

void Table::RenderLine(std::ostream& out, const std::vector<Cell>& cells,
                       const std::vector<size_t>& widths, bool color) const {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    bool last = i + 1 == cells.size();
    std::string text = last ? Truncate(cells[i].text, widths[i]) : cells[i].text;
    absl::StrAppend(&line, Paint(text, cells[i].color, color));
    if (!last) line.append(widths[i] - DisplayWidth(text) + kGap, ' ');
  }
  // Trailing blanks of empty last cells are noise in a terminal and in diffs.
  line.erase(line.find_last_not_of(' ') + 1);
  out << line << "\n";
}

void Table::Render(std::ostream& out, bool color) const {
  std::vector<size_t> widths = ColumnWidths();
  std::vector<Cell> header;
  for (const std::string& text : headers_) header.emplace_back(text, Color::kBold);
  RenderLine(out, header, widths, color);
  for (const auto& row : rows_) RenderLine(out, row, widths, color);
}

}  // namespace tcc::tccctl
