#include "encoder/e5/download.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/file.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "encoder/e5/model_files.h"
#include "io/atomic_file.h"
#include "logclf/io.h"
#include "logclf/types.h"

namespace logclf::encoder::e5 {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kDefaultEndpoint = "https://huggingface.co";

// e5-small-v2's weights as sentence-transformers saved them; used only when the server reports no sha256.
constexpr std::string_view kKnownRepo = "intfloat/e5-small-v2";
constexpr std::uint64_t kKnownWeightsSize = 133'462'128;
constexpr std::string_view kKnownWeightsSha256 = "a893d6c0af1de87e1694aaf84e3fd6925827750ca537256ffa98ed71f7c66da4";

enum class Need { required, optional, either_tokenizer };
struct WantedFile {
  const char* name;
  Need need;
};
// config.json first: its response names the commit the other files are then fetched at.
constexpr WantedFile kFiles[] = {
    {"config.json", Need::required},         {"vocab.txt", Need::either_tokenizer},
    {"tokenizer.json", Need::either_tokenizer}, {"tokenizer_config.json", Need::optional},
    {"special_tokens_map.json", Need::optional}, {"model.safetensors", Need::required},
};

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  const auto end = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(begin, end - begin + 1));
}

bool is_hex(std::string_view s, std::size_t length) {
  return s.size() == length && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c); });
}

