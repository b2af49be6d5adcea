// The message cache: template keys computed by hand, bounded size and eviction, and results identical to
// classification without a cache.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bundle/bundle.h"
#include "cache/message_cache.h"
#include "logclf/cache.h"
#include "logclf/classifier.h"
#include "logclf/corpus.h"
#include "logclf/io.h"
#include "logclf/train.h"
#include "pipeline/parts.h"
#include "support/paths.h"

namespace logclf {
namespace {

TEST(CacheTemplate, MasksNumbersIdsAndPathsByHand) {
  EXPECT_EQ(message_template("took 35 ms"), "took <*> ms");
  EXPECT_EQ(message_template("took 120 ms"), "took <*> ms");
  EXPECT_EQ(message_template("took 35 s"), "took <*> s");
  // Words made of hex digits (a number, a hash, every part of a UUID) are masked whole.
  EXPECT_EQ(message_template("req-9bc36dd9-91c5-447d-96ea-a692162415ae done"), "req-<*>-<*>-<*>-<*>-<*> done");
  EXPECT_EQ(message_template("id 113d3a99c3da401fbd62cc2caa5b96d2"), "id <*>");
  // In other words each digit run is masked and the letters stay.
  EXPECT_EQ(message_template("User User1042 logged in"), "User User<*> logged in");
  EXPECT_EQ(message_template("blk_-6952295868487656571 ipv4"), "blk_-<*> ipv<*>");
  EXPECT_EQ(message_template("from 10.251.73.220:50010"), "from <*>.<*>.<*>.<*>:<*>");
  EXPECT_EQ(message_template("[Sun Dec 04 04:47:44 2005] [notice]"), "[Sun Dec <*> <*>:<*>:<*> <*>] [notice]");
  // Paths with a root and two or more parts.
  EXPECT_EQ(message_template("open /var/log/syslog failed"), "open <path> failed");
  EXPECT_EQ(message_template("file=./data/x.csv, size=3"), "file=<path>, size=<*>");
  EXPECT_EQ(message_template("(~/.ssh/id_rsa)"), "(<path>)");
  EXPECT_EQ(message_template("C:\\Windows\\System32 ok"), "<path> ok");
  EXPECT_EQ(message_template("GET /login and/or /"), "GET /login and/or /");
  // Words without digits, punctuation, spacing and non-ASCII text are kept.
  EXPECT_EQ(message_template("Disk  full!\tcafé"), "Disk  full!\tcafé");
  EXPECT_EQ(message_template("deadbeef"), "deadbeef");
  EXPECT_EQ(message_template(""), "");
}

TEST(CacheTemplate, KeysSeparateSourcesAndModes) {
  std::string scratch;
  EXPECT_EQ(cache::template_key("took 35 ms", "api", scratch), cache::template_key("took 9 ms", "api", scratch));
  EXPECT_NE(cache::template_key("took 35 ms", "api", scratch), cache::template_key("took 35 ms", "db", scratch));
  EXPECT_NE(cache::exact_key("took 35 ms", "api"), cache::exact_key("took 9 ms", "api"));
  EXPECT_NE(cache::exact_key("ab", ""), cache::exact_key("a", "b"));
  EXPECT_EQ(cache::exact_key("took 35 ms", "api"), cache::exact_key("took 35 ms", "api"));
}

TEST(CacheMode, ParsesItsNames) {
  EXPECT_EQ(parse_cache_mode("off"), CacheMode::off);
  EXPECT_EQ(parse_cache_mode("exact"), CacheMode::exact);
  EXPECT_EQ(parse_cache_mode("template"), CacheMode::template_key);
  EXPECT_EQ(parse_cache_mode("lru"), std::nullopt);
  EXPECT_EQ(to_string(CacheMode::template_key), "template");
  EXPECT_THROW(MessageCache({CacheMode::exact, 0}), Error);
}

Prediction labelled(std::string label) {
  Prediction p;
  p.label = std::move(label);
  p.stage = Stage::model;
  p.probabilities = {0.25f, 0.75f};
  return p;
}

TEST(CacheStore, StaysWithinItsCapacityAndKeepsWhatIsUsed) {
  cache::Store c({CacheMode::exact, 64});
  constexpr std::uint64_t kOwner = 1;
  Prediction out;
  // A key used again and again survives a flood of keys seen once (CLOCK gives it a second chance).
  const cache::Key hot = cache::exact_key("hot", "");
  c.insert(kOwner, hot, labelled("Hot"));
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(c.lookup(kOwner, hot, out, false)) << "evicted after " << i << " cold keys";
    c.insert(kOwner, cache::exact_key("cold " + std::to_string(i), ""), labelled("Cold"));
    ASSERT_LE(c.stats().entries, 64u);
  }
  EXPECT_EQ(out.label, "Hot");
  EXPECT_TRUE(out.probabilities.empty());
  ASSERT_TRUE(c.lookup(kOwner, hot, out, true));
  EXPECT_EQ(out.probabilities, (std::vector<float>{0.25f, 0.75f}));
  EXPECT_EQ(c.stats().entries, 64u);
  // The most recent cold keys are there, the oldest are not.
  EXPECT_TRUE(c.lookup(kOwner, cache::exact_key("cold 9999", ""), out, false));
  EXPECT_FALSE(c.lookup(kOwner, cache::exact_key("cold 0", ""), out, false));
  const CacheStats s = c.stats();
  EXPECT_EQ(s.lookups, 10003u);
  EXPECT_EQ(s.hits, 10002u);
  c.clear();
  EXPECT_EQ(c.stats().entries, 0u);
  EXPECT_FALSE(c.lookup(kOwner, hot, out, false));
}

// Threads classifying through one cache with different classifiers: another thread may bind the cache to its
// classifier between this one's lookup and its insert. Whoever comes last, the shard holds one owner's
// answers, and a lookup never returns another owner's.
TEST(CacheStore, AnswersOfAnotherOwnerAreNeverReturned) {
  cache::Store c({CacheMode::exact, 1});  // one shard
  const cache::Key key = cache::exact_key("Disk full", "");
  Prediction out;
  c.bind(1);
  c.insert(1, key, labelled("First"));
  ASSERT_TRUE(c.lookup(1, key, out, false));
  EXPECT_EQ(out.label, "First");
  c.insert(2, key, labelled("Second"));  // without a bind to owner 2
  EXPECT_EQ(c.stats().entries, 1u);
  ASSERT_TRUE(c.lookup(2, key, out, false));
  EXPECT_EQ(out.label, "Second");
  EXPECT_FALSE(c.lookup(1, key, out, false));  // neither "Second" nor the "First" it replaced
  EXPECT_EQ(c.stats().entries, 0u);
}

std::vector<LogLine> as_lines(const std::vector<corpus::GeneratedLine>& rows) {
  std::vector<LogLine> lines;
  for (const auto& r : rows) lines.push_back({r.message, r.source});
  return lines;
}

void expect_same(const std::vector<Prediction>& a, const std::vector<Prediction>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].label, b[i].label) << i;
    EXPECT_EQ(a[i].stage, b[i].stage) << i;
    EXPECT_EQ(a[i].rule, b[i].rule) << i;
    EXPECT_DOUBLE_EQ(a[i].confidence, b[i].confidence) << i;
    EXPECT_EQ(a[i].probabilities, b[i].probabilities) << i;
  }
}

