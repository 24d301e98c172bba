"""The tccd package's systemd unit passes `systemd-analyze verify`.

verify loads the unit with everything it names: ExecStart's binary must
exist and the default dependencies (sysinit.target, ...) must load. Neither
the unit nor tccd is installed on this machine (and a container may run no
systemd), so the check runs offline against a scratch root: the tccd
component installed into it as the package lays it out (/usr/bin/tccd,
/lib/systemd/system/tccd.service, /etc/tccd/tccd.conf) next to a copy of
this machine's systemd units. `--root` needs no running systemd.
"""

import os
import shutil
import unittest

from packaging_support import install, run, scratch_dir

SYSTEM_UNITS = "/lib/systemd/system"


def systemd_analyze() -> str:
    path = shutil.which("systemd-analyze")
    if not path or not os.path.isdir(SYSTEM_UNITS):
        raise RuntimeError("systemd-analyze or /lib/systemd/system is missing: install Debian's "
                           "systemd package (tools/setup.sh)")
    return path


class SystemdUnitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.root = os.path.join(scratch_dir("systemd_unit"), "root")
        installed = install(cls.root, component="tccd")
        assert installed.returncode == 0, installed.stdout
        cls.units = os.path.join(cls.root, "lib", "systemd", "system")
        for name in os.listdir(SYSTEM_UNITS):
            if not os.path.exists(os.path.join(cls.units, name)):
                source = os.path.join(SYSTEM_UNITS, name)
                if os.path.islink(source):
                    os.symlink(os.readlink(source), os.path.join(cls.units, name))
                elif os.path.isfile(source):
                    shutil.copy(source, cls.units)

    def verify(self, unit: str):
        return run([systemd_analyze(), "verify", f"--root={self.root}", unit])

    def test_the_component_installs_the_unit_the_binary_and_the_flags(self) -> None:
        for path in ["usr/bin/tccd", "lib/systemd/system/tccd.service", "etc/tccd/tccd.conf"]:
            self.assertTrue(os.path.isfile(os.path.join(self.root, path)), path)
        with open(os.path.join(self.root, "etc/tccd/tccd.conf")) as f:
            self.assertIn('TCCD_FLAGS="--listen=127.0.0.1:7420 --data=/var/lib/tccd/tccd.db',
                          f.read())

    def test_the_unit_verifies_clean(self) -> None:
        result = self.verify("tccd.service")
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertEqual(result.stdout, "", "no warning either")
        with open(os.path.join(self.units, "tccd.service")) as f:
            unit = f.read()
        for line in ["User=tccd", "EnvironmentFile=/etc/tccd/tccd.conf",
                     "ExecStart=/usr/bin/tccd $TCCD_FLAGS", "StateDirectory=tccd",
                     "WantedBy=multi-user.target"]:
            self.assertIn(line + "\n", unit)

    def test_verify_catches_a_bad_key_and_a_missing_binary(self) -> None:
        # The check above can fail: a misspelt key and a missing ExecStart do.
        with open(os.path.join(self.units, "tccd.service")) as f:
            unit = f.read()
        with open(os.path.join(self.units, "tccd-typo.service"), "w") as f:
            f.write(unit.replace("Restart=", "Restrat="))
        typo = self.verify("tccd-typo.service")
        self.assertIn("Unknown key 'Restrat'", typo.stdout)
        with open(os.path.join(self.units, "tccd-missing.service"), "w") as f:
            f.write(unit.replace("/usr/bin/tccd", "/usr/bin/tccd-missing"))
        missing = self.verify("tccd-missing.service")
        self.assertNotEqual(missing.returncode, 0, missing.stdout)
        self.assertIn("/usr/bin/tccd-missing is not executable", missing.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