// An ETag as a file name: without the weak marker and the quotes.
std::string normalize_etag(std::string etag) {
  if (etag.starts_with("W/")) etag.erase(0, 2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

std::optional<std::uint64_t> parse_size(const std::string& text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  return std::strtoull(text.c_str(), nullptr, 10);
}

std::uint64_t file_size_or_zero(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using HeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

// The status and headers (lowercased names) of the last response of a transfer; a redirect starts over.
struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* response = static_cast<Response*>(user);
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    response->headers.clear();
    const auto space = line.find(' ');
    const std::string code(line.substr(space == std::string_view::npos ? line.size() : space + 1, 3));
    response->status = std::strtol(code.c_str(), nullptr, 10);
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    response->headers[lower(std::string(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  return size * count;
}

CurlHandle new_handle(const std::string& url, const DownloadOptions& options, Response& response, char* error_buffer) {
  global_init();
  CurlHandle curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) throw Error("cannot initialise libcurl");
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_USERAGENT, ("logclf/" + std::string(version())).c_str());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_seconds);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options.low_speed_seconds);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  error_buffer[0] = '\0';
  return curl;
}

std::string curl_failure(CURLcode code, const char* error_buffer) {
  return std::string(curl_easy_strerror(code)) + (error_buffer[0] != '\0' ? std::string(" (") + error_buffer + ")" : "");
}

// An HTTP error as a message naming the URL and the file.
[[noreturn]] void http_error(long status, const std::string& url, const std::string& file) {
  std::string why;
  if (status == 401 || status == 403)
    why = "the repository does not exist, or it is private or gated and needs authentication";
  else if (status == 404)
    why = "not found";
  else if (status == 416)
    why = "the server refused to resume the partial download";
  else
    why = "unexpected response";
  throw Error(file + ": HTTP " + std::to_string(status) + " from " + url + ": " + why);
}

struct FileInfo {
  std::string commit;  // X-Repo-Commit, empty when absent
  std::string etag;
  std::optional<std::uint64_t> size;
};

// HEAD without following redirects to other hosts: Hugging Face answers an LFS file with a redirect to its
// CDN whose own headers would hide X-Linked-Etag / X-Linked-Size. Relative redirects (renamed
// repositories) are followed. Returns nullopt on 404.
std::optional<FileInfo> head(std::string url, const std::string& file, const DownloadOptions& options) {
  std::map<std::string, std::string> redirect_headers;  // of the relative redirects followed; later ones win
  for (int redirects = 0;; ++redirects) {
    Response response;
    char error_buffer[CURL_ERROR_SIZE];
    const CurlHandle curl = new_handle(url, options, response, error_buffer);
    curl_easy_setopt(curl.get(), CURLOPT_NOBODY, 1L);
    const CURLcode code = curl_easy_perform(curl.get());
    if (code != CURLE_OK) throw Error(file + ": cannot reach " + url + ": " + curl_failure(code, error_buffer));
    const long status = response.status;
    const std::string location = response.header("location");
    if (status >= 300 && status < 400 && location.starts_with("/") && redirects < 5) {
      char* next = nullptr;
      curl_easy_getinfo(curl.get(), CURLINFO_REDIRECT_URL, &next);
      if (next != nullptr) {
        url = next;
        response.headers.merge(redirect_headers);
        redirect_headers = std::move(response.headers);
        continue;
      }
    }
    if (status == 404) return std::nullopt;
    if (status < 200 || status >= 400) http_error(status, url, file);
    // The final response's headers, else those of a redirect on the way (the hub sets them on both).
    auto header = [&](const std::string& name) {
      std::string value = response.header(name);
      if (value.empty() && redirect_headers.contains(name)) value = redirect_headers[name];
      return value;
    };
    FileInfo info;
    info.commit = header("x-repo-commit");
    info.etag = normalize_etag(header("x-linked-etag"));
    if (info.etag.empty()) info.etag = normalize_etag(response.header("etag"));
    info.size = parse_size(header("x-linked-size"));
    if (!info.size && status < 300) info.size = parse_size(response.header("content-length"));
    if (info.etag.empty() || info.etag.find('/') != std::string::npos || info.etag.starts_with("."))
      throw Error(file + ": " + url + " gave no usable ETag to identify the file");
    return info;
  }
}

// Receives a GET's body into the partial file, or, for an error status, into a bounded buffer.
struct Sink {
  std::string partial;  // path of the partial file
  int fd = -1;
  Response* response = nullptr;
  std::uint64_t have = 0;  // bytes in the partial file
  bool started = false;
  std::string error_body;
  const DownloadOptions* options = nullptr;
  DownloadProgress progress;
  std::string write_error;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  const long status = sink->response->status;
  if (status != 200 && status != 206) {
    if (sink->error_body.size() < 4096) sink->error_body.append(data, std::min<std::size_t>(n, 4096));
    return n;
  }
  if (!sink->started) {
    sink->started = true;
    if (status == 200 && sink->have > 0) {  // the server ignored the Range: start over
      if (::ftruncate(sink->fd, 0) != 0) {
        sink->write_error = "cannot truncate '" + sink->partial + "': " + std::strerror(errno);
        return 0;
      }
      sink->have = 0;
    }
  }
  try {
    io::write_all(sink->fd, std::string_view(data, n), sink->partial);
  } catch (const Error& e) {
    sink->write_error = e.what();
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  sink->have += n;
  if (sink->options->progress) {
    sink->progress.done = sink->have;
    sink->options->progress(sink->progress);
  }
  return n;
}

enum class Outcome { complete, retry };

// One GET of `url` into `partial`, resuming from its current size. Throws Error for what a retry cannot
// fix (HTTP 4xx, local write errors); returns retry for network failures and 5xx.
Outcome fetch_once(const std::string& url, const std::string& file, const fs::path& partial,
                   const std::optional<std::uint64_t>& expected_size, const DownloadOptions& options,
                   std::string& last_failure) {
  Response response;
  char error_buffer[CURL_ERROR_SIZE];
  const CurlHandle curl = new_handle(url, options, response, error_buffer);
  Sink sink;
  sink.partial = partial.string();
  sink.fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (sink.fd < 0) throw Error("cannot write '" + partial.string() + "': " + std::strerror(errno));
  sink.response = &response;
  sink.have = file_size_or_zero(partial);
  sink.options = &options;
  sink.progress = {file, sink.have, expected_size.value_or(0)};
  const std::string range = std::to_string(sink.have) + "-";
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  if (sink.have > 0) curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  const CURLcode code = curl_easy_perform(c);
  const int close_result = ::close(sink.fd);
  if (!sink.write_error.empty()) throw Error(sink.write_error);
  if (close_result != 0) throw Error("cannot write '" + partial.string() + "': " + std::strerror(errno));
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (code != CURLE_OK) {
    last_failure = file + ": transfer from " + url + " failed after " + std::to_string(file_size_or_zero(partial)) +
                   " bytes: " + curl_failure(code, error_buffer);
    return Outcome::retry;
  }
  if (status == 416) {
    // The partial file does not fit what the server has (e.g. the file changed): start again.
    fs::remove(partial);
    last_failure = file + ": HTTP 416 from " + url + " when resuming";
    return Outcome::retry;
  }
  if (status >= 500) {
    last_failure = file + ": HTTP " + std::to_string(status) + " from " + url;
    return Outcome::retry;
  }
  if (status != 200 && status != 206) http_error(status, url, file);
  if (expected_size && file_size_or_zero(partial) < *expected_size) {
    last_failure = file + ": transfer from " + url + " ended after " + std::to_string(file_size_or_zero(partial)) +
                   " of " + std::to_string(*expected_size) + " bytes";
    return Outcome::retry;
  }
  return Outcome::complete;
}

void fsync_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open '" + path.string() + "': " + std::strerror(errno));
  const int result = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (result != 0) throw Error("cannot sync '" + path.string() + "': " + std::strerror(error));
}

// Downloads into blobs/<etag>.incomplete, verifies, then renames to blobs/<etag>.
void fetch_blob(const std::string& url, const std::string& file, const fs::path& blob, const FileInfo& info,
                const std::string& expected_sha256, const DownloadOptions& options) {
  const fs::path partial = blob.string() + ".incomplete";
  if (info.size && file_size_or_zero(partial) > *info.size) fs::remove(partial);
  std::string last_failure;
  // A partial file of the full size was interrupted between its transfer and its check.
  bool complete = info.size && fs::exists(partial) && file_size_or_zero(partial) == *info.size;
  for (int attempt = 1; attempt <= std::max(1, options.attempts) && !complete; ++attempt) {
    if (attempt > 1) std::this_thread::sleep_for(std::chrono::seconds(std::min(attempt - 1, 5)));
    complete = fetch_once(url, file, partial, info.size, options, last_failure) == Outcome::complete;
  }
  if (!complete) {
    const std::uint64_t have = file_size_or_zero(partial);
    throw Error(last_failure + (have > 0 ? "; the " + std::to_string(have) + " bytes received are kept in " +
                                               partial.string() + " and the next run resumes from there"
                                         : std::string()));
  }
  const std::uint64_t size = file_size_or_zero(partial);
  if (info.size && size != *info.size) {
    fs::remove(partial);
    throw Error(file + ": size mismatch for " + url + ": expected " + std::to_string(*info.size) + " bytes, got " +
                std::to_string(size) + "; the download was removed");
  }
  if (!expected_sha256.empty()) {
    const std::string got = sha256_file(partial.string());
    if (got != expected_sha256) {
      fs::remove(partial);
      throw Error(file + ": sha256 mismatch for " + url + ": expected " + expected_sha256 + ", got " + got +
                  "; the download was removed");
    }
  }
  fsync_file(partial);
  fs::rename(partial, blob);
}

// An exclusive lock on blobs/<etag>.lock (as Hugging Face's own tools take) for as long as it lives: two runs
// downloading into one cache would otherwise append to the same .incomplete file. flock, so the lock goes
// with the process if it dies; the lock file itself is left in place, as theirs is.
class BlobLock {
 public:
  explicit BlobLock(const fs::path& path) : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw Error("cannot create the lock file '" + path.string() + "': " + std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd_);
      throw Error("cannot lock '" + path.string() + "': " + std::strerror(error));
    }
  }
  ~BlobLock() { ::close(fd_); }
  BlobLock(const BlobLock&) = delete;
  BlobLock& operator=(const BlobLock&) = delete;

 private:
  int fd_;
};