TEST(CachedClassify, ExactCacheChangesNothingEvenWhenTooSmall) {
  const Classifier classifier = Classifier::load_default();
  // 600 distinct lines, each three times, in a cache of 100: hits, misses and evictions all happen.
  auto rows = corpus::generate({600, 7});
  std::vector<corpus::GeneratedLine> repeated;
  for (int k = 0; k < 3; ++k) repeated.insert(repeated.end(), rows.begin(), rows.end());
  const auto lines = as_lines(repeated);
  for (const bool distribution : {false, true}) {
    MessageCache cache({CacheMode::exact, 100});
    std::vector<Prediction> cached;
    for (std::size_t start = 0; start < lines.size(); start += 64) {
      const auto part = std::span(lines).subspan(start, std::min<std::size_t>(64, lines.size() - start));
      auto p = classifier.classify_batch(part, cache, distribution);
      cached.insert(cached.end(), p.begin(), p.end());
    }
    expect_same(cached, classifier.classify_batch(lines, distribution));
    EXPECT_EQ(cache.stats().lookups, lines.size());
    EXPECT_LE(cache.stats().entries, 100u);
  }
  // Large enough: the second and third rounds are all hits.
  MessageCache big({CacheMode::exact, 10000});
  expect_same(classifier.classify_batch(lines, big), classifier.classify_batch(lines));
  EXPECT_EQ(big.stats().hits, lines.size() - big.stats().entries);
}

