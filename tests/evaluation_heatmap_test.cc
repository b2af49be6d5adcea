// The heatmap is checked by reading the PNG back: the matrix is located by its blue-tinted cells, then
// cell shading, text and margins are inspected.
#include <cairo.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "logclf/evaluation.h"
#include "logclf/types.h"
#include "support/run.h"

namespace logclf {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

struct Pixel {
  int r, g, b;
  int luma() const { return (299 * r + 587 * g + 114 * b) / 1000; }
  // Every colour of the scale is bluer than it is red; text, white and grey are neutral.
  bool tinted() const { return b - r >= 5; }
};

class Image {
 public:
  explicit Image(const std::string& path)
      : surface_(cairo_image_surface_create_from_png(path.c_str()), cairo_surface_destroy) {}
  bool ok() const { return cairo_surface_status(surface_.get()) == CAIRO_STATUS_SUCCESS; }
  int width() const { return cairo_image_surface_get_width(surface_.get()); }
  int height() const { return cairo_image_surface_get_height(surface_.get()); }
  Pixel at(int x, int y) const {
    const unsigned char* row =
        cairo_image_surface_get_data(surface_.get()) +
        static_cast<std::ptrdiff_t>(y) * cairo_image_surface_get_stride(surface_.get());
    const std::uint32_t v = reinterpret_cast<const std::uint32_t*>(row)[x];  // native-endian xRGB
    return {static_cast<int>((v >> 16) & 0xFF), static_cast<int>((v >> 8) & 0xFF),
            static_cast<int>(v & 0xFF)};
  }
  int count(int x0, int y0, int x1, int y1, bool (*want)(Pixel)) const {
    int n = 0;
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) n += want(at(x, y)) ? 1 : 0;
    }
    return n;
  }
  double mean_luma(int x0, int y0, int x1, int y1) const {
    double sum = 0;
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) sum += at(x, y).luma();
    }
    return sum / ((x1 - x0) * (y1 - y0));
  }

 private:
  std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface_;
};

bool dark(Pixel p) { return p.luma() < 110; }
bool light(Pixel p) { return p.luma() > 200; }
bool not_white(Pixel p) { return p.r != 255 || p.g != 255 || p.b != 255; }

// First run of tinted lines (allowing the white seams between cells): [first, last] along one axis.
std::pair<int, int> first_run(int length, const std::function<bool(int)>& tinted_line) {
  int first = -1, last = -1;
  for (int i = 0; i < length; ++i) {
    if (!tinted_line(i)) continue;
    if (first >= 0 && i - last > 3) break;
    if (first < 0) first = i;
    last = i;
  }
  return {first, last};
}

struct Matrix {
  int x0, y0, x1, y1;  // inclusive bounds of the tinted cells
  double cell;
};

// The matrix is the leftmost tinted block (the colour bar is the other one, to its right).
Matrix locate_matrix(const Image& image, std::size_t labels) {
  const auto [x0, x1] = first_run(image.width(), [&](int x) {
    for (int y = 0; y < image.height(); ++y) {
      if (image.at(x, y).tinted()) return true;
    }
    return false;
  });
  const auto [y0, y1] = first_run(image.height(), [&](int y) {
    for (int x = x0; x <= x1; ++x) {
      if (image.at(x, y).tinted()) return true;
    }
    return false;
  });
  // The last cell's seam is white, so the block is one pixel short of n cells.
  return {x0, y0, x1, y1, (x1 - x0 + 2) / static_cast<double>(labels)};
}

// Mean brightness of a cell's interior: robust against the count drawn in its centre.
double cell_luma(const Image& image, const Matrix& m, std::size_t t, std::size_t p) {
  const int left = m.x0 + static_cast<int>(p * m.cell) + 3, top = m.y0 + static_cast<int>(t * m.cell) + 3;
  const int size = static_cast<int>(m.cell) - 7;
  return image.mean_luma(left, top, left + size, top + size);
}

int cell_pixels(const Image& image, const Matrix& m, std::size_t t, std::size_t p, bool (*want)(Pixel)) {
  const int left = m.x0 + static_cast<int>(p * m.cell) + 3, top = m.y0 + static_cast<int>(t * m.cell) + 3;
  const int size = static_cast<int>(m.cell) - 7;
  return image.count(left, top, left + size, top + size, want);
}

struct Case {
  std::vector<std::string> truth, predicted;
  void add(const std::string& t, const std::string& p, int times) {
    truth.insert(truth.end(), times, t);
    predicted.insert(predicted.end(), times, p);
  }
};

