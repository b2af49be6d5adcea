// Confusion-matrix heatmap rendered with cairo. Layout is computed first as a list of placed texts with
// their ink boxes, so the canvas can be sized to hold every label without clipping, then drawn.
#include <cairo.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

#include "logclf/evaluation.h"
#include "logclf/io.h"
#include "logclf/types.h"

namespace logclf {
namespace {

struct Rgb {
  double r, g, b;
};

// ColorBrewer "Blues" (as in matplotlib): light for 0, dark blue for 1; perceptually ordered.
constexpr std::array<Rgb, 9> kBlues = {{{0.969, 0.984, 1.000},
                                        {0.871, 0.922, 0.969},
                                        {0.776, 0.859, 0.937},
                                        {0.620, 0.792, 0.882},
                                        {0.420, 0.682, 0.839},
                                        {0.259, 0.573, 0.776},
                                        {0.129, 0.443, 0.710},
                                        {0.031, 0.318, 0.612},
                                        {0.031, 0.188, 0.420}}};
constexpr Rgb kInk{0.12, 0.12, 0.12};
constexpr Rgb kWhite{1.0, 1.0, 1.0};
constexpr Rgb kFrame{0.75, 0.75, 0.75};

// Piecewise-linear in sRGB, like the cairo gradient used for the colour bar, so both agree.
Rgb blues(double t) {
  const double position = std::clamp(t, 0.0, 1.0) * (kBlues.size() - 1);
  const std::size_t i = std::min(static_cast<std::size_t>(position), kBlues.size() - 2);
  const double f = position - static_cast<double>(i);
  const Rgb &a = kBlues[i], &b = kBlues[i + 1];
  return {a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f};
}

// WCAG relative luminance; the text colour with the higher contrast ratio is the legible one.
double luminance(Rgb c) {
  const auto linear = [](double v) { return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * linear(c.r) + 0.7152 * linear(c.g) + 0.0722 * linear(c.b);
}

double contrast(Rgb a, Rgb b) {
  const double la = luminance(a) + 0.05, lb = luminance(b) + 0.05;
  return std::max(la, lb) / std::min(la, lb);
}

Rgb text_colour_on(Rgb background) {
  return contrast(kWhite, background) > contrast(kInk, background) ? kWhite : kInk;
}

struct Font {
  double size;
  bool bold;
};
constexpr Font kTitleFont{17, true};
constexpr Font kAxisTitleFont{13, true};
constexpr Font kLabelFont{13, false};
constexpr Font kTickFont{11, false};

void use_font(cairo_t* cr, Font font) {
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         font.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, font.size);
}

struct Box {
  double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
  void add(double x, double y) {
    x0 = std::min(x0, x);
    y0 = std::min(y0, y);
    x1 = std::max(x1, x);
    y1 = std::max(y1, y);
  }
  void add(const Box& other) {
    add(other.x0, other.y0);
    add(other.x1, other.y1);
  }
};

enum class Along { start, centre, end };                   // where the anchor sits along the baseline
enum class Across { cap_centre, cap_top, below_descent };  // where it sits across it

// A text placed at an anchor, rotated by `angle` about it; `box` is its ink extent on the canvas.
struct PlacedText {
  std::string text;
  Font font;
  Rgb colour;
  double x, y, angle;  // anchor and rotation
  double dx, dy;       // baseline start relative to the anchor, in the rotated frame
  Box box;
};

class TextPlacer {
 public:
  explicit TextPlacer(cairo_t* cr) : cr_(cr) {}

  double advance(const std::string& text, Font font) { return extents(text, font).x_advance; }

  PlacedText place(std::string text, Font font, Rgb colour, double x, double y, double angle, Along along,
                   Across across) {
    const cairo_text_extents_t ink = extents(text, font);
    cairo_font_extents_t face;
    cairo_font_extents(cr_, &face);
    // Cap height of "X" centres labels that start with capitals or digits, the common case.
    const double cap = -extents("X", font).y_bearing;

    PlacedText t{std::move(text), font, colour, x, y, angle, 0.0, 0.0, {}};
    t.dx = along == Along::start ? 0.0 : along == Along::centre ? -ink.x_advance / 2 : -ink.x_advance;
    t.dy = across == Across::cap_centre ? cap / 2 : across == Across::cap_top ? cap : -face.descent;
    const double c = std::cos(angle), s = std::sin(angle);
    for (double u : {t.dx + ink.x_bearing, t.dx + ink.x_bearing + ink.width}) {
      for (double v : {t.dy + ink.y_bearing, t.dy + ink.y_bearing + ink.height}) {
        t.box.add(x + u * c - v * s, y + u * s + v * c);
      }
    }
    return t;
  }