TEST(CachedClassify, TemplateCacheStillAppliesRulesToEveryLine) {
  const Classifier classifier = Classifier::load_default();
  CacheOptions options{CacheMode::template_key, 1000};
  options.template_min_confidence = 0;  // share every model answer
  MessageCache cache(options);
  // The default rules label "User User1 logged in." by rule; its template twin must not take a model
  // result, and model-stage lines with the same template share one result.
  const std::vector<LogLine> lines = {{"User User1 logged in.", ""},
                                      {"User User2 logged in.", ""},
                                      {"Disk quota at 91 percent on volume 7", ""},
                                      {"Disk quota at 45 percent on volume 2", ""}};
  const auto plain = classifier.classify_batch(lines);
  const auto cached = classifier.classify_batch(lines, cache);
  EXPECT_EQ(cached[0].stage, Stage::rule);
  EXPECT_EQ(cached[1].stage, Stage::rule);
  EXPECT_EQ(cached[0].label, plain[0].label);
  EXPECT_EQ(cached[2].label, plain[2].label);
  EXPECT_EQ(cached[3].label, cached[2].label);
  EXPECT_DOUBLE_EQ(cached[3].confidence, cached[2].confidence);
  EXPECT_EQ(cache.stats().lookups, 2u);  // only the lines no rule decided
  EXPECT_EQ(cache.stats().entries, 1u);
}

// An answer below template_min_confidence is not shared with the template's other lines: each of them is
// classified on its own (in the same batch and in later ones), so the cache changes none of those labels;
// the answer is kept under the line's exact key, so an exact repeat is still answered from the cache.
TEST(CachedClassify, TemplateCacheSharesOnlyConfidentAnswers) {
  const Classifier classifier = Classifier::load_default();
  // One template ("Disk quota exceeded on volume <*>"), three sets of character n-grams, one exact repeat.
  const std::vector<LogLine> lines = {{"Disk quota exceeded on volume cafe01", ""},
                                      {"Disk quota exceeded on volume beef99", ""},
                                      {"Disk quota exceeded on volume a1b2c3d4", ""},
                                      {"Disk quota exceeded on volume cafe01", ""}};
  const auto plain = classifier.classify_batch(lines);
  CacheOptions options{CacheMode::template_key, 1000};
  options.template_min_confidence = 1.01;  // no probability reaches it
  MessageCache strict(options);
  for (int round = 0; round < 2; ++round) {
    const auto cached = classifier.classify_batch(lines, strict);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      EXPECT_DOUBLE_EQ(cached[i].confidence, plain[i].confidence) << "round " << round << ", line " << i;
      EXPECT_EQ(cached[i].label, plain[i].label);
      EXPECT_TRUE(cached[i].probabilities.empty());
    }
  }
  EXPECT_EQ(strict.stats().entries, 3u);  // one exact entry per distinct line, none for the template
  EXPECT_EQ(strict.stats().lookups, 8u);  // a line is one lookup, whichever keys it took
  EXPECT_EQ(strict.stats().hits, 5u);     // round 1: the repeat; round 2: every line
  // At 0 every answer is shared: one entry, the other lines answered from it.
  options.template_min_confidence = 0;
  MessageCache shared(options);
  const auto cached = classifier.classify_batch(lines, shared);
  EXPECT_EQ(shared.stats().entries, 1u);
  EXPECT_EQ(shared.stats().hits, 3u);
  EXPECT_DOUBLE_EQ(cached[2].confidence, cached[0].confidence);
  EXPECT_NE(plain[2].confidence, plain[0].confidence) << "the lines must differ for the test to mean anything";
}

