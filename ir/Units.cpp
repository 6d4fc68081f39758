// Units.cpp — dimension algebra, SI spelling and the unit-symbol table.
#include "Units.h"

#include <cctype>
#include <cmath>
#include <utility>
#include <vector>

namespace snnc {

Dim Dim::operator*(const Dim &o) const {
  Dim r;
  for (int i = 0; i < kBase; ++i) r.e[i] = e[i] + o.e[i];
  return r;
}
Dim Dim::operator/(const Dim &o) const {
  Dim r;
  for (int i = 0; i < kBase; ++i) r.e[i] = e[i] - o.e[i];
  return r;
}
Dim Dim::pow(int n) const {
  Dim r;
  for (int i = 0; i < kBase; ++i) r.e[i] = e[i] * n;
  return r;
}

namespace {
enum { M, KG, S, AMP, K, MOL, CD };

Dim make(std::initializer_list<std::pair<int, int>> parts) {
  Dim d;
  for (auto [i, p] : parts) d.e[i] = p;
  return d;
}

struct Named {
  const char *symbol;
  Dim dim;
};

const std::vector<Named> &named_units() {
  static const std::vector<Named> units = {
      {"V", make({{KG, 1}, {M, 2}, {S, -3}, {AMP, -1}})},
      {"A", make({{AMP, 1}})},
      {"s", make({{S, 1}})},
      {"ohm", make({{KG, 1}, {M, 2}, {S, -3}, {AMP, -2}})},
      {"S", make({{KG, -1}, {M, -2}, {S, 3}, {AMP, 2}})},
      {"F", make({{KG, -1}, {M, -2}, {S, 4}, {AMP, 2}})},
      {"Hz", make({{S, -1}})},
      {"C", make({{S, 1}, {AMP, 1}})},
      {"W", make({{KG, 1}, {M, 2}, {S, -3}})},
      {"J", make({{KG, 1}, {M, 2}, {S, -2}})},
      {"m", make({{M, 1}})},
      {"kg", make({{KG, 1}})},
      {"K", make({{K, 1}})},
      {"mol", make({{MOL, 1}})},
  };
  return units;
}

std::optional<double> prefix_scale(char p) {
  switch (p) {
    case 'f':
      return 1e-15;
    case 'p':
      return 1e-12;
    case 'n':
      return 1e-9;
    case 'u':
      return 1e-6;
    case 'm':
      return 1e-3;
    case 'c':
      return 1e-2;
    case 'k':
      return 1e3;
    case 'M':
      return 1e6;
    case 'G':
      return 1e9;
    default:
      return std::nullopt;
  }
}

/// Base symbols (without prefix) a prefix may be attached to.
std::optional<Unit> symbol_unit(const std::string &sym) {
  if (sym == "1" || sym == "real") return Unit{};
  if (sym == "g") return Unit{make({{KG, 1}}), 1e-3};
  if (sym == "l" || sym == "L") return Unit{make({{M, 3}}), 1e-3};
  if (sym == "Ohm") return Unit{named_units()[3].dim, 1.0};
  for (const auto &n : named_units())
    if (sym == n.symbol) return Unit{n.dim, 1.0};
  return std::nullopt;
}

/// One factor: [prefix] symbol [^ int].
std::optional<Unit> parse_factor(const std::string &f) {
  std::string sym = f;
  int power = 1;
  if (auto caret = f.find('^'); caret != std::string::npos) {
    sym = f.substr(0, caret);
    std::string p = f.substr(caret + 1);
    if (p.empty()) return std::nullopt;
    size_t i = (p[0] == '-' || p[0] == '+') ? 1 : 0;
    if (i >= p.size()) return std::nullopt;
    for (size_t k = i; k < p.size(); ++k)
      if (!std::isdigit(static_cast<unsigned char>(p[k]))) return std::nullopt;
    power = std::stoi(p);
  }
  std::optional<Unit> u = symbol_unit(sym);
  if (!u && sym.size() > 1) {
    if (auto scale = prefix_scale(sym[0])) {
      if (auto rest = symbol_unit(sym.substr(1));
          rest && sym.substr(1) != "1" && sym.substr(1) != "kg") {
        u = Unit{rest->dim, rest->scale * *scale};
      }
    }
  }
  if (!u) return std::nullopt;
  return Unit{u->dim.pow(power), std::pow(u->scale, power)};
}
}  // namespace

std::optional<Unit> parse_unit(const std::string &text) {
  std::string s;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) s += c;
  if (s.empty()) return std::nullopt;
  Unit result;
  char op = '*';
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t next = s.find_first_of("*/", pos);
    std::string factor = s.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    auto u = parse_factor(factor);
    if (!u) return std::nullopt;
    if (op == '*')
      result = Unit{result.dim * u->dim, result.scale * u->scale};
    else
      result = Unit{result.dim / u->dim, result.scale / u->scale};
    if (next == std::string::npos) break;
    op = s[next];
    pos = next + 1;
  }
  return result;
}

std::string Dim::str() const {
  if (dimensionless()) return "1";
  for (const auto &n : named_units())
    if (n.dim == *this) return n.symbol;
  // volt-based quotients read better than base units for the common neuron cases
  for (const auto &num : named_units())
    for (const auto &den : named_units())
      if (num.dim / den.dim == *this) return std::string(num.symbol) + "/" + den.symbol;
  static const char *base[] = {"m", "kg", "s", "A", "K", "mol", "cd"};
  std::string out;
  for (int i = 0; i < kBase; ++i) {
    if (!e[i]) continue;
    if (!out.empty()) out += "*";
    out += base[i];
    if (e[i] != 1) out += "^" + std::to_string(e[i]);
  }
  return out;
}

}  // namespace snnc
