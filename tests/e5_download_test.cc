#include "encoder/e5/download.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "encoder/e5/model_files.h"
#include "logclf/types.h"
#include "support/env.h"
#include "support/paths.h"
#include "support/run.h"

namespace logclf::encoder::e5 {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

using testing::ScopedEnv;

std::string hex_digest(const EVP_MD* md, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, md, nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

const char* const kFiles[] = {"config.json", "model.safetensors", "vocab.txt", "tokenizer.json",
                              "tokenizer_config.json", "special_tokens_map.json"};

// A stand-in for huggingface.co: /OWNER/NAME/resolve/REV/FILE answers like the hub (X-Repo-Commit, ETag;
// for LFS files a redirect to /cdn/FILE with X-Linked-Etag and X-Linked-Size), /cdn/FILE serves the
// bytes with Range support. It can cut the first CDN transfer short or report a wrong sha256.
class FakeHub {
 public:
  struct Seen {
    std::string method, path, range;
  };

  explicit FakeHub(const fs::path& model_dir) {
    for (const char* name : kFiles) files_[name] = testing::read_text(model_dir / name);
    server_.Get(R"(/([^/]+/[^/]+)/resolve/([^/]+)/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      resolve(req.matches[1], req.matches[3], res);
    });
    server_.Get(R"(/cdn/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      serve(req.matches[1], res);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeHub() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& content(const std::string& name) const { return files_.at(name); }
  void remove(const std::string& name) { files_.erase(name); }
  void set_wrong_sha(std::string sha) { wrong_sha_ = std::move(sha); }
  void cut_first_transfer_after(std::size_t bytes) { cut_after_ = bytes; }
  void send_commit(bool send) { send_commit_ = send; }
  // A pause before each piece of a CDN transfer.
  void slow_down(std::chrono::milliseconds pause) { pause_ = pause; }
  std::vector<Seen> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  int gets() {
    int n = 0;
    for (const Seen& s : seen()) n += s.method == "GET";
    return n;
  }

  static constexpr const char* kCommit = "0123456789abcdef0123456789abcdef01234567";

 private:
  void record(const httplib::Request& req) {
    std::lock_guard lock(mutex_);
    seen_.push_back({req.method, req.path, req.get_header_value("Range")});
  }

  void resolve(const std::string& repo, const std::string& name, httplib::Response& res) {
    if (repo != "intfloat/e5-small-v2") {
      res.status = 401;  // what the hub answers for a repository that does not exist
      return;
    }
    const auto it = files_.find(name);
    if (it == files_.end()) {
      res.status = 404;
      res.set_header("X-Error-Code", "EntryNotFound");
      return;
    }
    if (send_commit_) res.set_header("X-Repo-Commit", kCommit);
    if (name == "model.safetensors") {
      const std::string sha = wrong_sha_.empty() ? hex_digest(EVP_sha256(), it->second) : wrong_sha_;
      res.set_header("X-Linked-Etag", "\"" + sha + "\"");
      res.set_header("X-Linked-Size", std::to_string(it->second.size()));
      res.set_redirect(url() + "/cdn/" + name, 302);
      return;
    }
    // The git blob id, as the hub's ETag of a regular file.
    const std::string blob = "blob " + std::to_string(it->second.size()) + std::string(1, '\0') + it->second;
    res.set_header("ETag", "\"" + hex_digest(EVP_sha1(), blob) + "\"");
    provide(it->second, res, false);
  }

  void serve(const std::string& name, httplib::Response& res) {
    const auto it = files_.find(name);
    if (it == files_.end()) {
      res.status = 404;
      return;
    }
    bool cut = false;
    {
      std::lock_guard lock(mutex_);
      cut = cut_after_ > 0 && !cut_done_;
      cut_done_ = cut_done_ || cut;
    }
    provide(it->second, res, cut, pause_);
  }

  // httplib applies the request's Range to a provider of known length and answers 206.
  void provide(const std::string& data, httplib::Response& res, bool cut,
               std::chrono::milliseconds pause = std::chrono::milliseconds(0)) {
    auto sent = std::make_shared<std::size_t>(0);
    const std::size_t limit = cut ? cut_after_ : data.size();
    res.set_content_provider(data.size(), "application/octet-stream",
                             [&data, sent, limit, pause](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                               if (*sent >= limit) return false;  // drops the connection mid-transfer
                               std::this_thread::sleep_for(pause);
                               const std::size_t n = std::min({length, std::size_t{65536}, limit - *sent});
                               sink.write(data.data() + offset, n);
                               *sent += n;
                               return true;
                             });
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::map<std::string, std::string> files_;
  std::string wrong_sha_;
  std::size_t cut_after_ = 0;
  bool cut_done_ = false;
  bool send_commit_ = true;
  std::chrono::milliseconds pause_{0};
  std::mutex mutex_;
  std::vector<Seen> seen_;
};

fs::path tiny_bert() { return testing::shared_file("golden/tiny-bert/model.safetensors").parent_path(); }

#define REQUIRE_TINY_BERT() \
  if (testing::shared_file("golden/tiny-bert/model.safetensors").empty()) \
  GTEST_SKIP() << "SKIPPED: ../shared/golden/tiny-bert is absent"

struct Fixture {
  TempDir temp;
  FakeHub hub{tiny_bert()};
  std::string cache() const { return temp / "hub"; }
  fs::path repo() const { return fs::path(cache()) / "models--intfloat--e5-small-v2"; }
  DownloadOptions options() const {
    DownloadOptions o;
    o.base_url = hub.url();
    o.cache_dir = cache();
    o.attempts = 1;
    o.connect_timeout_seconds = 5;
    o.low_speed_seconds = 5;
    return o;
  }
};

std::string download_error(const DownloadOptions& options) {
  try {
    download_model(options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<fs::path> files_named(const fs::path& dir, const std::string& suffix) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().string().ends_with(suffix)) out.push_back(e.path());
  return out;
}

TEST(E5Download, Sha256OfAKnownText) {
  TempDir dir;
  std::ofstream(dir / "abc") << "abc";
  EXPECT_EQ(sha256_file(dir / "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(resolve_repo_id("e5-small-v2"), "intfloat/e5-small-v2");
  EXPECT_EQ(resolve_repo_id("someone/model"), "someone/model");
  EXPECT_THROW(resolve_repo_id("e5"), Error);
  EXPECT_THROW(resolve_repo_id("a/b/c"), Error);
}

TEST(E5Download, FullDownloadLandsInTheHuggingFaceCacheLayout) {
  REQUIRE_TINY_BERT();
  Fixture f;
  DownloadOptions options = f.options();
  std::map<std::string, DownloadProgress> last;
  options.progress = [&](const DownloadProgress& p) { last[p.file] = p; };
  const DownloadResult result = download_model(options);
  EXPECT_EQ(result.commit, FakeHub::kCommit);
  EXPECT_EQ(result.downloaded.size(), 6u);
  EXPECT_TRUE(result.cached.empty());
  EXPECT_TRUE(result.absent.empty());
  const fs::path snapshot = f.repo() / "snapshots" / FakeHub::kCommit;
  EXPECT_EQ(result.snapshot_dir, snapshot.string());
  for (const char* name : kFiles) {
    EXPECT_EQ(testing::read_text(snapshot / name), f.hub.content(name)) << name;
    ASSERT_TRUE(fs::is_symlink(snapshot / name)) << name;
    EXPECT_TRUE(fs::read_symlink(snapshot / name).string().starts_with("../../blobs/")) << name;
  }
  // LFS blobs are named by their sha256.
  const std::string sha = hex_digest(EVP_sha256(), f.hub.content("model.safetensors"));
  EXPECT_EQ(fs::read_symlink(snapshot / "model.safetensors").string(), "../../blobs/" + sha);
  EXPECT_EQ(testing::read_text(f.repo() / "refs" / "main"), FakeHub::kCommit);
  EXPECT_TRUE(files_named(f.repo(), ".incomplete").empty());
  EXPECT_EQ(last["model.safetensors"].done, f.hub.content("model.safetensors").size());
  EXPECT_EQ(last["model.safetensors"].total, f.hub.content("model.safetensors").size());
  // The weights came through the CDN redirect.
  bool via_cdn = false;
  for (const auto& s : f.hub.seen()) via_cdn |= s.method == "GET" && s.path == "/cdn/model.safetensors";
  EXPECT_TRUE(via_cdn);

  // locate_model finds it where Hugging Face tools would.
  {
    const ScopedEnv e5("LOGCLF_E5_DIR", std::nullopt);
    const ScopedEnv hub("HF_HUB_CACHE", f.cache());
    const ModelLocation found = locate_model("");
    EXPECT_EQ(found.dir, snapshot.string());
    EXPECT_EQ(found.found_by, "Hugging Face cache (refs/main)");
  }

  // A second run downloads nothing.
  const int gets = f.hub.gets();
  const DownloadResult again = download_model(f.options());
  EXPECT_TRUE(again.downloaded.empty());
  EXPECT_EQ(again.cached.size(), 6u);
  EXPECT_EQ(f.hub.gets(), gets);  // HEAD requests only
}

TEST(E5Download, InterruptedTransferResumesWithARangeRequest) {
  REQUIRE_TINY_BERT();
  Fixture f;
  const std::size_t cut = 1'000'000;
  f.hub.cut_first_transfer_after(cut);
  const std::string message = download_error(f.options());
  EXPECT_NE(message.find("model.safetensors: transfer from " + f.hub.url()), std::string::npos) << message;
  EXPECT_NE(message.find("the next run resumes"), std::string::npos) << message;
  const auto partial = files_named(f.repo() / "blobs", ".incomplete");
  ASSERT_EQ(partial.size(), 1u);
  const auto kept = fs::file_size(partial[0]);
  EXPECT_GT(kept, 0u);
  EXPECT_LE(kept, cut);
  EXPECT_FALSE(fs::exists(f.repo() / "snapshots" / FakeHub::kCommit / "model.safetensors"));

  const DownloadResult result = download_model(f.options());
  EXPECT_EQ(result.downloaded, std::vector<std::string>{"model.safetensors"});
  std::vector<std::string> ranges;  // of the transfers from the CDN (the redirecting request carries it too)
  for (const auto& s : f.hub.seen())
    if (s.path.starts_with("/cdn/") && !s.range.empty()) ranges.push_back(s.range);
  EXPECT_EQ(ranges, std::vector<std::string>{"bytes=" + std::to_string(kept) + "-"});
  EXPECT_EQ(testing::read_text(fs::path(result.snapshot_dir) / "model.safetensors"),
            f.hub.content("model.safetensors"));
  EXPECT_TRUE(files_named(f.repo(), ".incomplete").empty());
}

TEST(E5Download, ConcurrentRunsIntoOneCacheFetchEachFileOnce) {
  REQUIRE_TINY_BERT();
  Fixture f;
  // The weights come slowly, so that the second run arrives while the first is still writing them.
  f.hub.slow_down(std::chrono::milliseconds(20));
  std::vector<DownloadResult> results(2);
  std::vector<std::string> errors(2);
  std::vector<std::thread> runs;
  for (std::size_t i = 0; i < 2; ++i)
    runs.emplace_back([&, i] {
      try {
        results[i] = download_model(f.options());
      } catch (const Error& e) {
        errors[i] = e.what();
      }
    });
  for (std::thread& t : runs) t.join();
  for (std::size_t i = 0; i < 2; ++i) {
    ASSERT_EQ(errors[i], "") << "run " << i;
    EXPECT_EQ(testing::read_text(fs::path(results[i].snapshot_dir) / "model.safetensors"),
              f.hub.content("model.safetensors"));
  }
  // Each file was downloaded by one run and found in the cache by the other.
  EXPECT_EQ(results[0].downloaded.size() + results[1].downloaded.size(), 6u);
  EXPECT_EQ(results[0].cached.size() + results[1].cached.size(), 6u);
  int weight_transfers = 0;
  for (const auto& s : f.hub.seen()) weight_transfers += s.method == "GET" && s.path == "/cdn/model.safetensors";
  EXPECT_EQ(weight_transfers, 1);
  EXPECT_TRUE(files_named(f.repo(), ".incomplete").empty());
}

TEST(E5Download, AFullPartialFileIsCheckedNotFetchedAgain) {
  REQUIRE_TINY_BERT();
  Fixture f;
  const std::string& weights = f.hub.content("model.safetensors");
  const std::string sha = hex_digest(EVP_sha256(), weights);
  fs::create_directories(f.repo() / "blobs");
  std::ofstream(f.repo() / "blobs" / (sha + ".incomplete"), std::ios::binary) << weights;
  const DownloadResult result = download_model(f.options());
  EXPECT_EQ(testing::read_text(fs::path(result.snapshot_dir) / "model.safetensors"), weights);
  for (const auto& s : f.hub.seen()) EXPECT_FALSE(s.method == "GET" && s.path.starts_with("/cdn/")) << s.path;
}

TEST(E5Download, RetriesWithinARun) {
  REQUIRE_TINY_BERT();
  Fixture f;
  f.hub.cut_first_transfer_after(300'000);
  DownloadOptions options = f.options();
  options.attempts = 2;
  const DownloadResult result = download_model(options);
  EXPECT_EQ(testing::read_text(fs::path(result.snapshot_dir) / "model.safetensors"),
            f.hub.content("model.safetensors"));
  int ranged = 0;
  for (const auto& s : f.hub.seen()) ranged += s.path.starts_with("/cdn/") && !s.range.empty();
  EXPECT_EQ(ranged, 1);
}

TEST(E5Download, ChecksumMismatchLeavesNoFile) {
  REQUIRE_TINY_BERT();
  Fixture f;
  const std::string wrong(64, 'a');
  f.hub.set_wrong_sha(wrong);
  const std::string message = download_error(f.options());
  const std::string real = hex_digest(EVP_sha256(), f.hub.content("model.safetensors"));
  EXPECT_NE(message.find("model.safetensors: sha256 mismatch"), std::string::npos) << message;
  EXPECT_NE(message.find("expected " + wrong + ", got " + real), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(f.repo() / "blobs" / wrong));
  EXPECT_TRUE(files_named(f.repo(), ".incomplete").empty());
  EXPECT_FALSE(fs::exists(f.repo() / "snapshots" / FakeHub::kCommit / "model.safetensors"));
}

TEST(E5Download, MissingRequiredFilesAreNamed) {
  REQUIRE_TINY_BERT();
  {
    Fixture f;
    f.hub.remove("model.safetensors");
    const std::string message = download_error(f.options());
    EXPECT_NE(message.find("model.safetensors: not found at " + f.hub.url() +
                           "/intfloat/e5-small-v2/resolve/" + FakeHub::kCommit + "/model.safetensors"),
              std::string::npos)
        << message;
  }
  {
    Fixture f;
    f.hub.remove("config.json");
    const std::string message = download_error(f.options());
    EXPECT_NE(message.find("config.json: not found at " + f.hub.url() + "/intfloat/e5-small-v2/resolve/main/config.json"),
              std::string::npos)
        << message;
  }
  {
    Fixture f;
    f.hub.remove("vocab.txt");
    f.hub.remove("tokenizer.json");
    EXPECT_NE(download_error(f.options()).find("neither vocab.txt nor tokenizer.json"), std::string::npos);
  }
  {
    Fixture f;
    DownloadOptions options = f.options();
    options.repo_id = "nobody/nothing";
    const std::string message = download_error(options);
    EXPECT_NE(message.find("config.json: HTTP 401 from " + f.hub.url() + "/nobody/nothing/resolve/main/config.json"),
              std::string::npos)
        << message;
  }
}

TEST(E5Download, OptionalFilesMayBeAbsent) {
  REQUIRE_TINY_BERT();
  Fixture f;
  f.hub.remove("vocab.txt");
  f.hub.remove("tokenizer_config.json");
  f.hub.remove("special_tokens_map.json");
  f.hub.send_commit(false);  // then the revision names the snapshot
  const DownloadResult result = download_model(f.options());
  EXPECT_EQ(result.commit, "main");
  EXPECT_EQ(result.absent, (std::vector<std::string>{"vocab.txt", "tokenizer_config.json", "special_tokens_map.json"}));
  EXPECT_TRUE(missing_model_files(result.snapshot_dir).empty());
  EXPECT_EQ(testing::read_text(fs::path(result.snapshot_dir) / "tokenizer.json"), f.hub.content("tokenizer.json"));
  EXPECT_FALSE(fs::exists(f.repo() / "refs" / "main"));
}

TEST(E5Download, NetworkFailureNamesTheUrl) {
  // A port that was free a moment ago: nothing listens there.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ::close(fd);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  TempDir temp;
  DownloadOptions options;
  options.base_url = url;
  options.cache_dir = temp / "hub";
  options.attempts = 1;
  const std::string message = download_error(options);
  EXPECT_NE(message.find("config.json: cannot reach " + url + "/intfloat/e5-small-v2/resolve/main/config.json"),
            std::string::npos)
      << message;
}

}  // namespace
}  // namespace logclf::encoder::e5
