#include "common/metrics/registry.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/metrics/text_format.h"

namespace tcc::metrics {
namespace {

[[noreturn]] void Die(const std::string& name, const char* why) {
  std::fprintf(stderr, "metric %s: %s\n", name.c_str(), why);
  std::abort();
}

void CheckBounds(const std::string& name, const std::vector<double>& bounds) {
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) Die(name, "histogram bounds must be finite");
    if (i > 0 && bounds[i] <= bounds[i - 1]) Die(name, "histogram bounds must increase");
  }
}

}  // namespace

template <typename F>
F& Registry::Add(std::unique_ptr<F> family) {
  F& added = *family;
  tcc::MutexLock lock(&mu_);
  CheckNames(added);
  families_.push_back(std::move(family));
  return added;
}

void Registry::CheckNames(const FamilyBase& family) {
  if (!IsValidMetricName(family.name())) Die(family.name(), "invalid metric name");
  for (const std::string& label : family.label_names()) {
    if (!IsValidLabelName(label)) Die(family.name(), "invalid label name");
  }
  if (!names_.insert(family.name()).second) Die(family.name(), "registered twice");
}

Family<Counter>& Registry::AddCounter(std::string name, std::string help,
                                      std::vector<std::string> label_names) {
  return Add(std::make_unique<Family<Counter>>(std::move(name), std::move(help), "counter",
                                               std::move(label_names),
                                               [] { return std::make_unique<Counter>(); }));
}

Family<Gauge>& Registry::AddGauge(std::string name, std::string help,
                                  std::vector<std::string> label_names) {
  return Add(std::make_unique<Family<Gauge>>(std::move(name), std::move(help), "gauge",
                                             std::move(label_names),
                                             [] { return std::make_unique<Gauge>(); }));
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> bounds) {
  CheckBounds(name, bounds);
  for (const std::string& label : label_names) {
    if (label == "le") Die(name, "\"le\" is the histogram's own label");
  }
  auto shared = std::make_shared<const std::vector<double>>(std::move(bounds));
  return Add(std::make_unique<Family<Histogram>>(
      std::move(name), std::move(help), "histogram", std::move(label_names),
      [shared] { return std::make_unique<Histogram>(shared); }));
}

void Registry::AddCallbackGauge(std::string name, std::string help,
                                std::vector<std::string> label_names,
                                CallbackGaugeFamily::Collect collect) {
  Add(std::make_unique<CallbackGaugeFamily>(std::move(name), std::move(help),
                                            std::move(label_names), std::move(collect)));
}

std::string Registry::Render() const {
  // Rendered without mu_: callback gauges take their owners' locks.
  std::vector<const FamilyBase*> families;
  {
    tcc::MutexLock lock(&mu_);
    for (const auto& family : families_) families.push_back(family.get());
  }
  std::string out;
  for (const FamilyBase* family : families) family->Render(out);
  return out;
}

}  // namespace tcc::metrics
