// The fixture of the Kafka tests: skips them where the broker cannot run, fails them when it did not start,
// and names each test's topics and groups after the test, so that no two tests share one.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "kafka/support/broker.h"

namespace logclf::testing {

class KafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const KafkaBroker& broker = KafkaBroker::instance();
    // ctest matches "Kafka tests skipped" (SKIP_REGULAR_EXPRESSION) and reports the run as skipped.
    if (!broker.unavailable().empty()) GTEST_SKIP() << "Kafka tests skipped: " << broker.unavailable();
    ASSERT_TRUE(broker.error().empty()) << broker.error();
  }

  static KafkaBroker& broker() { return KafkaBroker::instance(); }
  static std::string bootstrap() { return broker().bootstrap(); }

  // "<suite>.<test>.<suffix>", with the characters Kafka does not allow in a name replaced by '-'.
  static std::string name(const std::string& suffix) {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(test->test_suite_name()) + "." + test->name() + "." + suffix;
    for (char& c : name)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '-';
    return name;
  }
};

}  // namespace logclf::testing