// snapshots/<commit>/<file> -> ../../blobs/<etag>, replaced atomically when it exists.
void link_snapshot(const fs::path& snapshot, const std::string& file, const std::string& etag) {
  const fs::path link = snapshot / file;
  fs::create_directories(link.parent_path());
  std::string target;
  for (auto depth = std::distance(fs::path(file).begin(), fs::path(file).end()) + 1; depth > 0; --depth) target += "../";
  target += "blobs/" + etag;
  const fs::path temp = link.parent_path() / ("." + link.filename().string() + ".link.tmp");
  fs::remove(temp);
  fs::create_symlink(target, temp);
  fs::rename(temp, link);
}

std::string endpoint(const DownloadOptions& options) {
  std::string base = options.base_url;
  if (base.empty()) {
    const char* env = std::getenv("HF_ENDPOINT");
    base = env != nullptr && *env != '\0' ? env : std::string(kDefaultEndpoint);
  }
  while (base.ends_with('/')) base.pop_back();
  return base;
}

std::string escape(const std::string& text) {
  global_init();
  char* escaped = curl_easy_escape(nullptr, text.c_str(), static_cast<int>(text.size()));
  if (escaped == nullptr) throw Error("cannot escape '" + text + "'");
  std::string out = escaped;
  curl_free(escaped);
  return out;
}

}  // namespace

