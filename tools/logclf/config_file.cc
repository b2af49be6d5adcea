#include "config_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string_view>

namespace logclf::cli {
namespace {

// One option's values from the file, and where they are (for errors).
struct Setting {
  std::string name;
  std::vector<std::string> values;
  std::string at;  // "FILE:LINE"
};

struct Parsed {
  std::vector<Setting> settings;
  std::vector<ConfigSection> sections;
};

ConfigSection* find_section(std::vector<ConfigSection>& sections, std::string_view name) {
  for (ConfigSection& s : sections)
    if (s.name == name) return &s;
  return nullptr;
}

std::string section_names(const std::vector<ConfigSection>& sections) {
  std::string names;
  for (const ConfigSection& s : sections) names += (names.empty() ? "" : ", ") + s.name;
  return names.empty() ? "none" : names;
}

std::string scalar_text(const YAML::Node& node) {
  if (node.IsNull()) throw std::invalid_argument("has no value");  // `port:` or `port: ~`
  return node.Scalar();
}

Parsed parse_yaml(const std::string& path, const std::string& text, std::vector<ConfigSection> sections) {
  Parsed parsed;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw UsageError(path + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  if (root.IsNull()) return {{}, std::move(sections)};
  if (!root.IsMap()) throw UsageError(path + ": expected a mapping of option names to values");
  for (const auto& item : root) {
    const std::string at = path + ":" + std::to_string(item.first.Mark().line + 1);
    const std::string name = item.first.Scalar();
    const YAML::Node& value = item.second;
    try {
      if (value.IsMap()) {
        ConfigSection* section = find_section(sections, name);
        if (section == nullptr)
          throw UsageError(at + ": '" + name + "' holds a mapping, but only these sections may: " +
                           section_names(sections));
        for (const auto& entry : value) {
          if (!entry.second.IsScalar())
            throw UsageError(path + ":" + std::to_string(entry.first.Mark().line + 1) + ": " + name + "." +
                             entry.first.Scalar() + ": expected a single value");
          section->entries.push_back(entry.first.Scalar() + "=" + scalar_text(entry.second));
        }
        continue;
      }
      Setting& s = parsed.settings.emplace_back(Setting{name, {}, at});
      if (value.IsSequence()) {
        for (const auto& element : value) {
          if (!element.IsScalar()) throw UsageError(at + ": " + name + ": expected a list of single values");
          s.values.push_back(scalar_text(element));
        }
      } else {
        s.values.push_back(scalar_text(value));
      }
    } catch (const std::invalid_argument& e) {
      throw UsageError(at + ": " + name + " " + e.what());
    }
  }
  parsed.sections = std::move(sections);
  return parsed;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// TOML's key/value lines and tables, the subset a flat list of options needs: `name = value` with bare,
// "double-quoted" or 'single-quoted' values, and `[section]` headers. Written here because Debian's only
// C++ TOML library (cpptoml) is unmaintained; YAML files go to yaml-cpp.
Parsed parse_key_values(const std::string& path, const std::string& text, std::vector<ConfigSection> sections) {
  Parsed parsed;
  ConfigSection* section = nullptr;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string at = path + ":" + std::to_string(number);
    std::string_view content = trim(line);
    if (content.empty() || content.front() == '#') continue;
    if (content.front() == '[') {
      const std::string_view header = trim(content.substr(0, content.find('#')));
      if (header.back() != ']') throw UsageError(at + ": expected [section]");
      const std::string name(trim(header.substr(1, header.size() - 2)));
      section = find_section(sections, name);
      if (section == nullptr)
        throw UsageError(at + ": unknown section [" + name + "] (sections: " + section_names(sections) + ")");
      continue;
    }
    const auto eq = content.find('=');
    if (eq == std::string_view::npos) throw UsageError(at + ": expected name = value");
    const std::string name(trim(content.substr(0, eq)));
    std::string_view value = trim(content.substr(eq + 1));
    if (!value.empty() && (value.front() == '"' || value.front() == '\'')) {
      const auto close = value.find(value.front(), 1);
      if (close == std::string_view::npos) throw UsageError(at + ": " + name + ": unterminated quoted value");
      const std::string_view rest = trim(value.substr(close + 1));
      if (!rest.empty() && rest.front() != '#') throw UsageError(at + ": " + name + ": text after the quoted value");
      value = value.substr(1, close - 1);
    } else {
      value = trim(value.substr(0, value.find('#')));
      if (value.empty()) throw UsageError(at + ": " + name + " has no value");
    }
    if (section != nullptr)
      section->entries.push_back(name + "=" + std::string(value));
    else
      parsed.settings.push_back({name, {std::string(value)}, at});
  }
  parsed.sections = std::move(sections);
  return parsed;
}

// "unknown option 'x' of logclf serve", with the closest option name when one is near enough to be a typo.
std::string unknown_option(const CLI::App& cmd, const std::string& name) {
  std::string closest;
  std::size_t closest_distance = std::string::npos;
  for (const CLI::Option* option : cmd.get_options()) {
    for (const std::string& candidate : option->get_lnames()) {
      if (candidate == "config" || candidate == "help") continue;
      const std::size_t distance = edit_distance(name, candidate);
      if (distance < closest_distance) closest_distance = distance, closest = candidate;
    }
  }
  std::string message = "'" + name + "' is no option of logclf " + cmd.get_name();
  if (closest_distance <= std::max<std::size_t>(2, closest.size() / 3)) message += "; did you mean '" + closest + "'?";
  return message;
}

}  // namespace

void apply_config_file(CLI::App& cmd, const std::string& path, std::vector<ConfigSection>& sections) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read the config file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  apply_config_text(cmd, path, text.str(), sections);
}

void apply_config_text(CLI::App& cmd, const std::string& path, const std::string& text,
                       std::vector<ConfigSection>& sections) {
  const bool yaml = path.ends_with(".yaml") || path.ends_with(".yml");
  Parsed parsed = yaml ? parse_yaml(path, text, sections) : parse_key_values(path, text, sections);
  for (Setting& s : parsed.settings) {
    std::string name = s.name;
    std::replace(name.begin(), name.end(), '_', '-');
    CLI::Option* option = name == "config" || name == "help" ? nullptr : cmd.get_option_no_throw("--" + name);
    if (option == nullptr) throw UsageError(s.at + ": " + unknown_option(cmd, name));
    if (option->count() > 0) continue;  // the command line wins
    if (s.values.size() > 1 && option->get_items_expected_max() <= 1)
      throw UsageError(s.at + ": " + name + " takes one value, not a list");
    try {
      for (std::string& value : s.values) option->add_result(value);
      option->run_callback();
    } catch (const CLI::Error& e) {
      const std::string what = e.what();
      throw UsageError(s.at + ": " + (what.find("--" + name) == std::string::npos ? name + ": " : "") + what);
    }
  }
  sections = std::move(parsed.sections);
}

}  // namespace logclf::cli
