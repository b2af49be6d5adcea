// A request's phases: exactly the transitions connection.h documents are allowed.
#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "server/connection.h"

namespace logclf::server {
namespace {

TEST(ConnectionPhase, OnlyTheDocumentedTransitionsAreAllowed) {
  using enum Phase;
  const Phase all[] = {waiting, head, body, draining, done, stopped, lingering};
  std::set<std::pair<Phase, Phase>> documented = {
      {waiting, head}, {done, head}, {head, body}, {body, draining}, {head, done}, {body, done}, {draining, done}};
  for (Phase from : all) {
    if (from == lingering) continue;
    documented.insert({from, stopped});
    documented.insert({from, lingering});
  }
  for (Phase from : all)
    for (Phase to : all)
      EXPECT_EQ(transition_allowed(from, to), documented.contains({from, to}))
          << to_string(from) << " -> " << to_string(to);
}

}  // namespace
}  // namespace logclf::server
