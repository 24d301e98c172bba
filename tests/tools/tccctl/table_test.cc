// Alignment, colour and cutting of tools/tccctl/table.h.
#include "tools/tccctl/table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace tcc::tccctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Render(const Table& table, bool color = false) {
  std::ostringstream out;
  table.Render(out, color);
  return out.str();
}

TEST(TableTest, PadsEveryColumnButTheLastToItsWidestCell) {
  Table table({"GID", "STATE", "ERROR"});
  table.AddRow({"a", "COMMITTING", "x"});
  table.AddRow({"longer-gid", "TRYING", ""});
  EXPECT_EQ(Render(table),
            "GID         STATE       ERROR\n"
            "a           COMMITTING  x\n"
            "longer-gid  TRYING\n");
}

TEST(TableTest, ColourCodesDoNotShiftColumns) {
  Table table({"STATE", "N"});
  table.AddRow({Cell("COMMITTED", Color::kGreen), "1"});
  std::string plain = Render(table, false);
  std::string colored = Render(table, true);
  EXPECT_THAT(plain, Not(HasSubstr("\033[")));
  EXPECT_THAT(colored, HasSubstr("\033[32mCOMMITTED\033[0m  1"));
  EXPECT_THAT(colored, HasSubstr("\033[1mSTATE\033[0m"));
}

TEST(TableTest, CutsTheLastColumnToTheWidth) {
  Table table({"A", "ERROR"});
  table.AddRow({"x", std::string(100, 'e')});
  table.SetMaxWidth(30, 10);
  std::string out = Render(table);
  EXPECT_THAT(out, HasSubstr("x  " + std::string(24, 'e') + "...\n"));
}

TEST(TableTest, KeepsAMinimumForTheLastColumnOnNarrowTerminals) {
  Table table({"A", "ERROR"});
  table.AddRow({std::string(40, 'g'), std::string(100, 'e')});
  table.SetMaxWidth(30, 10);
  EXPECT_THAT(Render(table), HasSubstr(std::string(7, 'e') + "...\n"));
}

TEST(TableTest, ControlCharactersCannotBreakARow) {
  Table table({"A", "B"});
  table.AddRow({"x\ny", "multi\nline"});
  table.AddRow({"short"});  // Missing cells are empty.
  EXPECT_EQ(Render(table),
            "A      B\n"
            "x y    multi line\n"
            "short\n");
}

TEST(PaintTest, OnlyWhenEnabled) {
  EXPECT_EQ(Paint("stuck", Color::kRed, false), "stuck");
  EXPECT_EQ(Paint("stuck", Color::kRed, true), "\033[31mstuck\033[0m");
  EXPECT_EQ(Paint("", Color::kRed, true), "");
}

}  // namespace
}  // namespace tcc::tccctl
