// A metric family: one name, HELP text, type and label names, and one child
// value per combination of label values, created on first use. Callers on a
// hot path look a child up once and keep the reference: children live as
// long as the family (that is, the Registry) and are never removed.
// Thread-safe: a reader lock guards the lookup of existing children.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "common/metrics/metric_types.h"
#include "tcc/common/mutex.h"

namespace tcc::metrics {

using LabelValues = std::vector<std::string>;

// What every family has, and its rendering in the text format.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::string type,
             std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;

  // Appends "# HELP", "# TYPE" and every sample, children sorted by label
  // values; nothing when the family has no child yet.
  void Render(std::string& out) const;

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 protected:
  // Appends the sample lines, in any order of children (Render sorts).
  using Rendered = std::vector<std::pair<LabelValues, std::string>>;
  virtual Rendered RenderChildren() const = 0;
  // Our bug, not a runtime condition: aborts with a message.
  void CheckArity(const LabelValues& values) const;

 private:
  const std::string name_;
  const std::string help_;
  const std::string type_;
  const std::vector<std::string> label_names_;
};

// The sample lines of one child.
std::string RenderSample(const FamilyBase& family, const LabelValues& values,
                         const Counter& counter);
std::string RenderSample(const FamilyBase& family, const LabelValues& values, const Gauge& gauge);
std::string RenderSample(const FamilyBase& family, const LabelValues& values,
                         const Histogram& histogram);

template <typename T>
class Family final : public FamilyBase {
 public:
  using Factory = std::function<std::unique_ptr<T>()>;

  Family(std::string name, std::string help, std::string type, std::vector<std::string> label_names,
         Factory factory)
      : FamilyBase(std::move(name), std::move(help), std::move(type), std::move(label_names)),
        factory_(std::move(factory)) {}

  // `values` in the order of the family's label names.
  T& WithLabels(const LabelValues& values) {
    {
      tcc::ReaderMutexLock lock(&mu_);
      auto it = children_.find(values);
      if (it != children_.end()) return *it->second;
    }
    CheckArity(values);
    tcc::MutexLock lock(&mu_);
    std::unique_ptr<T>& child = children_[values];
    if (child == nullptr) child = factory_();
    return *child;
  }
  // The only child of a family without labels.
  T& Get() { return WithLabels({}); }

 protected:
  Rendered RenderChildren() const override {
    Rendered rendered;
    tcc::ReaderMutexLock lock(&mu_);
    rendered.reserve(children_.size());
    for (const auto& [values, child] : children_) {
      rendered.emplace_back(values, RenderSample(*this, values, *child));
    }
    return rendered;
  }

 private:
  const Factory factory_;
  mutable tcc::Mutex mu_;
  absl::flat_hash_map<LabelValues, std::unique_ptr<T>> children_ ABSL_GUARDED_BY(mu_);
};

// A gauge family computed at scrape time: `collect` returns every sample
// (label values, value). It runs on the scraping thread with no lock of
// the registry held, so it may take its owner's locks.
class CallbackGaugeFamily final : public FamilyBase {
 public:
  using Samples = std::vector<std::pair<LabelValues, double>>;
  using Collect = std::function<Samples()>;

  CallbackGaugeFamily(std::string name, std::string help, std::vector<std::string> label_names,
                      Collect collect);

 protected:
  Rendered RenderChildren() const override;

 private:
  const Collect collect_;
};

}  // namespace tcc::metrics