TEST(CachedClassify, ANewThresholdEmptiesTheCache) {
  Classifier classifier = Classifier::load_default();
  MessageCache cache({CacheMode::exact, 100});
  const std::vector<LogLine> lines = {{"Disk quota at 91 percent on volume 7", ""}};
  classifier.classify_batch(lines, cache);
  classifier.set_threshold(1.0);  // nothing reaches it: every model answer is Uncertain
  const auto cached = classifier.classify_batch(lines, cache);
  EXPECT_EQ(cached[0].label, kUncertainLabel);
  EXPECT_EQ(cache.stats().entries, 1u);
}

// A classifier allocated where a destroyed one was is another classifier all the same: the cache must not
// answer it with the first one's results. Thresholds 0 and 1 alternate, so every model answer differs.
TEST(CachedClassify, AClassifierWhereAFreedOneWasDoesNotTakeItsAnswers) {
  const auto rows = corpus::generate({200, 5});
  const auto lines = as_lines(rows);  // views into rows
  MessageCache cache({CacheMode::exact, 1000});
  std::set<const void*> addresses;
  constexpr int kRounds = 12;
  for (int round = 0; round < kRounds; ++round) {
    Classifier classifier = Classifier::load_default();
    classifier.set_threshold(round % 2 == 0 ? 0.0 : 1.0);  // gives it parts of its own, freed at the end
    addresses.insert(&classifier.labels());
    const auto plain = classifier.classify_batch(lines);
    SCOPED_TRACE("round " + std::to_string(round));
    expect_same(classifier.classify_batch(lines, cache), plain);
  }
  // The allocator reused the parts' memory: the case the test is about did happen.
#ifndef LOGCLF_SANITIZE  // AddressSanitizer quarantines freed memory, so addresses are not reused there
  EXPECT_LT(addresses.size(), static_cast<std::size_t>(kRounds));
#endif
}

