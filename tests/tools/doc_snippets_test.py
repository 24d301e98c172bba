"""tools/doc_snippets.py on a scratch tree: a marked block equal to its
region passes; a block that differs, an unmarked C++ block, an unknown file
or region, and an unterminated region fail with a message naming the place;
--write rewrites the differing block from the code (nested markers dropped,
indentation removed), after which the check passes; a Markdown file under a
build directory is not read.

Usage: doc_snippets_test.py PATH_TO_doc_snippets.py
"""

import os
import subprocess
import sys
import tempfile
import unittest

TOOL = sys.argv[1]

SOURCE = """\
int unrelated();
// [snippet outer]
namespace demo {
  // [snippet inner]
  int Answer() { return 42; }
  // [end snippet]
}
// [end snippet]
"""


def fenced(language: str, body: str) -> str:
    return f"```{language}\n{body}```\n"


class DocSnippetsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.root = self.dir.name
        self.write("src/demo.cc", SOURCE)

    def tearDown(self) -> None:
        self.dir.cleanup()

    def write(self, relative: str, text: str) -> str:
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_tool(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, TOOL, *args, self.root], capture_output=True,
                              text=True, timeout=30)

    def test_an_equal_block_passes_and_other_languages_need_no_marker(self) -> None:
        self.write("README.md", "# Demo\n\n<!-- snippet: src/demo.cc#inner -->\n"
                   + fenced("cpp", "int Answer() { return 42; }\n")
                   + "\n" + fenced("sh", "make\n"))
        result = self.run_tool()
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_a_differing_block_fails_and_write_fixes_it(self) -> None:
        readme = self.write("docs/README.md", "<!-- snippet: src/demo.cc#outer -->\n"
                            + fenced("cpp", "namespace demo {}\n") + "after\n")
        result = self.run_tool()
        self.assertEqual(result.returncode, 1)
        self.assertIn("docs/README.md:2: block differs from src/demo.cc#outer", result.stderr)

        self.assertEqual(self.run_tool("--write").returncode, 0)
        with open(readme) as f:
            self.assertEqual(f.read(), "<!-- snippet: src/demo.cc#outer -->\n```cpp\n"
                             "namespace demo {\n  int Answer() { return 42; }\n}\n```\nafter\n")
        self.assertEqual(self.run_tool().returncode, 0)

    def test_an_unmarked_cpp_block_fails(self) -> None:
        self.write("README.md", "text\n\n" + fenced("c++", "int x;\n"))
        result = self.run_tool()
        self.assertEqual(result.returncode, 1)
        self.assertIn("README.md:3: C++ block without a <!-- snippet: FILE#NAME --> marker",
                      result.stderr)
        # --write cannot invent the code either.
        self.assertEqual(self.run_tool("--write").returncode, 1)

    def test_unknown_files_regions_and_unterminated_regions_fail(self) -> None:
        self.write("broken.cc", "// [snippet open]\nint x;\n")
        self.write("README.md", "<!-- snippet: src/missing.cc#inner -->\n" + fenced("cpp", "")
                   + "<!-- snippet: src/demo.cc#nowhere -->\n" + fenced("cpp", "")
                   + "<!-- snippet: broken.cc#open -->\n" + fenced("cpp", ""))
        result = self.run_tool()
        self.assertEqual(result.returncode, 1)
        self.assertIn("src/missing.cc", result.stderr)
        self.assertIn("src/demo.cc has no region [snippet nowhere]", result.stderr)
        self.assertIn("[snippet open] is never ended", result.stderr)

    def test_markdown_under_a_build_directory_is_not_read(self) -> None:
        self.write("build/README.md", fenced("cpp", "int x;\n"))
        self.assertEqual(self.run_tool().returncode, 0)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
