// SimOutputs.cpp — spikes.csv, traces.csv and raster.svg of a run, written atomically.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "Simulation.h"

namespace snnc::rt {

namespace {

std::string fmt_double(double v, const char *spec = "%.9g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

std::string spikes_csv(const SimSpec &spec, const SimResult &r) {
  std::string out = "group,neuron,time_s\n";
  for (size_t g = 0; g < spec.groups.size(); ++g) {
    const auto &rec = r.spikes[g];
    for (size_t k = 0; k < rec.steps.size(); ++k)
      out += spec.groups[g].name + "," + std::to_string(rec.neurons[k]) + "," +
             fmt_double(rec.steps[k] * spec.dt) + "\n";
  }
  return out;
}

std::string traces_csv(const SimSpec &spec, const SimResult &r) {
  std::string out = "time_s";
  for (const auto &t : spec.traces)
    for (int64_t n : t.neurons) out += "," + t.group + "." + t.var + "[" + std::to_string(n) + "]";
  out += "\n";
  int64_t rows = spec.steps;  // one row per reported step (every step, unless stopped early)
  for (size_t i = 0; i < spec.traces.size(); ++i)
    if (!spec.traces[i].neurons.empty())
      rows =
          std::min(rows, static_cast<int64_t>(r.traces[i].size() / spec.traces[i].neurons.size()));
  for (int64_t s = 0; s < rows; ++s) {
    out += fmt_double(s * spec.dt);
    for (size_t i = 0; i < spec.traces.size(); ++i) {
      size_t width = spec.traces[i].neurons.size();
      for (size_t k = 0; k < width; ++k)
        out += "," + fmt_double(r.traces[i][s * width + k], "%.10g");
    }
    out += "\n";
  }
  return out;
}

/// Group names are identifiers, but the SVG stays well-formed whatever they hold.
std::string xml_escape(const std::string &text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string raster_svg(const SimSpec &spec, const SimResult &r) {
  const char *colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"};
  const double left = 80, right = 20, top = 40, bottom = 45, width = 900, band_height = 360;
  std::vector<size_t> shown;
  for (size_t g = 0; g < spec.groups.size(); ++g)
    if (spec.groups[g].record) shown.push_back(g);
  double height = top + bottom + band_height;
  double duration_ms = spec.steps * spec.dt * 1e3;
  double plot_w = width - left - right;
  int64_t total_neurons = 0, total_spikes = 0;
  auto shown_size = [&](size_t g) {
    const auto &grp = spec.groups[g];
    return (grp.record_end >= 0 ? grp.record_end : grp.size) - grp.record_begin;
  };
  for (size_t g : shown)
    total_neurons += shown_size(g), total_spikes += static_cast<int64_t>(r.spikes[g].steps.size());
  const int64_t max_dots = 200000;
  int64_t stride = std::max<int64_t>(1, (total_spikes + max_dots - 1) / max_dots);

  double neuron_seconds = spec.steps * spec.dt;
  std::string title = shown.empty() ? "no spike recordings" : "spikes:";
  for (size_t g : shown) {
    double rate =
        neuron_seconds > 0 ? r.spike_counts[g] / (spec.groups[g].size * neuron_seconds) : 0.0;
    title += " " + xml_escape(spec.groups[g].name) + " " + std::to_string(r.spike_counts[g]) +
             " (" + fmt_double(rate, "%.2f") + " Hz)";
  }
  if (stride > 1) title += " (1 neuron in " + std::to_string(stride) + " drawn)";

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt_double(width) +
                    "\" height=\"" + fmt_double(height) +
                    "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += "<text x=\"" + fmt_double(left) + "\" y=\"22\" font-size=\"14\">" + title + "</text>\n";
  double y0 = top;
  for (size_t i = 0; i < shown.size(); ++i) {
    size_t g = shown[i];
    double band = total_neurons ? band_height * shown_size(g) / total_neurons : 0;
    double per_neuron = band / std::max<int64_t>(shown_size(g), 1);
    int64_t first = spec.groups[g].record_begin;
    const char *colour = colours[i % 6];
    svg += "<text x=\"" + fmt_double(left - 8) + "\" y=\"" + fmt_double(y0 + band / 2) +
           "\" text-anchor=\"end\" fill=\"" + colour + "\">" + xml_escape(spec.groups[g].name) +
           "</text>\n";
    if (band >= 60) {  // first and last neuron index at the band's edges
      int64_t last = first + shown_size(g) - 1;
      svg += "<text x=\"" + fmt_double(left - 4) + "\" y=\"" + fmt_double(y0 + 9) +
             "\" text-anchor=\"end\" font-size=\"9\">" + std::to_string(first) + "</text>\n";
      svg += "<text x=\"" + fmt_double(left - 4) + "\" y=\"" + fmt_double(y0 + band - 2) +
             "\" text-anchor=\"end\" font-size=\"9\">" + std::to_string(last) + "</text>\n";
    }
    svg += "<g fill=\"" + std::string(colour) + "\">\n";
    const auto &rec = r.spikes[g];
    double dot_h = std::max(1.0, per_neuron);
    for (size_t k = 0; k < rec.steps.size(); ++k) {
      if (rec.neurons[k] % stride) continue;
      double x = left + plot_w * (rec.steps[k] * spec.dt * 1e3) / std::max(duration_ms, 1e-12);
      double y = y0 + (rec.neurons[k] - first) * per_neuron;
      svg += "<rect x=\"" + fmt_double(x, "%.1f") + "\" y=\"" + fmt_double(y, "%.1f") +
             "\" width=\"1.2\" height=\"" + fmt_double(dot_h, "%.2f") + "\"/>\n";
    }
    svg += "</g>\n";
    y0 += band;
    if (i + 1 < shown.size())
      svg += "<line x1=\"" + fmt_double(left) + "\" x2=\"" + fmt_double(width - right) +
             "\" y1=\"" + fmt_double(y0) + "\" y2=\"" + fmt_double(y0) + "\" stroke=\"#bbb\"/>\n";
  }
  double axis_y = top + band_height;
  svg += "<rect x=\"" + fmt_double(left) + "\" y=\"" + fmt_double(top) + "\" width=\"" +
         fmt_double(plot_w) + "\" height=\"" + fmt_double(band_height) +
         "\" fill=\"none\" stroke=\"black\"/>\n";
  for (int i = 0; i <= 5; ++i) {
    double x = left + plot_w * i / 5;
    svg += "<line x1=\"" + fmt_double(x) + "\" x2=\"" + fmt_double(x) + "\" y1=\"" +
           fmt_double(axis_y) + "\" y2=\"" + fmt_double(axis_y + 5) + "\" stroke=\"black\"/>\n";
    svg += "<text x=\"" + fmt_double(x) + "\" y=\"" + fmt_double(axis_y + 18) +
           "\" text-anchor=\"middle\">" + fmt_double(duration_ms * i / 5, "%.4g") + "</text>\n";
  }
  svg += "<text x=\"" + fmt_double(left + plot_w / 2) + "\" y=\"" + fmt_double(height - 8) +
         "\" text-anchor=\"middle\">time (ms)</text>\n";
  svg += "<text x=\"16\" y=\"" + fmt_double(top + band_height / 2) +
         "\" transform=\"rotate(-90 16 " + fmt_double(top + band_height / 2) +
         ")\" text-anchor=\"middle\">neuron</text>\n";
  svg += "</svg>\n";
  return svg;
}

}  // namespace

namespace {

/// `connection,pre,post,<state>...`: one line per synapse of each connection with a
/// synapse model, its state at the end of the run (17 significant digits).
std::string synapses_csv(const SimResult &result) {
  std::string out;
  std::vector<std::string> header;
  for (const auto &a : result.synapse_state)
    for (const auto &[name, _] : a.vars)
      if (std::find(header.begin(), header.end(), name) == header.end()) header.push_back(name);
  out += "connection,pre,post";
  for (const auto &h : header) out += "," + h;
  out += "\n";
  char buf[32];
  for (const auto &a : result.synapse_state) {
    const int64_t n_pre = static_cast<int64_t>(a.row_ptr.size()) - 1;
    for (int64_t i = 0; i < n_pre; ++i)
      for (int64_t s = a.row_ptr[i]; s < a.row_ptr[i + 1]; ++s) {
        out += a.connection + "," + std::to_string(i) + "," + std::to_string(a.col[s]);
        for (const auto &h : header) {
          out += ",";
          for (const auto &[name, values] : a.vars)
            if (name == h) {
              std::snprintf(buf, sizeof buf, "%.17g", values[s]);
              out += buf;
            }
        }
        out += "\n";
      }
  }
  return out;
}

}  // namespace

void write_sim_outputs(const SimSpec &spec, const SimResult &result, const std::string &dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create output directory '" + dir + "': " + ec.message());
  write_file_atomic(dir + "/spikes.csv", spikes_csv(spec, result));
  if (!spec.traces.empty()) write_file_atomic(dir + "/traces.csv", traces_csv(spec, result));
  write_file_atomic(dir + "/raster.svg", raster_svg(spec, result));
  if (!result.synapse_state.empty()) write_file_atomic(dir + "/synapses.csv", synapses_csv(result));
}

}  // namespace snnc::rt
