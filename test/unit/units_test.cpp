// Units algebra: parsing unit symbols, prefixes, products and dimension spelling.
#include "Units.h"

#include <gtest/gtest.h>

using snnc::Dim;
using snnc::parse_unit;

TEST(Units, PrefixedSymbols) {
  auto mv = parse_unit("mV");
  ASSERT_TRUE(mv);
  EXPECT_DOUBLE_EQ(mv->scale, 1e-3);
  EXPECT_EQ(mv->dim.str(), "V");
  EXPECT_DOUBLE_EQ(parse_unit("ms")->scale, 1e-3);
  EXPECT_EQ(parse_unit("ms")->dim, Dim::base(2));
  EXPECT_DOUBLE_EQ(parse_unit("Mohm")->scale, 1e6);
  EXPECT_DOUBLE_EQ(parse_unit("nA")->scale, 1e-9);
  EXPECT_DOUBLE_EQ(parse_unit("pF")->scale, 1e-12);
  EXPECT_DOUBLE_EQ(parse_unit("uS")->scale, 1e-6);
  EXPECT_EQ(parse_unit("Hz")->dim, Dim::base(2, -1));
}

TEST(Units, DerivedDimensionsAgree) {
  // ohm * A = V ; F * V = C = A s ; S = 1 / ohm
  auto ohm = parse_unit("ohm")->dim, amp = parse_unit("A")->dim, volt = parse_unit("V")->dim;
  EXPECT_EQ(ohm * amp, volt);
  EXPECT_EQ(parse_unit("F")->dim * volt, amp * Dim::base(2));
  EXPECT_EQ(parse_unit("S")->dim, Dim() / ohm);
  // R * I / tau has the dimension of dv/dt
  EXPECT_EQ(parse_unit("Mohm")->dim * parse_unit("nA")->dim / parse_unit("ms")->dim,
            volt / Dim::base(2));
}

TEST(Units, CompoundExpressions) {
  auto u = parse_unit("uA/cm^2");
  ASSERT_TRUE(u);
  EXPECT_NEAR(u->scale, 1e-6 / 1e-4, 1e-15);
  EXPECT_EQ(u->dim.str(), "m^-2*A");
  EXPECT_EQ(parse_unit("mV/ms")->dim.str(), "V/s");
  EXPECT_TRUE(parse_unit("real")->dim.dimensionless());
  EXPECT_TRUE(parse_unit("1")->dim.dimensionless());
}

TEST(Units, Unknown) {
  EXPECT_FALSE(parse_unit("parsec"));
  EXPECT_FALSE(parse_unit("mV^x"));
  EXPECT_FALSE(parse_unit(""));
  EXPECT_FALSE(parse_unit("m/"));
}

TEST(Units, DimStrRoundTrips) {
  for (const char *s : {"V", "A", "s", "ohm", "F", "S", "Hz", "V/s", "1", "m^-2*A"}) {
    auto u = parse_unit(s);
    ASSERT_TRUE(u) << s;
    EXPECT_EQ(parse_unit(u->dim.str())->dim, u->dim) << s;
  }
}
