// SPDX-License-Identifier: MIT
// Host discovery from mountinfo texts: pure v2, hybrid, none; and which controllers a parent
// cgroup can hand to its children.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cgroup/hierarchy.hpp"
#include "cgroup/limits.hpp"
#include "cgspawn/error.hpp"

using namespace cgspawn;

namespace {

// Debian 12 / Fedora with systemd: only cgroup2, at /sys/fs/cgroup.
const char* kPureV2 =
    "22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "25 22 0:6 / /sys/kernel/security rw,nosuid,nodev,noexec,relatime shared:8 - securityfs securityfs rw\n"
    "26 22 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n"
    "28 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n";

// These machines: v1 controllers, cgroup2 at /sys/fs/cgroup/unified, no systemd.
const char* kHybrid =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

const char* kHybridSelf = "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/85b06f14\n1:cpu:/\n0::/\n";

// systemd's own hybrid layout: controllers mounted together, cgroup2 listed before them.
const char* kSystemdHybrid =
    "26 22 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "27 26 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 "
    "rw,nsdelegate\n"
    "28 26 0:24 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup rw,xattr,name=systemd\n"
    "31 26 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:14 - cgroup cgroup rw,cpu,cpuacct\n"
    "32 26 0:28 / /sys/fs/cgroup/memory rw,nosuid shared:15 - cgroup cgroup rw,memory\n";

// Legacy v1 only, and no cgroups at all.
const char* kV1Only =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n";
const char* kNoCgroups =
    "28 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "22 28 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n";

}  // namespace

TEST_CASE("parse_hierarchy: pure cgroup v2") {
  Hierarchy h = parse_hierarchy(kPureV2, "0::/user.slice/user-1000.slice/session-2.scope\n");
  CHECK(h.layout == CgroupLayout::unified);
  CHECK(h.mount == "/sys/fs/cgroup");
  CHECK(h.v1_controllers.empty());
  CHECK(h.own_cgroup == "/user.slice/user-1000.slice/session-2.scope");
}

TEST_CASE("parse_hierarchy: hybrid, as on these machines") {
  Hierarchy h = parse_hierarchy(kHybrid, kHybridSelf);
  CHECK(h.layout == CgroupLayout::hybrid);
  CHECK(h.mount == "/sys/fs/cgroup/unified");
  CHECK(h.own_cgroup == "/");
  CHECK(h.v1_controllers.at("memory") == "/sys/fs/cgroup/memory");
  CHECK(h.v1_controllers.at("pids") == "/sys/fs/cgroup/pids");
  CHECK(h.v1_controllers.at("cpu") == "/sys/fs/cgroup/cpu");
  CHECK(h.v1_controllers.at("freezer") == "/sys/fs/cgroup/freezer");
  CHECK(h.v1_controllers.count("systemd") == 0);  // name=systemd is no controller
  CHECK(h.v1_controllers.count("name=systemd") == 0);
}

TEST_CASE("parse_hierarchy: systemd's hybrid with co-mounted controllers and optional fields") {
  Hierarchy h = parse_hierarchy(kSystemdHybrid, "1:name=systemd:/init.scope\n0::/init.scope\n");
  CHECK(h.layout == CgroupLayout::hybrid);
  CHECK(h.mount == "/sys/fs/cgroup/unified");
  CHECK(h.v1_controllers.at("cpu") == "/sys/fs/cgroup/cpu,cpuacct");
  CHECK(h.v1_controllers.at("cpuacct") == "/sys/fs/cgroup/cpu,cpuacct");
  CHECK(h.v1_controllers.at("memory") == "/sys/fs/cgroup/memory");
  CHECK(h.own_cgroup == "/init.scope");
}

TEST_CASE("parse_hierarchy: no cgroup2") {
  Hierarchy v1 = parse_hierarchy(kV1Only, "4:memory:/\n8:pids:/\n");
  CHECK(v1.layout == CgroupLayout::none);
  CHECK(v1.mount.empty());
  CHECK(v1.v1_controllers.size() == 2);
  CHECK(v1.own_cgroup.empty());

  Hierarchy nothing = parse_hierarchy(kNoCgroups, "");
  CHECK(nothing.layout == CgroupLayout::none);
  CHECK(nothing.mount.empty());
  CHECK(nothing.v1_controllers.empty());

  Hierarchy empty = parse_hierarchy("", "");
  CHECK(empty.layout == CgroupLayout::none);
}

