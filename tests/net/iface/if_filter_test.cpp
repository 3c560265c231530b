#include "p2pd/net/iface/if_filter.hpp"

#include <gtest/gtest.h>

#include "support/netns.hpp"

using namespace p2pd::net;
using p2pd::test::child_checks;
using p2pd::test::run_in_new_netns;
using p2pd::test::sh;

namespace {

interface_info nic(std::string name, bool up = true, bool loopback = false) {
  interface_info i;
  i.name = std::move(name);
  i.flags.up = up;
  i.flags.loopback = loopback;
  return i;
}

std::vector<std::string> names(const std::vector<interface_info>& xs) {
  std::vector<std::string> out;
  for (const auto& x : xs)
    out.push_back(x.name);
  return out;
}

using strings = std::vector<std::string>;

} // namespace

TEST(if_filter, an_exact_pattern_matches_only_that_name) {
  EXPECT_TRUE(name_matches("eth0", "eth0"));
  EXPECT_FALSE(name_matches("eth0", "eth01"));
  EXPECT_FALSE(name_matches("eth0", "eth"));
}

TEST(if_filter, a_trailing_star_matches_a_prefix) {
  EXPECT_TRUE(name_matches("eth*", "eth0"));
  EXPECT_TRUE(name_matches("eth*", "eth"));
  EXPECT_FALSE(name_matches("eth*", "veth0"));
  EXPECT_TRUE(name_matches("*", "anything"));
}

TEST(if_filter, by_default_keeps_up_physical_interfaces) {
  interface_filter_config cfg;
  EXPECT_TRUE(keep_interface(nic("eth0"), cfg));
  EXPECT_TRUE(keep_interface(nic("wlp2s0"), cfg));
  EXPECT_TRUE(keep_interface(nic("enp3s0"), cfg));
}

TEST(if_filter, by_default_leaves_out_down_interfaces) {
  interface_filter_config cfg;
  EXPECT_FALSE(keep_interface(nic("eth0", false), cfg));
  cfg.include_down = true;
  EXPECT_TRUE(keep_interface(nic("eth0", false), cfg));
}

TEST(if_filter, by_default_leaves_out_container_and_vm_bridges) {
  interface_filter_config cfg;
  for (const char* name : {"docker0", "veth1a2b3c", "br-0123abcd", "virbr0", "virbr0-nic"})
    EXPECT_FALSE(keep_interface(nic(name), cfg)) << name;
  // Only those prefixes: a bridge called br0 may be the host's LAN.
  EXPECT_TRUE(keep_interface(nic("br0"), cfg));
  cfg.include_virtual = true;
  EXPECT_TRUE(keep_interface(nic("docker0"), cfg));
}

TEST(if_filter, by_default_leaves_out_loopback) {
  interface_filter_config cfg;
  EXPECT_FALSE(keep_interface(nic("lo", true, true), cfg));
  cfg.include_loopback = true;
  EXPECT_TRUE(keep_interface(nic("lo", true, true), cfg));
}

TEST(if_filter, virtual_prefixes_are_configurable) {
  interface_filter_config cfg;
  cfg.virtual_prefixes = {"tap"};
  EXPECT_FALSE(keep_interface(nic("tap0"), cfg));
  EXPECT_TRUE(keep_interface(nic("docker0"), cfg));
}

TEST(if_filter, an_allow_list_restricts_to_its_names) {
  interface_filter_config cfg;
  cfg.allow = {"eth*", "wlan0"};
  EXPECT_TRUE(keep_interface(nic("eth0"), cfg));
  EXPECT_TRUE(keep_interface(nic("eth1"), cfg));
  EXPECT_TRUE(keep_interface(nic("wlan0"), cfg));
  EXPECT_FALSE(keep_interface(nic("wlan1"), cfg));
  EXPECT_FALSE(keep_interface(nic("enp3s0"), cfg));
}

TEST(if_filter, deny_wins_over_allow) {
  interface_filter_config cfg;
  cfg.allow = {"eth*"};
  cfg.deny = {"eth1"};
  EXPECT_TRUE(keep_interface(nic("eth0"), cfg));
  EXPECT_FALSE(keep_interface(nic("eth1"), cfg));
}

TEST(if_filter, a_deny_glob_leaves_out_every_match) {
  interface_filter_config cfg;
  cfg.deny = {"wl*"};
  EXPECT_FALSE(keep_interface(nic("wlan0"), cfg));
  EXPECT_FALSE(keep_interface(nic("wlp2s0"), cfg));
  EXPECT_TRUE(keep_interface(nic("eth0"), cfg));
}

TEST(if_filter, naming_loopback_or_a_virtual_interface_exactly_in_allow_keeps_it) {
  interface_filter_config cfg;
  cfg.allow = {"lo", "docker0"};
  EXPECT_TRUE(keep_interface(nic("lo", true, true), cfg));
  EXPECT_TRUE(keep_interface(nic("docker0"), cfg));
}

TEST(if_filter, an_allow_glob_does_not_pull_in_loopback_or_virtual_interfaces) {
  interface_filter_config cfg;
  cfg.allow = {"*"};
  EXPECT_FALSE(keep_interface(nic("lo", true, true), cfg));
  EXPECT_FALSE(keep_interface(nic("docker0"), cfg));
  EXPECT_TRUE(keep_interface(nic("eth0"), cfg));
}

TEST(if_filter, an_allowed_interface_that_is_down_is_still_left_out) {
  interface_filter_config cfg;
  cfg.allow = {"eth0"};
  EXPECT_FALSE(keep_interface(nic("eth0", false), cfg));
}

TEST(if_filter, filter_interfaces_keeps_order) {
  std::vector<interface_info> all{nic("lo", true, true), nic("eth0"), nic("docker0"),
                                  nic("eth1", false), nic("wlan0"), nic("veth9")};
  EXPECT_EQ(names(filter_interfaces(all, {})), (strings{"eth0", "wlan0"}));
}

TEST(if_filter, leaves_out_virtual_down_and_loopback_interfaces_of_a_real_listing) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = run_in_new_netns([]() -> std::string {
    auto setup = "ip link set lo up && " + p2pd::test::add_nic_cmd("eth0")
                 + " && ip link add docker0 type bridge && ip link set docker0 up"
                   " && ip link add br-1234 type bridge && ip link set br-1234 up"
                   " && ip link add virbr0 type bridge && ip link set virbr0 up"
                   " && ip link add eth1 type veth peer name veth-eth1";
    if (auto err = sh(setup); !err.empty())
      return err;
    auto table = list_interfaces();
    if (!table)
      return to_string(table.error());
    child_checks c;
    NETNS_EXPECT_EQ(c, table->interfaces.size(), size_t{8});
    auto kept = filter_interfaces(table->interfaces, {});
    NETNS_EXPECT(c, names(kept) == strings{"eth0"});
    return c.failures();
  });
  EXPECT_TRUE(out.ok) << out.report;
}
