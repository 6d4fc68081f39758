// Report.cpp — SVG line charts, bar charts and rasters assembled into one HTML page.
#include "Report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace snnc::driver {
namespace {

const char *kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"};

std::string escape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

struct Series {
  std::string label;
  std::vector<double> y;
};

/// A line chart with epochs on x; y from 0 to the largest value (or [0, 1] for fractions).
std::string line_chart(const std::string &title, const std::string &y_label,
                       const std::vector<Series> &series, bool fraction) {
  const double W = 460, L = 60, R = 20, T = 30,
               B = 45 + 14.0 * series.size();  // legend below the axis
  const double H = 235 + 14.0 * series.size();
  size_t n = 0;
  double top = fraction ? 1.0 : 0.0, bottom = 0.0;
  for (const auto &s : series) {
    n = std::max(n, s.y.size());
    for (double v : s.y) top = std::max(top, v);
  }
  if (fraction) {  // zoom on the interesting part of an accuracy curve
    double low = 1.0;
    for (const auto &s : series)
      for (double v : s.y) low = std::min(low, v);
    bottom = std::max(0.0, std::floor((low - 0.02) * 10) / 10);
  }
  if (top <= bottom) top = bottom + 1;
  auto x = [&](size_t i) {
    return L + (W - L - R) * (n > 1 ? static_cast<double>(i) / (n - 1) : 0.5);
  };
  auto y = [&](double v) { return T + (H - T - B) * (1 - (v - bottom) / (top - bottom)); };
  std::string svg = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="12">)",
      W, H);
  svg += fmt::format(R"(<text x="{}" y="18" font-size="14">{}</text>)", L, escape(title));
  svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#444"/>)", L,
                     T, W - L - R, H - T - B);
  for (int k = 0; k <= 4; ++k) {
    double v = bottom + (top - bottom) * k / 4;
    svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="end">{}</text>)", L - 5, y(v) + 4,
                       fraction ? fmt::format("{:.0f}%", 100 * v) : fmt::format("{:.3g}", v));
    svg += fmt::format(R"(<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ddd"/>)", L, W - R, y(v),
                       y(v));
  }
  for (size_t i = 0; i < n; ++i)
    svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle">{}</text>)", x(i), H - B + 16,
                       i + 1);
  svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle">epoch</text>)",
                     L + (W - L - R) / 2, H - B + 32);
  svg += fmt::format(
      R"svg(<text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle">{}</text>)svg",
      T + (H - T - B) / 2, T + (H - T - B) / 2, escape(y_label));
  for (size_t s = 0; s < series.size(); ++s) {
    std::string pts;
    for (size_t i = 0; i < series[s].y.size(); ++i)
      pts += fmt::format("{:.1f},{:.1f} ", x(i), y(series[s].y[i]));
    const char *c = kColours[s % 6];
    svg +=
        fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>)", pts, c);
    for (size_t i = 0; i < series[s].y.size(); ++i)
      svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="{}"/>)", x(i),
                         y(series[s].y[i]), c);
    svg += fmt::format(R"(<text x="{}" y="{}" fill="{}">{}</text>)", L,
                       H - 14.0 * (series.size() - s) + 6, c, escape("— " + series[s].label));
  }
  return svg + "</svg>";
}

std::string bar_chart(const std::string &title,
                      const std::vector<std::pair<std::string, double>> &bars) {
  const double W = 460, row = 22, L = 150, T = 30;
  double H = T + row * bars.size() + 20, top = 1e-9;
  for (const auto &b : bars) top = std::max(top, b.second);
  std::string svg = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="12">)",
      W, H);
  svg += fmt::format(R"(<text x="10" y="18" font-size="14">{}</text>)", escape(title));
  for (size_t i = 0; i < bars.size(); ++i) {
    double w = (W - L - 70) * bars[i].second / top, yy = T + row * i;
    svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="end">{}</text>)", L - 6, yy + 15,
                       escape(bars[i].first));
    svg += fmt::format(R"(<rect x="{}" y="{}" width="{:.1f}" height="16" fill="{}"/>)", L, yy + 3,
                       w, kColours[0]);
    svg += fmt::format(R"(<text x="{:.1f}" y="{}">{:.2f}%</text>)", L + w + 5, yy + 15,
                       100 * bars[i].second);
  }
  return svg + "</svg>";
}