 private:
  cairo_text_extents_t extents(const std::string& text, Font font) {
    use_font(cr_, font);
    cairo_text_extents_t e;
    cairo_text_extents(cr_, text.c_str(), &e);
    return e;
  }
  cairo_t* cr_;
};

void draw(cairo_t* cr, const PlacedText& t) {
  cairo_save(cr);
  use_font(cr, t.font);
  cairo_set_source_rgb(cr, t.colour.r, t.colour.g, t.colour.b);
  cairo_translate(cr, t.x, t.y);
  cairo_rotate(cr, t.angle);
  cairo_move_to(cr, t.dx, t.dy);
  cairo_show_text(cr, t.text.c_str());
  cairo_restore(cr);
}

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using Context = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

void check(cairo_status_t status, const std::string& path) {
  if (status != CAIRO_STATUS_SUCCESS) {
    throw Error("cannot render heatmap " + path + ": " + cairo_status_to_string(status));
  }
}

cairo_status_t append_png(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

void write_heatmap_png(const ClassificationReport& report, const std::string& path, std::string_view title) {
  const std::vector<std::string>& labels = report.labels();
  const auto& confusion = report.confusion();
  const std::size_t n = labels.size();
  if (n == 0) throw Error("cannot render heatmap " + path + ": the report has no labels");

  // Colours are normalised per true-label row so that small classes are as visible as large ones.
  std::vector<std::vector<Rgb>> fill(n, std::vector<Rgb>(n));
  for (std::size_t t = 0; t < n; ++t) {
    double row_total = 0;
    for (std::size_t count : confusion[t]) row_total += static_cast<double>(count);
    for (std::size_t p = 0; p < n; ++p) {
      fill[t][p] = blues(row_total == 0 ? 0.0 : static_cast<double>(confusion[t][p]) / row_total);
    }
  }

  // Text is measured on a scratch surface; toy-font metrics do not depend on the target size.
  Surface scratch(cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1), cairo_surface_destroy);
  Context measure(cairo_create(scratch.get()), cairo_destroy);
  check(cairo_status(measure.get()), path);
  TextPlacer placer(measure.get());

  // Cells shrink with the label count down to a legible minimum, and grow to fit the widest count.
  const Font count_font{std::clamp(560.0 / static_cast<double>(n) * 0.3, 11.0, 15.0), false};
  double widest_count = 0;
  for (const auto& row : confusion) {
    for (std::size_t count : row)
      widest_count = std::max(widest_count, placer.advance(std::to_string(count), count_font));
  }
  const double cell =
      std::ceil(std::max({std::clamp(560.0 / static_cast<double>(n), 34.0, 80.0), widest_count + 12}));
  const double side = cell * static_cast<double>(n);
  constexpr double kGap = 8;  // between the matrix and its tick labels

  std::vector<PlacedText> texts;
  Box content;
  content.add(0, 0);
  content.add(side, side);

  for (std::size_t t = 0; t < n; ++t) {
    for (std::size_t p = 0; p < n; ++p) {
      texts.push_back(placer.place(std::to_string(confusion[t][p]), count_font, text_colour_on(fill[t][p]),
                                   (static_cast<double>(p) + 0.5) * cell,
                                   (static_cast<double>(t) + 0.5) * cell, 0, Along::centre,
                                   Across::cap_centre));
    }
  }

  Box row_labels;
  for (std::size_t t = 0; t < n; ++t) {
    texts.push_back(placer.place(labels[t], kLabelFont, kInk, -kGap, (static_cast<double>(t) + 0.5) * cell, 0,
                                 Along::end, Across::cap_centre));
    row_labels.add(texts.back().box);
  }

  // Predicted labels run horizontally under their column when they fit, else at 45° ending under it.
  double widest_label = 0;
  for (const std::string& label : labels)
    widest_label = std::max(widest_label, placer.advance(label, kLabelFont));
  const bool rotate = widest_label > cell - 8;
  Box column_labels;
  column_labels.add(side / 2, side);
  for (std::size_t p = 0; p < n; ++p) {
    const double x = (static_cast<double>(p) + 0.5) * cell;
    texts.push_back(rotate ? placer.place(labels[p], kLabelFont, kInk, x, side + kGap, -std::numbers::pi / 4,
                                          Along::end, Across::cap_centre)
                           : placer.place(labels[p], kLabelFont, kInk, x, side + kGap, 0, Along::centre,
                                          Across::cap_top));
    column_labels.add(texts.back().box);
  }

  texts.push_back(placer.place("Predicted label", kAxisTitleFont, kInk, side / 2, column_labels.y1 + 14, 0,
                               Along::centre, Across::cap_top));
  texts.push_back(placer.place("True label", kAxisTitleFont, kInk, std::min(row_labels.x0, 0.0) - 14,
                               side / 2, -std::numbers::pi / 2, Along::centre, Across::below_descent));
  texts.push_back(placer.place(std::string(title), kTitleFont, kInk, side / 2, -18, 0, Along::centre,
                               Across::below_descent));

  // Colour bar: the share of the true label's row that a cell holds.
  const double bar_x = side + 28, bar_width = 16;
  content.add(bar_x + bar_width, side);
  Box ticks;
  ticks.add(bar_x + bar_width, side / 2);
  for (int percent = 0; percent <= 100; percent += 25) {
    const double y = side * (1.0 - percent / 100.0);
    texts.push_back(placer.place(std::to_string(percent) + "%", kTickFont, kInk, bar_x + bar_width + 7, y, 0,
                                 Along::start, Across::cap_centre));
    ticks.add(texts.back().box);
  }
  texts.push_back(placer.place("Share of row", kLabelFont, kInk, ticks.x1 + 10, side / 2,
                               -std::numbers::pi / 2, Along::centre, Across::cap_top));

  for (const PlacedText& t : texts) content.add(t.box);
  check(cairo_status(measure.get()), path);  // e.g. a label that is not valid UTF-8

  // Whole-pixel offset keeps cell edges crisp.
  constexpr double kMargin = 20;
  const double offset_x = std::ceil(kMargin - content.x0), offset_y = std::ceil(kMargin - content.y0);
  const int width = static_cast<int>(std::ceil(content.x1 + offset_x + kMargin));
  const int height = static_cast<int>(std::ceil(content.y1 + offset_y + kMargin));

  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height), cairo_surface_destroy);
  check(cairo_surface_status(surface.get()), path);
  Context context(cairo_create(surface.get()), cairo_destroy);
  cairo_t* cr = context.get();
  check(cairo_status(cr), path);

  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_translate(cr, offset_x, offset_y);

