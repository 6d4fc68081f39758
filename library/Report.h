// Report.h — the self-contained report.html of an experiment run: training curves of every
// network (loss and test accuracy per epoch, SNN and ANN together), per-layer firing rates,
// a spike raster of one test input through each spiking layer, and the results table.
// Pictures are inline SVG, so the file opens anywhere without network access.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace snnc::driver {

/// Spikes of one layer for one input: `steps` rows of `neurons` 0/1 values.
struct LayerRaster {
  std::string name;
  int64_t steps = 0, neurons = 0;
  std::vector<float> spikes;
};

std::string make_report(const nlohmann::json &summary, const std::string &results_markdown,
                        const std::vector<LayerRaster> &raster, const std::string &raster_title);

}  // namespace snnc::driver
