#include "bundle/bundle.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "embedded_files.h"
#include "encoder/e5/e5_encoder.h"
#include "encoder/lexical.h"
#include "io/regular_file.h"
#include "io/temp_path.h"
#include "logclf/io.h"
#include "logclf/types.h"

namespace logclf::bundle {
namespace fs = std::filesystem;
namespace {

template <typename T>
T field(const nlohmann::json& doc, const nlohmann::json::json_pointer& pointer, const std::string& where) {
  if (!doc.contains(pointer)) throw Error(where + ": missing field '" + pointer.to_string().substr(1) + "'");
  try {
    return doc.at(pointer).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(where + ": field '" + pointer.to_string().substr(1) + "' has the wrong type");
  }
}

}  // namespace

std::shared_ptr<detail::ClassifierParts> load(const FileReader& read, const std::string& where,
                                                const EncoderOptions& options) {
  const std::string meta_where = where + "/" + kMetadataFile;
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(read(kMetadataFile, FileSize(kMaxTextFileBytes)));
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(meta_where + ": invalid JSON: " + e.what());
  }
  using ptr = nlohmann::json::json_pointer;
  if (!meta.is_object() || meta.value("format", "") != "logclf-model")
    throw Error(meta_where + ": not a logclf model bundle (field 'format' is not \"logclf-model\")");
  const int version = field<int>(meta, ptr("/version"), meta_where);
  if (version != kFormatVersion)
    throw Error(meta_where + ": bundle format version " + std::to_string(version) +
                " is not supported (this logclf reads version " + std::to_string(kFormatVersion) + ")");

  auto parts = std::make_shared<detail::ClassifierParts>();
  parts->labels = field<std::vector<std::string>>(meta, ptr("/labels"), meta_where);
  if (parts->labels.size() < 2) throw Error(meta_where + ": a model needs at least two labels");
  if (std::set<std::string>(parts->labels.begin(), parts->labels.end()).size() != parts->labels.size())
    throw Error(meta_where + ": duplicate label in 'labels'");
  parts->threshold = field<double>(meta, ptr("/threshold"), meta_where);
  if (!(parts->threshold >= 0.0 && parts->threshold <= 1.0))
    throw Error(meta_where + ": 'threshold' must be between 0 and 1");

  const auto kind = field<std::string>(meta, ptr("/encoder/kind"), meta_where);
  if (!options.kind.empty() && options.kind != kind)
    throw Error(where + ": the model uses the " + kind + " encoder, not " + options.kind);
  if (!meta.contains(ptr("/encoder/params"))) throw Error(meta_where + ": missing field 'encoder/params'");
  if (kind == encoder::LexicalEncoder::kKind) {
    FileSize size(kMaxBinaryFileBytes);
    if (meta.contains(ptr("/encoder/params/features"))) {
      const auto features = field<std::uint64_t>(meta, ptr("/encoder/params/features"), meta_where);
      const auto exact = encoder::LexicalEncoder::vocabulary_size(features);
      if (!exact) throw Error(meta_where + ": 'encoder/params/features' is implausible");
      size = FileSize(kMaxBinaryFileBytes, *exact, "the metadata announces " + std::to_string(features) + " features");
    }
    parts->encoder_file = read(kEncoderFile, size);
    parts->encoder = std::make_shared<encoder::LexicalEncoder>(encoder::LexicalEncoder::load(
        meta.at(ptr("/encoder/params")), parts->encoder_file, where + "/" + kEncoderFile));
  } else if (kind == encoder::e5::E5Encoder::kKind) {
    const auto fingerprint = field<std::string>(meta, ptr("/encoder/params/fingerprint"), meta_where);
    const auto prefix = field<std::string>(meta, ptr("/encoder/params/prefix"), meta_where);
    auto e5 = encoder::e5::E5Encoder::open(options, prefix);
    if (e5->fingerprint() != fingerprint)
      throw Error(where + " was trained on E5 weights with fingerprint " + fingerprint + ", but the weights in " +
                  e5->dir() + " (" + e5->found_by() + ") have fingerprint " + e5->fingerprint() +
                  ": point --encoder-dir at the weights the model was trained with, or train it again");
    parts->encoder = std::move(e5);
  } else {
    throw Error(meta_where + ": encoder kind '" + kind + "' is not supported by this logclf");
  }

  const auto classes = field<std::uint64_t>(meta, ptr("/head/classes"), meta_where);
  const auto features = field<std::uint64_t>(meta, ptr("/head/features"), meta_where);
  const auto head_size = head::LogisticRegression::file_size(classes, features);
  if (!head_size)
    throw Error(meta_where + ": a head of " + std::to_string(classes) + " classes x " + std::to_string(features) +
                " features is implausible");
  const std::string head_file =
      read(kHeadFile, FileSize(kMaxBinaryFileBytes, *head_size,
                               "the metadata announces " + std::to_string(classes) + " classes x " +
                                   std::to_string(features) + " features"));
  parts->head = head::LogisticRegression::load(head_file, where + "/" + kHeadFile);
  if (static_cast<std::size_t>(parts->head.classes()) != parts->labels.size())
    throw Error(where + "/" + kHeadFile + ": head has " + std::to_string(parts->head.classes()) +
                " classes but the bundle lists " + std::to_string(parts->labels.size()) + " labels");
  if (parts->head.dim() != parts->encoder->dim())
    throw Error(where + "/" + kHeadFile + ": head expects " + std::to_string(parts->head.dim()) +
                " features but the encoder gives " + std::to_string(parts->encoder->dim()));