std::string sha256_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open '" + path + "': " + std::strerror(errno));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buffer(1 << 20);
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      throw Error("cannot read '" + path + "': " + std::strerror(error));
    }
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

std::string resolve_repo_id(const std::string& model) {
  if (model == "e5-small-v2") return std::string(kE5Repo);
  const auto slash = model.find('/');
  const bool owner_name = slash != std::string::npos && slash > 0 && slash + 1 < model.size() &&
                          model.find('/', slash + 1) == std::string::npos && model.find("..") == std::string::npos;
  if (owner_name) return model;
  throw Error("unknown model '" + model + "': use e5-small-v2 or a Hugging Face repository id OWNER/NAME");
}

DownloadResult download_model(const DownloadOptions& options) try {
  if (options.revision.empty() || options.revision.find("..") != std::string::npos)
    throw Error("invalid revision '" + options.revision + "'");
  const std::string base = endpoint(options);
  const fs::path repo_dir = hf_repo_cache_dir(options.cache_dir.empty() ? default_hf_cache_dir() : options.cache_dir,
                                              options.repo_id);
  const fs::path blobs = repo_dir / "blobs";
  fs::create_directories(blobs);

  DownloadResult result;
  std::string revision = options.revision;
  bool have_tokenizer = false;
  for (const WantedFile& wanted : kFiles) {
    const std::string file = wanted.name;
    const std::string url = base + "/" + options.repo_id + "/resolve/" + escape(revision) + "/" + file;
    const std::optional<FileInfo> info = head(url, file, options);
    if (!info) {
      if (wanted.need == Need::required) throw Error(file + ": not found at " + url + " (HTTP 404)");
      if (wanted.need == Need::either_tokenizer && file == "tokenizer.json" && !have_tokenizer)
        throw Error("neither vocab.txt nor tokenizer.json found at " + base + "/" + options.repo_id + "/resolve/" +
                    revision + "/ (HTTP 404)");
      result.absent.push_back(file);
      continue;
    }
    if (result.commit.empty()) {
      // Every file comes from the commit the first response names, even if the branch moves meanwhile.
      result.commit = info->commit.empty() ? options.revision : info->commit;
      if (!info->commit.empty()) revision = info->commit;
    }
    if (wanted.need == Need::either_tokenizer) have_tokenizer = true;

    std::string expected_sha256;
    if (is_hex(info->etag, 64)) {
      expected_sha256 = lower(info->etag);
    } else if (options.repo_id == kKnownRepo && file == "model.safetensors" &&
               (!info->size || *info->size == kKnownWeightsSize)) {
      expected_sha256 = kKnownWeightsSha256;
    }
    const fs::path blob = blobs / info->etag;
    // Held until the snapshot links the blob: a concurrent run finds it complete once it gets the lock.
    const BlobLock lock(blobs / (info->etag + ".lock"));
    if (fs::is_regular_file(blob) && (!info->size || fs::file_size(blob) == *info->size)) {
      result.cached.push_back(file);
    } else {
      fetch_blob(url, file, blob, *info, expected_sha256, options);
      result.downloaded.push_back(file);
    }
    link_snapshot(repo_dir / "snapshots" / result.commit, file, info->etag);
  }

  if (result.commit != options.revision) {
    const fs::path ref = repo_dir / "refs" / options.revision;
    fs::create_directories(ref.parent_path());
    write_file_atomic(ref.string(), result.commit);
  }
  result.snapshot_dir = (repo_dir / "snapshots" / result.commit).string();
  return result;
} catch (const fs::filesystem_error& e) {
  throw Error(std::string("model download: ") + e.what());
}

}  // namespace logclf::encoder::e5
