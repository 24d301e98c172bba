#include "common/metrics/family.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/metrics/text_format.h"

namespace tcc::metrics {
namespace {

// "name{labels} value\n". Counts are integers, written out in full (not
// as "1e+06", which is how the shortest float form spells a million).
std::string Line(absl::string_view name, const std::vector<std::string>& label_names,
                 const LabelValues& values, absl::string_view value) {
  return absl::StrCat(name, FormatLabels(label_names, values), " ", value, "\n");
}

}  // namespace

FamilyBase::FamilyBase(std::string name, std::string help, std::string type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(std::move(type)),
      label_names_(std::move(label_names)) {}

void FamilyBase::Render(std::string& out) const {
  Rendered children = RenderChildren();
  if (children.empty()) return;
  std::sort(children.begin(), children.end());
  absl::StrAppend(&out, "# HELP ", name_, " ", EscapeHelp(help_), "\n");
  absl::StrAppend(&out, "# TYPE ", name_, " ", type_, "\n");
  for (const auto& [values, lines] : children) out += lines;
}

void FamilyBase::CheckArity(const LabelValues& values) const {
  if (values.size() == label_names_.size()) return;
  std::fprintf(stderr, "metric %s: %zu label values for %zu label names\n", name_.c_str(),
               values.size(), label_names_.size());
  std::abort();
}

std::string RenderSample(const FamilyBase& family, const LabelValues& values,
                         const Counter& counter) {
  return Line(family.name(), family.label_names(), values, absl::StrCat(counter.value()));
}

std::string RenderSample(const FamilyBase& family, const LabelValues& values, const Gauge& gauge) {
  return Line(family.name(), family.label_names(), values, FormatValue(gauge.value()));
}

std::string RenderSample(const FamilyBase& family, const LabelValues& values,
                         const Histogram& histogram) {
  Histogram::Snapshot snapshot = histogram.Read();
  std::vector<std::string> names = family.label_names();
  names.push_back("le");
  LabelValues with_le = values;
  with_le.emplace_back();
  std::string out;
  const std::string bucket = absl::StrCat(family.name(), "_bucket");
  for (size_t i = 0; i < snapshot.cumulative.size(); ++i) {
    bool last = i == histogram.bounds().size();
    with_le.back() = last ? "+Inf" : FormatValue(histogram.bounds()[i]);
    out += Line(bucket, names, with_le, absl::StrCat(snapshot.cumulative[i]));
  }
  out += Line(absl::StrCat(family.name(), "_sum"), family.label_names(), values,
              FormatValue(snapshot.sum));
  out += Line(absl::StrCat(family.name(), "_count"), family.label_names(), values,
              absl::StrCat(snapshot.count));
  return out;
}

CallbackGaugeFamily::CallbackGaugeFamily(std::string name, std::string help,
                                         std::vector<std::string> label_names, Collect collect)
    : FamilyBase(std::move(name), std::move(help), "gauge", std::move(label_names)),
      collect_(std::move(collect)) {}

FamilyBase::Rendered CallbackGaugeFamily::RenderChildren() const {
  Rendered rendered;
  for (auto& [values, value] : collect_()) {
    CheckArity(values);
    std::string line = Line(name(), label_names(), values, FormatValue(value));
    rendered.emplace_back(std::move(values), std::move(line));
  }
  return rendered;
}

}  // namespace tcc::metrics
