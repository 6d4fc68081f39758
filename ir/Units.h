// Units.h — physical dimensions and unit symbols.
//
// A Dim is a vector of integer exponents over the SI base units (m, kg, s, A, K, mol, cd).
// Every expression of the language has one; the frontend checks them, and after
// `fold-units` all values are plain doubles in SI units. `parse_unit` understands symbols
// like `mV`, `ms`, `Mohm`, `nS`, `uF`, `Hz`, products and quotients (`mV/ms`, `uA/cm^2`).
#pragma once
#include <array>
#include <optional>
#include <string>

namespace snnc {

struct Dim {
  static constexpr int kBase = 7;
  std::array<int, kBase> e{};  ///< exponents of m, kg, s, A, K, mol, cd

  static Dim none() { return {}; }
  static Dim base(int i, int power = 1) {
    Dim d;
    d.e[i] = power;
    return d;
  }
  bool dimensionless() const { return *this == Dim{}; }
  Dim operator*(const Dim &o) const;
  Dim operator/(const Dim &o) const;
  Dim pow(int n) const;
  bool operator==(const Dim &o) const = default;
  /// Readable SI spelling: `1`, `V`, `s`, `A`, `ohm`, `F`, `S`, `Hz`, `V/s`, `m^2`...
  std::string str() const;
};

/// A unit: its dimension and its factor to SI (`mV` -> {volt, 1e-3}).
struct Unit {
  Dim dim;
  double scale = 1.0;
};

/// Parses a unit expression: symbols with optional SI prefix and `^int`, joined by `*`
/// and `/` (left to right). `1` and `real` mean dimensionless. nullopt if unknown.
std::optional<Unit> parse_unit(const std::string &text);

}  // namespace snnc
