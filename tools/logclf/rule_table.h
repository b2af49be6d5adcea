// Rules with the lines they decided and their precision (train and evaluate); train's rows add a status.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace logclf::cli {

template <typename Row>
void print_rule_table(const std::vector<Row>& rows) {
  constexpr bool with_status = requires(const Row& r) { r.status; };
  std::size_t width = 4;
  for (const Row& r : rows) width = std::max(width, r.name.size());
  fmt::print("  {:<{}}  {:<20}  {:>8}  {:>9}{}\n", "rule", width, "label", "matched", "precision",
             with_status ? "  status" : "");
  for (const Row& r : rows) {
    std::string status;
    if constexpr (with_status) status = "  " + r.status;
    fmt::print("  {:<{}}  {:<20}  {:>8}  {:>9}{}\n", r.name, width, r.label, r.matched,
               r.matched ? fmt::format("{:.4f}", double(r.correct) / r.matched) : "-", status);
  }
}

}  // namespace logclf::cli