std::string raster_svg(const std::vector<LayerRaster> &layers, const std::string &title) {
  const double W = 940, L = 90, R = 20, T = 30, band = 120, gap = 14;
  double H = T + layers.size() * (band + gap) + 30;
  std::string svg = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="12">)",
      W, H);
  svg += fmt::format(R"(<text x="{}" y="18" font-size="14">{}</text>)", L, escape(title));
  for (size_t li = 0; li < layers.size(); ++li) {
    const auto &l = layers[li];
    double y0 = T + li * (band + gap), cell_w = (W - L - R) / std::max<int64_t>(l.steps, 1);
    int64_t stride = std::max<int64_t>(1, l.neurons / 400);  // at most ~400 rows per layer
    double row_h = band / std::max<int64_t>(1, (l.neurons + stride - 1) / stride);
    svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="end">{}</text>)", L - 6, y0 + band / 2,
                       escape(l.name));
    svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#999"/>)",
                       L, y0, W - L - R, band);
    svg += fmt::format(R"(<g fill="{}">)", kColours[li % 6]);
    for (int64_t t = 0; t < l.steps; ++t)
      for (int64_t n = 0; n < l.neurons; n += stride)
        if (l.spikes[t * l.neurons + n] != 0)
          svg += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.2f}"/>)",
                             L + t * cell_w, y0 + (n / stride) * row_h, std::max(1.0, cell_w - 1),
                             std::max(0.8, row_h));
    svg += "</g>";
  }
  svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle">time step</text>)",
                     L + (W - L - R) / 2, H - 8);
  return svg + "</svg>";
}

/// Minimal Markdown table to HTML (the results table).
std::string table_html(const std::string &md) {
  std::string html = "<table>", line, rest;
  size_t pos = 0;
  int row = 0;
  while (pos < md.size()) {
    size_t end = md.find('\n', pos);
    line = md.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? md.size() : end + 1;
    if (line.rfind("|", 0) != 0) {
      if (!line.empty()) rest += "<p>" + escape(line) + "</p>";
      continue;
    }
    if (line.find("---") != std::string::npos) continue;
    html += "<tr>";
    size_t a = 1;
    while (a < line.size()) {
      size_t b = line.find('|', a);
      if (b == std::string::npos) break;
      std::string cell = line.substr(a, b - a);
      html += (row == 0 ? "<th>" : "<td>") + escape(cell) + (row == 0 ? "</th>" : "</td>");
      a = b + 1;
    }
    html += "</tr>";
    ++row;
  }
  return html + "</table>" + rest;
}

}  // namespace

std::string make_report(const nlohmann::json &summary, const std::string &results_markdown,
                        const std::vector<LayerRaster> &raster, const std::string &raster_title) {
  std::vector<Series> loss, acc;
  std::vector<std::pair<std::string, double>> rates;
  for (const auto &r : summary["runs"]) {
    std::string label = fmt::format("{} {} (seed {})", r.value("role", ""), r.value("network", ""),
                                    r.value("seed", 0));
    Series l{label, {}}, a{label, {}};
    for (const auto &e : r["epochs"]) {
      l.y.push_back(e["train_loss"]);
      a.y.push_back(e["test_accuracy"]);
    }
    loss.push_back(l);
    acc.push_back(a);
    if (r.value("replicate", 0) == 0 && !r["epochs"].empty())
      for (auto it = r["epochs"].back()["spike_rate"].begin();
           it != r["epochs"].back()["spike_rate"].end(); ++it)
        rates.push_back({r.value("role", "") + " " + it.key(), it.value().get<double>()});
  }
  std::string html = "<!doctype html><html><head><meta charset=\"utf-8\"><title>snnc report: " +
                     escape(summary.value("experiment", "")) +
                     "</title><style>"
                     "body{font-family:sans-serif;margin:24px;max-width:980px}"
                     "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:4px 8px}"
                     ".row{display:flex;gap:16px;flex-wrap:wrap}</style></head><body>";
  html += "<h1>" + escape(summary.value("experiment", "")) + "</h1>";
  html += fmt::format("<p>{} — {} training and {} test samples, batch {}, from <code>{}</code></p>",
                      escape(summary.value("dataset", "")), summary.value("train_samples", 0),
                      summary.value("test_samples", 0), summary.value("batch", 0),
                      escape(summary.value("file", "")));
  html += "<h2>Results</h2>" + table_html(results_markdown);
  html += "<h2>Training</h2><div class=\"row\">" +
          line_chart("training loss", "loss", loss, false) +
          line_chart("test accuracy", "accuracy", acc, true) + "</div>";
  if (!rates.empty())
    html += "<h2>Firing rates</h2>" + bar_chart("spikes per neuron per step (test set)", rates);
  if (!raster.empty())
    html += "<h2>Spikes of one test input</h2>" + raster_svg(raster, raster_title);
  return html + "</body></html>\n";
}

}  // namespace snnc::driver
