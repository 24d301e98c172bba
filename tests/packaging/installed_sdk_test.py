"""cmake --install as a user gets it: the files in the GNUInstallDirs layout,
tccd and tccctl --version, the pkg-config file, and
examples/participant-minimal built OUT OF TREE against the installed SDK
(find_package(TccSdk) through CMAKE_PREFIX_PATH), then one payment through
the INSTALLED tccd to that participant, started by the initiator example,
committed on both sides and shown by the installed tccctl.
"""

import json
import os
import re
import unittest

from packaging_support import (BUILD_DIR, CMAKE, SOURCE_DIR, env, install, query, run,
                               scratch_dir, start_listening, start_tccd, wait_for)


class InstalledSdkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.dir = scratch_dir("installed_sdk")
        cls.root = os.path.join(cls.dir, "root")
        cls.usr = os.path.join(cls.root, "usr")
        installed = install(cls.root)
        assert installed.returncode == 0, installed.stdout

    def test_files_are_in_the_standard_layout(self) -> None:
        for path in ["bin/tccd", "bin/tccctl", "include/tcc/sdk/participant_server.h",
                     "include/tcc/sdk/initiator_client.h", "include/tcc/common/status_macros.h",
                     "include/tcc/common/tls.h", "include/tcc/common/mutex.h",
                     "lib/libtcc_mutex.a", "include/tcc/v1/coordinator.grpc.pb.h",
                     "include/tcc/v1/participant.pb.h", "lib/libtcc_sdk.a", "lib/libtcc_proto.a",
                     "lib/cmake/TccSdk/TccSdkConfig.cmake",
                     "lib/cmake/TccSdk/TccSdkConfigVersion.cmake",
                     "lib/cmake/TccSdk/TccSdkTargets.cmake", "lib/pkgconfig/tcc-sdk.pc",
                     "share/tcc/proto/tcc/v1/participant.proto",
                     "share/tcc/proto/tcc/v1/coordinator.proto"]:
            self.assertTrue(os.path.isfile(os.path.join(self.usr, path)), path)
        # The service's files are the package's alone: a plain install leaves /etc alone.
        self.assertFalse(os.path.exists(os.path.join(self.root, "etc")))
        self.assertFalse(os.path.exists(os.path.join(self.root, "lib", "systemd")))

    def test_both_binaries_print_the_version_and_the_same_commit(self) -> None:
        lines = {}
        for program in ["tccd", "tccctl"]:
            result = run([os.path.join(self.usr, "bin", program), "--version"])
            self.assertEqual(result.returncode, 0, result.stdout)
            match = re.fullmatch(program + r" (\d+\.\d+\.\d+) \(commit ([0-9a-z-]+)\)\n",
                                 result.stdout)
            self.assertIsNotNone(match, result.stdout)
            lines[program] = match.groups()
        self.assertEqual(lines["tccd"], lines["tccctl"])
        self.assertNotEqual(lines["tccd"][1], "unknown", "built from a git checkout")

    def test_pkg_config_points_into_the_install(self) -> None:
        pkg_env = {"PKG_CONFIG_PATH": os.path.join(self.usr, "lib", "pkgconfig")}
        flags = run(["pkg-config", "--cflags", "--libs", "tcc-sdk"], extra_env=pkg_env)
        self.assertEqual(flags.returncode, 0, flags.stdout)
        include = re.search(r"-I(\S+)", flags.stdout)
        self.assertIsNotNone(include, flags.stdout)
        self.assertTrue(os.path.isfile(os.path.join(include.group(1), "tcc/sdk/barrier.h")),
                        flags.stdout)
        for lib in ["-ltcc_sdk", "-ltcc_proto", "-lgrpc++", "-lprotobuf", "-lsqlite3"]:
            self.assertIn(lib, flags.stdout)
        protodir = run(["pkg-config", "--variable=protodir", "tcc-sdk"], extra_env=pkg_env)
        self.assertTrue(os.path.isfile(os.path.join(protodir.stdout.strip(),
                                                    "tcc/v1/initiator.proto")), protodir.stdout)

    def test_an_out_of_tree_participant_commits_a_payment_with_the_installed_tccd(self) -> None:
        participant = self.build_participant_out_of_tree()
        work = os.path.join(self.dir, "run")
        os.makedirs(work)
        tccd, tccd_port = start_tccd(os.path.join(self.usr, "bin", "tccd"), work)
        self.addCleanup(tccd.stop)
        points_db = os.path.join(work, "points.db")
        points, points_port = start_listening(
            [participant, "--listen=127.0.0.1:0", f"--db={points_db}"],
            os.path.join(work, "participant.log"))
        self.addCleanup(points.stop)

        shop_db = os.path.join(work, "shop.db")
        paid = run([env("INITIATOR_MINIMAL"), f"--coordinator=127.0.0.1:{tccd_port}",
                    f"--points=127.0.0.1:{points_port}", f"--db={shop_db}",
                    "--status_listen=127.0.0.1:0"], timeout_s=60)
        self.assertEqual(paid.returncode, 0, paid.stdout + tccd.log() + points.log())
        # Commit is acknowledged once durable: COMMITTING, or COMMITTED if the Confirm was quick.
        self.assertRegex(paid.stdout, "order-1 paid; global transaction pay-order-1 is "
                         "TRANSACTION_STATE_COMMIT(TING|TED)\n")

        # Confirm reaches the participant after Commit: 30 of alice's 100 deducted, once.
        self.assertTrue(wait_for(lambda: query(
            points_db, "SELECT balance, frozen FROM accounts WHERE user = 'alice'") == [(70, 0)]),
            query(points_db, "SELECT * FROM accounts"))
        self.assertEqual(query(points_db, "SELECT op, outcome FROM tcc_barrier WHERE gid ="
                               " 'pay-order-1' ORDER BY op"),
                         [("confirm", "success"), ("try", "success")])
        self.assertEqual(query(shop_db, "SELECT state FROM orders WHERE id = 'order-1'"),
                         [("PAID",)])

        def shown_state() -> str:
            shown = run([os.path.join(self.usr, "bin", "tccctl"),
                         f"--addr=127.0.0.1:{tccd_port}", "--json", "show", "pay-order-1"])
            self.assertEqual(shown.returncode, 0, shown.stdout)
            return json.loads(shown.stdout)["transaction"]["state"]

        self.assertTrue(wait_for(lambda: shown_state() == "COMMITTED"), shown_state())

    def build_participant_out_of_tree(self) -> str:
        build = os.path.join(self.dir, "participant-minimal-build")
        configure = [CMAKE, "-S", os.path.join(SOURCE_DIR, "examples", "participant-minimal"),
                     "-B", build, f"-DCMAKE_PREFIX_PATH={self.usr}",
                     f"-DCMAKE_CXX_COMPILER={env('TCC_CXX')}",
                     "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"]
        launcher = os.environ.get("TCC_CXX_LAUNCHER", "")
        if launcher:
            configure.append(f"-DCMAKE_CXX_COMPILER_LAUNCHER={launcher}")
        configured = run(configure)
        self.assertEqual(configured.returncode, 0, configured.stdout)
        built = run([CMAKE, "--build", build, "-j2"], timeout_s=300)
        self.assertEqual(built.returncode, 0, built.stdout)
        print(f"\n--- out-of-tree build of examples/participant-minimal ---\n{configured.stdout}"
              f"{built.stdout}", flush=True)

        # Everything came from the install, nothing from this source or build tree.
        with open(os.path.join(build, "compile_commands.json")) as f:
            command = json.load(f)[0]["command"]
        self.assertIn(f"-isystem {self.usr}/include", command)
        for tree in [os.path.join(SOURCE_DIR, "participant-sdk"), os.path.join(BUILD_DIR, "proto")]:
            self.assertNotIn(tree, command)
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            self.assertIn(f"TccSdk_DIR:PATH={self.usr}/lib/cmake/TccSdk", f.read())
        return os.path.join(build, "participant_minimal")


if __name__ == "__main__":
    unittest.main(verbosity=2)
