// Protocol.h — the front end of sample protocols: `present(...)`, `learn(...)` and
// `classify(...)` in a simulation block (a data set shown sample by sample, ir::Protocol).
//
// check_protocol reports every mistake with its location (unknown items and arguments,
// dimensions, names that are not a stimulus source, population or plastic connection);
// lower_protocol turns a checked block into the module's Protocol and parameters.
#pragma once
#include <map>
#include <optional>
#include <string>

#include "AST.h"
#include "IR.h"

namespace snnc::frontend {

/// What the protocol may name in the simulation's network.
struct ProtocolNames {
  std::map<std::string, char> groups;       ///< 'p' population, 's' stimulus source, 'o' other
  std::map<std::string, bool> connections;  ///< name -> has a synapse model with state `w`
};

/// The connection names a network's `connect` items get (`<pre>_to_<post>`, numbered
/// when repeated), with whether each has a synapse model with a per-synapse `w`.
std::map<std::string, bool> connection_names(const ast::File &file, const ast::NetworkDef &net);

void check_protocol(const ast::SimulationDef &sim, const ProtocolNames &names,
                    DiagnosticEngine &diags);

/// Fills m.protocol and adds its parameters to m.sim_params.
void lower_protocol(const ast::SimulationDef &sim, ir::Module &m);

}  // namespace snnc::frontend
