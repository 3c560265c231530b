#include <atomic>
#include <set>
#include <stdexcept>

#include <gtest/gtest.h>

#include "p2pd/sim/matrix/matrix_run.hpp"

using namespace p2pd::sim;

TEST(MatrixRun, ThereAre35DistinctConfigurations) {
  auto all = all_35_configs();
  ASSERT_EQ(all.size(), 35u);
  std::set<std::string> labels;
  for (auto& c : all) {
    labels.insert(c.label);
    EXPECT_FALSE(check(c.profile)) << c.label;
  }
  EXPECT_EQ(labels.size(), 35u);
  EXPECT_EQ(all.front().label, "open_internet/equal");
  EXPECT_EQ(all.back().label, "blocked/random");
}

TEST(MatrixRun, EveryCellComesFromItsOwnPairOnAnyNumberOfThreads) {
  auto all = all_35_configs();
  std::vector<matrix_config> three(all.begin(), all.begin() + 3);
  // A runner whose answer names the pair: any mix-up shows.
  auto runner = [](const matrix_pair& p) {
    matrix_cell c;
    c.how = p.transport == matrix_transport::tcp ? matrix_outcome::tcp_punch
                                                 : matrix_outcome::udp_punch;
    c.virtual_ms = static_cast<uint32_t>(p.row * 100 + p.col);
    return c;
  };
  size_t last = 0, total = 0, calls = 0;
  auto m1 = run_matrix(three, 9, 1, runner, [&](size_t done, size_t all_pairs) {
    EXPECT_GT(done, last);
    last = done;
    total = all_pairs;
    ++calls;
  });
  EXPECT_EQ(total, 18u);
  EXPECT_EQ(last, 18u);
  EXPECT_GE(calls, 1u);
  auto m4 = run_matrix(three, 9, 4, runner);
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 3; ++j) {
      EXPECT_EQ(m1.at(m1.tcp, i, j).how, matrix_outcome::tcp_punch);
      EXPECT_EQ(m1.at(m1.udp, i, j).how, matrix_outcome::udp_punch);
      EXPECT_EQ(m1.at(m1.tcp, i, j).virtual_ms, i * 100 + j);
    }
  EXPECT_TRUE(diff(m1, m4).empty());
}

TEST(MatrixRun, PairSeedsDifferByPairAndTransportAndRepeat) {
  std::set<uint64_t> seeds;
  for (size_t i = 0; i < 35; ++i)
    for (size_t j = 0; j < 35; ++j)
      for (auto t : {matrix_transport::tcp, matrix_transport::udp})
        seeds.insert(pair_seed(1, i, j, t));
  EXPECT_EQ(seeds.size(), 35u * 35u * 2u);
  EXPECT_EQ(pair_seed(1, 3, 4, matrix_transport::udp), pair_seed(1, 3, 4, matrix_transport::udp));
  EXPECT_NE(pair_seed(1, 3, 4, matrix_transport::udp), pair_seed(2, 3, 4, matrix_transport::udp));
}

TEST(MatrixRun, APairWhoseRunThrowsIsNamedAfterTheOthersRan) {
  auto all = all_35_configs();
  std::vector<matrix_config> three(all.begin(), all.begin() + 3);
  std::atomic<size_t> ran{0};
  auto runner = [&](const matrix_pair& p) {
    ++ran;
    if (p.row == 1 && p.col == 2 && p.transport == matrix_transport::udp)
      throw std::invalid_argument("an address in use");
    return matrix_cell{};
  };
  try {
    run_matrix(three, 1, 2, runner);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string{e.what()},
              "the run of udp open_internet/preserving -> open_internet/independent: an address "
              "in use");
  }
  EXPECT_EQ(ran.load(), 18u);
}
