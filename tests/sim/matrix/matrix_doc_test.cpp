#include <gtest/gtest.h>

#include "p2pd/sim/matrix/matrix_doc.hpp"

using namespace p2pd::sim;

namespace {

// Three configurations with every outcome somewhere.
nat_matrix sample() {
  auto m = make_matrix({"open_internet/equal", "full_cone/preserving", "symmetric/random"});
  m.provenance = "seed 7, strategies direct,reverse,punch,relay";
  m.at(m.tcp, 0, 0) = {matrix_outcome::direct, 3};
  m.at(m.tcp, 0, 2) = {matrix_outcome::reverse, 41};
  m.at(m.tcp, 1, 2) = {matrix_outcome::tcp_punch, 1200};
  m.at(m.udp, 1, 1) = {matrix_outcome::udp_punch, 180};
  m.at(m.udp, 2, 2) = {matrix_outcome::relay, 95};
  return m;
}

} // namespace

TEST(MatrixDoc, MarkdownReadsBackCellForCell) {
  auto m = sample();
  auto doc = to_markdown(m);
  auto back = parse_markdown(doc);
  ASSERT_TRUE(back) << back.error().what;
  EXPECT_EQ(back->configs, m.configs);
  EXPECT_TRUE(diff(m, *back).empty());
  EXPECT_EQ(to_markdown(*back), to_markdown([&] {
              auto x = m;
              x.provenance.clear();
              return x;
            }()));
}

TEST(MatrixDoc, MarkdownCountsEachOutcome) {
  auto doc = to_markdown(sample());
  EXPECT_NE(doc.find("| direct | 1 | 0 |"), std::string::npos) << doc;
  EXPECT_NE(doc.find("| relay | 0 | 1 |"), std::string::npos) << doc;
  EXPECT_NE(doc.find("| none | 6 | 7 |"), std::string::npos) << doc;
  EXPECT_NE(doc.find("| 2 | - | - | T 1200 |"), std::string::npos) << doc;
}

TEST(MatrixDoc, SameMatrixGivesSameBytes) {
  EXPECT_EQ(to_markdown(sample()), to_markdown(sample()));
  EXPECT_EQ(to_svg(sample()), to_svg(sample()));
}

TEST(MatrixDoc, SvgHasACellPerPairAndTransportAndTheLegend) {
  auto svg = to_svg(sample());
  size_t rects = 0;
  for (auto p = svg.find("<rect"); p != std::string::npos; p = svg.find("<rect", p + 1))
    ++rects;
  // background + 2 x 9 cells + 6 legend swatches
  EXPECT_EQ(rects, 1u + 18u + 6u);
  EXPECT_NE(svg.find("TCP full_cone/preserving -&gt; symmetric/random: TCP punch, 1200 ms"),
            std::string::npos);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
}

TEST(MatrixDoc, DiffNamesTheChangedCell) {
  auto a = sample();
  auto b = sample();
  b.at(b.udp, 2, 0) = {matrix_outcome::udp_punch, 250};
  auto d = diff(a, b);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0], "udp symmetric/random -> open_internet/equal: udp_punch 250 ms, was none 0 ms");
}

TEST(MatrixDoc, MalformedDocumentsSayWhichLine) {
  auto doc = to_markdown(sample());
  auto broken = doc;
  broken.replace(broken.find("T 1200"), 6, "Q 1200");
  auto r = parse_markdown(broken);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what.find("unknown outcome letter"), std::string::npos) << r.error().what;
  EXPECT_NE(r.error().what.find("line "), std::string::npos);

  auto short_row = doc;
  short_row.replace(short_row.find("| 2 | - | - | T 1200 |"), 22, "| 2 | - | T 1200 |");
  EXPECT_FALSE(parse_markdown(short_row));
  EXPECT_FALSE(parse_markdown("# nothing here\n"));
  EXPECT_FALSE(parse_markdown(doc.substr(0, doc.find("## UDP"))));
  auto no_ms = doc;
  no_ms.replace(no_ms.find("T 1200"), 6, "T x");
  EXPECT_FALSE(parse_markdown(no_ms));
}

TEST(MatrixDoc, CheckRefusesMismatchedCellsAndBadLabels) {
  auto m = sample();
  EXPECT_FALSE(check(m));
  m.udp.pop_back();
  EXPECT_TRUE(check(m));
  auto l = sample();
  l.configs[1] = "a|b";
  EXPECT_TRUE(check(l));
}

TEST(MatrixDoc, OutcomeNamesRoundTrip) {
  for (auto x : {matrix_outcome::none, matrix_outcome::direct, matrix_outcome::reverse,
                 matrix_outcome::tcp_punch, matrix_outcome::udp_punch, matrix_outcome::relay}) {
    auto r = parse_matrix_outcome(to_string(x));
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, x);
  }
  EXPECT_FALSE(parse_matrix_outcome("teleport"));
}
