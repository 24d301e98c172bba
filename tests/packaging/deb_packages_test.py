"""cpack -G DEB builds the three Debian packages (tccd, tccctl,
libtcc-sdk-dev) from this build tree; dpkg-deb shows that each holds its
files and only those, with its metadata: dependencies, the conffile, the
maintainer scripts that create the tccd user.
"""

import os
import re
import unittest

from packaging_support import BUILD_DIR, env, run, scratch_dir

VERSION = re.compile(r"\d+\.\d+\.\d+")


class DebPackagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.dir = scratch_dir("deb_packages")
        built = run([env("CPACK_COMMAND"), "-G", "DEB", "-B", cls.dir, "--config",
                     os.path.join(BUILD_DIR, "CPackConfig.cmake")], timeout_s=300)
        assert built.returncode == 0, built.stdout
        cls.debs = {name.split("_")[0]: os.path.join(cls.dir, name)
                    for name in os.listdir(cls.dir) if name.endswith(".deb")}
        listing = run(["ls", "-l"] + sorted(cls.debs.values()))
        print(f"\n--- packages ---\n{listing.stdout}", flush=True)

    def contents(self, package: str) -> set:
        listed = run(["dpkg-deb", "-c", self.debs[package]])
        self.assertEqual(listed.returncode, 0, listed.stdout)
        return {line.split()[-1].lstrip(".") for line in listed.stdout.splitlines()
                if not line.startswith("d")}

    def field(self, package: str, name: str) -> str:
        shown = run(["dpkg-deb", "-f", self.debs[package], name])
        self.assertEqual(shown.returncode, 0, shown.stdout)
        return shown.stdout.strip()

    def test_three_packages_named_by_debian_convention(self) -> None:
        self.assertEqual(sorted(self.debs), ["libtcc-sdk-dev", "tccctl", "tccd"])
        for package, path in self.debs.items():
            self.assertRegex(os.path.basename(path), rf"^{package}_\d+\.\d+\.\d+_amd64\.deb$")
            self.assertRegex(self.field(package, "Version"), VERSION)

    def test_tccd_is_the_daemon_and_its_service(self) -> None:
        self.assertEqual(self.contents("tccd"), {"/usr/bin/tccd", "/lib/systemd/system/tccd.service",
                                                 "/etc/tccd/tccd.conf"})
        depends = self.field("tccd", "Depends")
        expected = ["adduser", "libgrpc++1.51", "libprotobuf32", "libsqlite3-0", "libpq5"]
        if os.environ.get("TCC_JEMALLOC") == "ON":
            expected.append("libjemalloc2")  # tccd's allocator (TCC_JEMALLOC)
        for dependency in expected:
            self.assertIn(dependency, depends)
        info = run(["dpkg-deb", "-I", self.debs["tccd"]]).stdout
        for script in ["conffiles", "postinst", "prerm", "postrm"]:
            self.assertRegex(info, rf"\n\s+\d+ bytes,\s+\d+ lines\s+\*?\s*{script}\b")
        control = os.path.join(self.dir, "tccd-control")
        run(["dpkg-deb", "-e", self.debs["tccd"], control])
        with open(os.path.join(control, "conffiles")) as f:
            self.assertEqual(f.read(), "/etc/tccd/tccd.conf\n")
        with open(os.path.join(control, "postinst")) as f:
            postinst = f.read()
        self.assertIn("adduser --system --group --home /var/lib/tccd", postinst)
        self.assertIn("install -d -o tccd -g tccd -m 0750 /var/lib/tccd", postinst)
        self.assertTrue(os.access(os.path.join(control, "postinst"), os.X_OK))

    def test_tccctl_is_the_cli_alone(self) -> None:
        self.assertEqual(self.contents("tccctl"), {"/usr/bin/tccctl"})
        self.assertIn("libgrpc++1.51", self.field("tccctl", "Depends"))

    def test_the_sdk_package_has_headers_libraries_config_and_protos(self) -> None:
        files = self.contents("libtcc-sdk-dev")
        for path in ["/usr/include/tcc/sdk/participant_server.h",
                     "/usr/include/tcc/common/status_macros.h",
                     "/usr/include/tcc/v1/coordinator.grpc.pb.h", "/usr/lib/libtcc_sdk.a",
                     "/usr/lib/libtcc_proto.a", "/usr/lib/libtcc_tls.a",
                     "/usr/lib/libtcc_sqlite_status.a", "/usr/lib/libtcc_mutex.a",
                     "/usr/include/tcc/common/mutex.h", "/usr/lib/cmake/TccSdk/TccSdkConfig.cmake",
                     "/usr/lib/cmake/TccSdk/TccSdkTargets.cmake", "/usr/lib/pkgconfig/tcc-sdk.pc",
                     "/usr/share/tcc/proto/tcc/v1/participant.proto"]:
            self.assertIn(path, files)
        self.assertFalse([f for f in files if f.startswith("/usr/bin/") or f.startswith("/etc/")])
        depends = self.field("libtcc-sdk-dev", "Depends")
        for dependency in ["libgrpc++-dev (>= 1.51)", "libprotobuf-dev (>= 3.21)",
                           "libprotobuf-dev (<< 3.22)", "libabsl-dev", "libsqlite3-dev",
                           "libspdlog-dev"]:
            self.assertIn(dependency, depends)
        self.assertEqual(self.field("libtcc-sdk-dev", "Section"), "libdevel")


if __name__ == "__main__":
    unittest.main(verbosity=2)
