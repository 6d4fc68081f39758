// ReceptiveFields.h — draws the weights into each neuron of a connection as an image grid
// (one tile per postsynaptic neuron, its incoming weights in the shape of the input
// images), the picture Diehl & Cook's learned filters are known by.
#pragma once
#include <string>
#include <vector>

#include "Simulation.h"

namespace snnc::rt {

/// Writes `path` (PNG, 8-bit gray, atomically) from the final `w` of `connection` in
/// `result`; `shape` is the images' shape ([channels,] height, width; the first channel
/// is drawn). Each tile is scaled from 0 to the largest weight of the connection. Throws
/// std::runtime_error naming the problem.
void write_receptive_fields(const SimResult &result, const std::string &connection,
                            const std::vector<int64_t> &shape, const std::string &path);

}  // namespace snnc::rt