  parts->rules = RuleSet::parse(read(kRulesFile, FileSize(kMaxTextFileBytes)), where + "/" + kRulesFile);
  parts->metadata = std::move(meta);
  return parts;
}

std::shared_ptr<detail::ClassifierParts> load_directory(const std::string& dir, const EncoderOptions& options) {
  if (!fs::is_directory(dir))
    throw Error("model directory '" + dir + "' does not exist (train one with 'logclf train')");
  const std::string where = "model bundle '" + dir + "'";
  const auto read = [&](const std::string& name, const FileSize& size) {
    return io::read_regular_file((fs::path(dir) / name).string(), size, where, name);
  };
  return load(read, dir, options);
}

namespace {

// The built-in bundle for an encoder kind: models/default holds the lexical one.
const char* builtin_dir(std::string_view encoder_kind) {
  return encoder_kind == kE5Encoder ? "e5-small-v2" : "default";
}

std::string builtin_where(std::string_view encoder_kind) {
  return encoder_kind == kE5Encoder ? "<built-in e5-small-v2 model>" : "<built-in default model>";
}

FileReader embedded_reader(std::string_view encoder_kind) {
  const std::string model = builtin_dir(encoder_kind);
  bool present = false;
  for (const embedded::File& f : embedded::kFiles)
    if (model == f.model && std::string_view(f.name) == kMetadataFile) present = f.begin != f.end;
  if (!present)
    throw Error("this logclf was built without a built-in " + std::string(encoder_kind) +
                " model: pass -m MODEL_DIR, or build it with scripts/build-" +
                (encoder_kind == kE5Encoder ? "e5" : "default") + "-model.sh and rebuild");
  // The files were put into the binary by its build: their size is not checked again (the head's and the
  // encoder's own loaders still check theirs).
  return [model, encoder_kind](const std::string& name, const FileSize&) {
    for (const embedded::File& f : embedded::kFiles)
      if (model == f.model && name == f.name) return std::string(f.begin, f.end);
    throw Error(builtin_where(encoder_kind) + " has no file " + name);
  };
}

}  // namespace

std::shared_ptr<detail::ClassifierParts> load_embedded(std::string_view encoder_kind, const EncoderOptions& options) {
  return load(embedded_reader(encoder_kind), builtin_where(encoder_kind), options);
}

std::string embedded_metadata(std::string_view encoder_kind) {
  return embedded_reader(encoder_kind)(kMetadataFile, FileSize(kMaxTextFileBytes));
}

nlohmann::json metadata_document(const detail::ClassifierParts& parts) {
  nlohmann::json doc = parts.metadata;
  doc["format"] = "logclf-model";
  doc["version"] = kFormatVersion;
  doc["labels"] = parts.labels;
  doc["threshold"] = parts.threshold;
  doc["encoder"]["kind"] = std::string(parts.encoder->kind());
  if (parts.encoder->kind() == encoder::LexicalEncoder::kKind)
    doc["encoder"]["file"] = kEncoderFile;
  else
    doc["encoder"].erase("file");
  doc["head"]["kind"] = "logistic-regression";
  doc["head"]["file"] = kHeadFile;
  doc["head"]["classes"] = parts.head.classes();
  doc["head"]["features"] = parts.head.dim();
  doc["rules"]["file"] = kRulesFile;
  doc["rules"]["count"] = parts.rules.size();
  return doc;
}

void save_directory(const detail::ClassifierParts& parts, const std::string& dir) {
  const fs::path target = fs::absolute(fs::path(dir).lexically_normal());
  const fs::path parent = target.has_filename() ? target.parent_path() : target.parent_path().parent_path();
  const fs::path final_path = target.has_filename() ? target : target.parent_path();
  if (fs::exists(final_path)) {
    if (!fs::is_directory(final_path)) throw Error("'" + dir + "' exists and is not a directory");
    if (!fs::is_empty(final_path) && !fs::exists(final_path / kMetadataFile))
      throw Error("refusing to replace '" + dir + "': it is not empty and holds no logclf model");
  }
  std::error_code ec;
  fs::create_directories(parent, ec);
  // A temporary directory beside the target (io/temp_path.h: a stale one of a killed run is removed by the
  // next save), registered so that SIGINT / SIGTERM remove it too.
  const io::TempPath temp_dir = io::create_temp_directory((parent / final_path.filename()).string());
  const fs::path temp = temp_dir.path;
  const int slot = io::register_pending(temp_dir.path, /*directory=*/true);
  const auto clean_up = [&] {
    fs::remove_all(temp, ec);
    io::unregister_pending(slot);
    ::close(temp_dir.fd);
  };
  try {
    write_file_atomic((temp / kMetadataFile).string(), metadata_document(parts).dump(2) + "\n");
    write_file_atomic((temp / kRulesFile).string(), parts.rules.text());
    if (parts.encoder->kind() == encoder::LexicalEncoder::kKind)
      write_file_atomic((temp / kEncoderFile).string(), parts.encoder_file);
    write_file_atomic((temp / kHeadFile).string(), parts.head.serialize());
    fs::permissions(temp, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
    if (fs::exists(final_path)) {
      // Swap the new bundle in with one atomic step, then delete the old one now at the temporary name.
      if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, final_path.c_str(), RENAME_EXCHANGE) != 0)
        throw Error("cannot replace '" + dir + "': " + std::strerror(errno));
    } else if (::rename(temp.c_str(), final_path.c_str()) != 0) {
      throw Error("cannot create '" + dir + "': " + std::strerror(errno));
    }
  } catch (...) {
    clean_up();
    throw;
  }
  clean_up();
}

}  // namespace logclf::bundle
