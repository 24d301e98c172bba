// Aligned text tables and optional ANSI colour for tccctl's human output.
// Columns are padded to their widest cell (counted without colour codes);
// the last column is not padded and can be cut to fit a terminal width.
// Not thread-safe; build one per output.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "tcc/v1/coordinator.pb.h"

namespace tcc::tccctl {

enum class Color { kNone, kRed, kGreen, kYellow, kBlue, kMagenta, kCyan, kBold, kDim };

// Wraps `text` in the escape codes of `color` when `enabled`.
std::string Paint(const std::string& text, Color color, bool enabled);

// The colour a state is shown in: TRYING / RUNNING cyan, states on the way
// to an outcome yellow, COMMITTED green, ROLLED_BACK blue; refused branches
// red.
Color StateColor(v1::TransactionState state);
Color StateColor(v1::BranchState state);

struct Cell {
  Cell(std::string text, Color color = Color::kNone);  // NOLINT: implicit by design
  Cell(const char* text, Color color = Color::kNone);  // NOLINT: implicit by design
  std::string text;
  Color color;
};

class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // Adds a row; missing cells are empty, extra cells are dropped. Control
  // characters in cells are replaced with spaces.
  void AddRow(std::vector<Cell> cells);

  // The last column is cut to keep each line within `width` characters (but
  // never below `min_last` characters). 0: no limit.
  void SetMaxWidth(size_t width, size_t min_last = 20);

  // Writes the header line (bold when `color`) and the rows.
  void Render(std::ostream& out, bool color) const;

  bool empty() const { return rows_.empty(); }

 private:
  std::vector<size_t> ColumnWidths() const;
  void RenderLine(std::ostream& out, const std::vector<Cell>& cells,
                  const std::vector<size_t>& widths, bool color) const;

  std::vector<std::string> headers_;
  std::vector<std::vector<Cell>> rows_;
  size_t max_width_ = 0;
  size_t min_last_ = 20;
};

}  // namespace tcc::tccctl