TEST_CASE("parse_hierarchy: cgroup2 elsewhere; the standard place wins whatever the order") {
  Hierarchy elsewhere = parse_hierarchy("50 1 0:40 / /mnt/cg2 rw,relatime - cgroup2 none rw\n", "0::/\n");
  CHECK(elsewhere.layout == CgroupLayout::unified);
  CHECK(elsewhere.mount == "/mnt/cg2");

  std::string both = std::string("50 1 0:40 / /mnt/cg2 rw,relatime - cgroup2 none rw\n") + kPureV2;
  CHECK(parse_hierarchy(both, "0::/\n").mount == "/sys/fs/cgroup");
}

TEST_CASE("parse_hierarchy: truncated or odd lines do not crash") {
  Hierarchy h = parse_hierarchy("garbage\n1 2\n\n3 4 5 6 /x - \n7 8 0:1 / /y rw - cgroup2\n", "junk\n0::\n");
  CHECK(h.mount == "/y");
  CHECK(h.own_cgroup.empty());
}

namespace {

struct FakeCgroupFs {
  std::string root;
  FakeCgroupFs() {
    char templ[] = "/tmp/cgspawn-unit-XXXXXX";
    REQUIRE(::mkdtemp(templ) != nullptr);
    root = templ;
  }
  ~FakeCgroupFs() { std::filesystem::remove_all(root); }
  void file(const std::string& rel, const std::string& text) const {
    std::filesystem::create_directories(std::filesystem::path(root + "/" + rel).parent_path());
    std::ofstream(root + "/" + rel) << text;
  }
};

}  // namespace

TEST_CASE("controller_capability: delegated, bound to v1, or not delegated") {
  FakeCgroupFs fs;
  fs.file("p/cgroup.controllers", "pids io\n");
  fs.file("cgroup.subtree_control", "cpu\n");
  Hierarchy h;
  h.layout = CgroupLayout::hybrid;
  h.mount = fs.root;
  h.v1_controllers = {{"memory", "/sys/fs/cgroup/memory"}};

  Capability pids = controller_capability("pids", fs.root + "/p", h);
  CHECK(pids.available);

  Capability memory = controller_capability("memory", fs.root + "/p", h);
  CHECK_FALSE(memory.available);
  CHECK(memory.reason.find("memory") != std::string::npos);
  CHECK(memory.reason.find("cgroup v1") != std::string::npos);
  CHECK(memory.reason.find("/sys/fs/cgroup/memory") != std::string::npos);

  Capability cpu = controller_capability("cpu", fs.root + "/p", h);
  CHECK_FALSE(cpu.available);
  CHECK(cpu.reason.find("not delegated") != std::string::npos);

  // A parent that does not exist yet gets what its nearest existing ancestor hands down.
  CHECK(controller_capability("cpu", fs.root + "/q/r", h).available);
  CHECK_FALSE(controller_capability("pids", fs.root + "/q/r", h).available);

  Hierarchy none;
  Capability no = controller_capability("pids", "/anything", none);
  CHECK_FALSE(no.available);
  CHECK(no.reason.find("no cgroup2") != std::string::npos);
}

TEST_CASE("check_limits_available: names the controller, creates nothing") {
  FakeCgroupFs fs;
  fs.file("p/cgroup.controllers", "pids\n");
  Hierarchy h;
  h.layout = CgroupLayout::hybrid;
  h.mount = fs.root;
  h.v1_controllers = {{"memory", "/sys/fs/cgroup/memory"}, {"cpu", "/sys/fs/cgroup/cpu"}};
  std::string parent = fs.root + "/p";

  CHECK_NOTHROW(check_limits_available(Limits{}, parent, h));
  Limits pids;
  pids.pids_max = 10;
  CHECK_NOTHROW(check_limits_available(pids, parent, h));

  auto refused = [&](const Limits& limits, const std::string& controller) {
    try {
      check_limits_available(limits, parent, h);
      FAIL("the " << controller << " limit was not refused");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::unsupported);
      std::string what = e.what();
      CHECK(what.find(controller) != std::string::npos);
      CHECK(what.find("cgroup v1") != std::string::npos);
    }
  };
  Limits memory;
  memory.memory_max_bytes = 1 << 20;
  refused(memory, "memory");
  Limits cpu;
  cpu.cpu_max_percent = 50;
  refused(cpu, "cpu");
  for (const auto& e : std::filesystem::directory_iterator(parent)) CHECK_FALSE(e.is_directory());
}