  // Cells leave a one-pixel white seam on their right and bottom so neighbouring light cells stay distinct.
  for (std::size_t t = 0; t < n; ++t) {
    for (std::size_t p = 0; p < n; ++p) {
      const Rgb colour = fill[t][p];
      cairo_set_source_rgb(cr, colour.r, colour.g, colour.b);
      cairo_rectangle(cr, static_cast<double>(p) * cell, static_cast<double>(t) * cell, cell - 1, cell - 1);
      cairo_fill(cr);
    }
  }

  cairo_pattern_t* gradient = cairo_pattern_create_linear(0, side, 0, 0);
  for (std::size_t i = 0; i < kBlues.size(); ++i) {
    cairo_pattern_add_color_stop_rgb(gradient, static_cast<double>(i) / (kBlues.size() - 1), kBlues[i].r,
                                     kBlues[i].g, kBlues[i].b);
  }
  cairo_set_source(cr, gradient);
  cairo_pattern_destroy(gradient);
  cairo_rectangle(cr, bar_x, 0, bar_width, side);
  cairo_fill(cr);

  cairo_set_line_width(cr, 1);
  cairo_set_source_rgb(cr, kFrame.r, kFrame.g, kFrame.b);
  cairo_rectangle(cr, bar_x + 0.5, 0.5, bar_width - 1, side - 1);
  for (int percent = 0; percent <= 100; percent += 25) {
    const double y = std::round(side * (1.0 - percent / 100.0)) + (percent == 0 ? -0.5 : 0.5);
    cairo_move_to(cr, bar_x + bar_width, y);
    cairo_line_to(cr, bar_x + bar_width + 4, y);
  }
  cairo_stroke(cr);

  for (const PlacedText& t : texts) draw(cr, t);
  check(cairo_status(cr), path);

  std::string png;
  check(cairo_surface_write_to_png_stream(surface.get(), append_png, &png), path);
  write_file_atomic(path, png);
}

}  // namespace logclf