TEST(CachedClassify, SharedByManyThreads) {
  const Classifier classifier = Classifier::load_default();
  const auto rows = corpus::generate({400, 3});
  const auto lines = as_lines(rows);
  const auto expected = classifier.classify_batch(lines);
  MessageCache cache({CacheMode::exact, 128});
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (std::size_t start = 0; start < lines.size(); start += 50) {
          const auto part = std::span(lines).subspan(start, 50);
          const auto got = classifier.classify_batch(part, cache);
          for (std::size_t k = 0; k < got.size(); ++k)
            mismatches[t] += got[k].label != expected[start + k].label || got[k].rule != expected[start + k].rule;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
  EXPECT_LE(cache.stats().entries, 128u);
}

TEST(CachedEvaluate, ExactCacheGivesTheSameReport) {
  const Classifier classifier = Classifier::load_default();
  std::vector<LabeledLine> data;
  for (const auto& r : corpus::generate({500, 11})) data.push_back({r.message, r.source, r.label});
  const std::vector<LabeledLine> once = data;
  for (int k = 0; k < 2; ++k) data.insert(data.end(), once.begin(), once.end());
  MessageCache cache({CacheMode::exact, 4096});
  const PipelineEvaluation plain = evaluate(classifier, data);
  const PipelineEvaluation cached = evaluate(classifier, data, &cache);
  EXPECT_EQ(plain.hybrid.json(), cached.hybrid.json());
  ASSERT_TRUE(plain.model && cached.model);
  EXPECT_EQ(plain.model->json(), cached.model->json());
  EXPECT_FALSE(plain.cache_mode.has_value());
  ASSERT_TRUE(cached.cache_mode.has_value());
  EXPECT_GE(cached.cache.hits, 1000u);
}

// The same through evaluate(), whose per-rule counts look up the rule each answer names: the classifiers
// alternate between the default rules and the same rules renamed, so an answer kept from the other one
// would name a rule this one lacks.
TEST(CachedEvaluate, AClassifierWhereAFreedOneWasDoesNotTakeItsAnswers) {
  const auto base = bundle::load_embedded(kLexicalEncoder, {});
  std::vector<Rule> renamed = base->rules.rules();
  for (Rule& rule : renamed) rule.name = "other-" + rule.name;
  std::vector<LabeledLine> data;
  for (const auto& r : corpus::generate({300, 13})) data.push_back({r.message, r.source, r.label});
  MessageCache cache({CacheMode::exact, 4096});
  std::set<const void*> addresses;
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    auto parts = std::make_shared<detail::ClassifierParts>(*base);
    if (round % 2 == 1) {
      parts->threshold = 1.0;
      parts->rules = RuleSet::from_rules(renamed);
    } else {
      parts->threshold = 0.0;
    }
    const Classifier classifier = detail::ClassifierAccess::make(std::move(parts));
    addresses.insert(&classifier.labels());
    const PipelineEvaluation plain = evaluate(classifier, data);
    const PipelineEvaluation cached = evaluate(classifier, data, &cache);
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_GT(plain.by_rule, 0u) << "rules must decide some lines for the test to mean anything";
    EXPECT_EQ(cached.hybrid.json(), plain.hybrid.json());
    EXPECT_EQ(cached.uncertain, plain.uncertain);
    ASSERT_EQ(cached.rules.size(), plain.rules.size());
    for (std::size_t r = 0; r < plain.rules.size(); ++r) {
      EXPECT_EQ(cached.rules[r].name, plain.rules[r].name);
      EXPECT_EQ(cached.rules[r].matched, plain.rules[r].matched) << plain.rules[r].name;
      EXPECT_EQ(cached.rules[r].correct, plain.rules[r].correct) << plain.rules[r].name;
    }
  }
#ifndef LOGCLF_SANITIZE  // AddressSanitizer quarantines freed memory, so addresses are not reused there
  EXPECT_LT(addresses.size(), static_cast<std::size_t>(kRounds));
#endif
}

// The template cache is coarser than the lexical encoder on purpose (logclf/cache.h): measured here on real
// logs, sharing every model answer (min confidence 0) changes none of the built-in model's labels.
TEST(CachedClassify, TemplateCacheKeepsTheLabelsOfRealLogs) {
  const Classifier classifier = Classifier::load_default();
  std::size_t files = 0, total_hits = 0;
  for (const char* name : {"Apache_2k.log", "HDFS_2k.log", "Linux_2k.log", "OpenSSH_2k.log", "OpenStack_2k.log"}) {
    const auto path = testing::shared_file(std::string("data/loghub/") + name);
    if (path.empty()) continue;
    ++files;
    ReadOptions ro;
    ro.format = Format::lines;
    std::vector<Record> records;
    const auto reader = RecordReader::open(path.string(), ro);
    for (Record r; reader->next(r);) records.push_back(r);
    std::vector<LogLine> lines;  // views into `records`
    for (const Record& r : records) lines.push_back({r.message, r.source});
    CacheOptions options{CacheMode::template_key, 1 << 16};
    options.template_min_confidence = 0;
    MessageCache cache(options);
    const auto plain = classifier.classify_batch(lines);
    const auto cached = classifier.classify_batch(lines, cache);
    ASSERT_EQ(plain.size(), cached.size());
    for (std::size_t i = 0; i < lines.size(); ++i)
      EXPECT_EQ(cached[i].label, plain[i].label) << name << " line " << i + 1 << ": " << lines[i].message;
    total_hits += cache.stats().hits;
  }
  if (files == 0) GTEST_SKIP() << "SKIPPED: ../shared/data/loghub is not there";
  EXPECT_GT(total_hits, 1000u) << "the template cache must answer many lines for the test to mean anything";
}

}  // namespace
}  // namespace logclf
