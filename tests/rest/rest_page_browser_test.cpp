// The status page in headless Chromium: the page's script reads the token
// from the URL's fragment, calls the API, and the DOM then shows what the
// API says (the node's id and address, its peers and named connections).
// A screenshot is kept in the build directory (rest_status_page.png).

#include "rest_fixture.hpp"

namespace p2pd::test {

class RestPageBrowser : public rest_fixture {
protected:
  // Runs headless Chromium on `url` with `mode` (--dump-dom or
  // --screenshot=...); its output (the DOM for --dump-dom) is returned.
  std::string chromium(const std::string& url, const std::string& mode) {
    auto profile = dir.path() + "/chromium-profile" + std::to_string(++runs);
    auto log = dir.path() + "/chromium" + std::to_string(runs) + ".log";
    child_process p;
    std::string why;
    EXPECT_TRUE(p.start({"chromium", "--headless", "--no-sandbox", "--disable-gpu",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--user-data-dir=" + profile, "--virtual-time-budget=5000",
                         "--window-size=1200,900", mode, url},
                        log, why))
      << why;
    EXPECT_TRUE(p.wait_exit(90000)) << "chromium did not end: " << read_file(log);
    return read_file(log);
  }

  int runs = 0;
};

TEST_F(RestPageBrowser, ShowsTheNodeThatTheApiDescribes) {
  ASSERT_TRUE(have_program("chromium")) << "chromium is not installed (scripts/install-deps.sh)";
  auto a = serve();
  auto b = serve();
  auto open = post(a, "/open/to-b/" + b.node.address());
  ASSERT_EQ(open.status, 200) << open.body;
  ASSERT_EQ(post(a, "/send/to-b", "hello").status, 200);
  auto addr = get(a, "/addr").json();
  auto id = addr["id"].get<std::string>();
  auto address = addr["address"].get<std::string>();

  auto dom = chromium(a.rest.page_url(), "--dump-dom");
  EXPECT_NE(dom.find("<dd id=\"node-id\" class=\"mono\">" + id + "</dd>"), std::string::npos) << dom;
  EXPECT_NE(dom.find(address), std::string::npos) << dom;
  EXPECT_NE(dom.find("<td>to-b</td>"), std::string::npos) << dom;
  EXPECT_NE(dom.find("<td>direct</td>"), std::string::npos) << dom;
  EXPECT_NE(dom.find(b.node.id()), std::string::npos) << dom;
  EXPECT_NE(dom.find("<td>lo</td>"), std::string::npos) << dom;
  // The lab's NAT matrix (docs/punch-matrix.svg), served from the binary.
  EXPECT_NE(dom.find("data-loaded=\"yes\""), std::string::npos) << dom;

  auto shot = std::string(REST_ARTIFACT_DIR) + "/rest_status_page.png";
  ::unlink(shot.c_str());
  chromium(a.rest.page_url(), "--screenshot=" + shot);
  EXPECT_GT(read_file(shot).size(), 10000u) << "no screenshot at " << shot;
}

TEST_F(RestPageBrowser, WithoutATokenThePageShowsNothingOfTheNode) {
  ASSERT_TRUE(have_program("chromium")) << "chromium is not installed (scripts/install-deps.sh)";
  auto a = serve();
  auto url = "http://127.0.0.1:" + std::to_string(a.rest.port) + "/";
  auto dom = chromium(url, "--dump-dom");
  EXPECT_NE(dom.find("no token"), std::string::npos) << dom;
  EXPECT_EQ(dom.find(a.node.id()), std::string::npos) << dom;
}

} // namespace p2pd::test