// Shared checks: matrix found and square, the largest-count cell darker than a zero cell, text
// everywhere it belongs, and nothing drawn in the outer margin (so no label is cut off).
void check_heatmap(const Image& image, const ClassificationReport& report) {
  const auto& confusion = report.confusion();
  std::size_t big_t = 0, big_p = 0, zero_t = 0, zero_p = 0;
  bool have_zero = false;
  for (std::size_t t = 0; t < confusion.size(); ++t) {
    for (std::size_t p = 0; p < confusion.size(); ++p) {
      if (confusion[t][p] > confusion[big_t][big_p]) big_t = t, big_p = p;
      if (confusion[t][p] == 0 && !have_zero) zero_t = t, zero_p = p, have_zero = true;
    }
  }
  ASSERT_TRUE(have_zero);
  const Matrix m = locate_matrix(image, report.labels().size());
  ASSERT_GE(m.x0, 0);
  ASSERT_GE(m.y0, 0);
  EXPECT_NEAR(m.x1 - m.x0, m.y1 - m.y0, 1) << "cells are square";
  EXPECT_GE(m.cell, 30.0);

  EXPECT_LT(cell_luma(image, m, big_t, big_p), cell_luma(image, m, zero_t, zero_p) - 100);
  EXPECT_GT(cell_pixels(image, m, big_t, big_p, light), 5) << "light count on the dark cell";
  EXPECT_GT(cell_pixels(image, m, zero_t, zero_p, dark), 5) << "dark count on the light cell";

  EXPECT_GT(image.count(0, m.y0, m.x0, m.y1, dark), 50) << "true labels left of the matrix";
  EXPECT_GT(image.count(m.x0, m.y1 + 1, m.x1, image.height(), dark), 50) << "predicted labels below it";
  EXPECT_GT(image.count(0, 0, image.width(), m.y0, dark), 50) << "title above it";

  constexpr int kBorder = 6;
  const int w = image.width(), h = image.height();
  EXPECT_EQ(image.count(0, 0, w, kBorder, not_white) + image.count(0, h - kBorder, w, h, not_white) +
                image.count(0, 0, kBorder, h, not_white) + image.count(w - kBorder, 0, w, h, not_white),
            0)
      << "the outer margin is blank";
}

TEST(EvaluationHeatmap, ThreeLabels) {
  TempDir dir;
  Case c;
  c.add("alpha", "alpha", 50);
  c.add("beta", "beta", 5);
  c.add("beta", "gamma", 1);
  c.add("gamma", "alpha", 2);
  c.add("gamma", "gamma", 7);
  const ClassificationReport report = ClassificationReport::compute(c.truth, c.predicted);
  const std::string path = (dir / "three.png");
  write_heatmap_png(report, path, "Three labels");

  const Image image(path);
  ASSERT_TRUE(image.ok());
  EXPECT_GE(image.width(), 250);
  EXPECT_LE(image.width(), 1000);
  EXPECT_GE(image.height(), 250);
  EXPECT_LE(image.height(), 1000);
  check_heatmap(image, report);
}

TEST(EvaluationHeatmap, TenLongLabels) {
  TempDir dir;
  const std::vector<std::string> names = {
      "HTTP Status",    "Security Alert",      "System Notification", "Critical Error", "Resource Usage",
      "Workflow Error", "Deprecation Warning", "User Action",         "Error",          "Uncertain"};
  Case c;
  for (std::size_t i = 0; i < names.size(); ++i) {
    c.add(names[i], names[i], 10 + static_cast<int>(i) * 30);
    c.add(names[i], names[(i + 1) % names.size()], 3);
  }
  const ClassificationReport report = ClassificationReport::compute(c.truth, c.predicted);
  const std::string path = (dir / "ten.png");
  write_heatmap_png(report, path, "Ten labels");

  const Image image(path);
  ASSERT_TRUE(image.ok());
  EXPECT_GE(image.width(), 500);
  EXPECT_LE(image.width(), 2000);
  EXPECT_GE(image.height(), 500);
  EXPECT_LE(image.height(), 2000);
  check_heatmap(image, report);
}

TEST(EvaluationHeatmap, UnwritablePathThrowsNamingIt) {
  TempDir dir;
  const std::vector<std::string> labels = {"a", "b"};
  const ClassificationReport report = ClassificationReport::compute(labels, labels);
  const std::string path = (dir / "missing/heatmap.png");
  try {
    write_heatmap_png(report, path, "t");
    FAIL() << "expected logclf::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace logclf
