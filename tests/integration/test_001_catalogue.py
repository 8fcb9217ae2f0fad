"""tests/CATALOGUE.md maps every entry of the security catalogue (groups A P T K R C H X D B)
to the tests that check it. This keeps the map honest: every ID of every group is listed
exactly once, every row names a test or says why none applies (n/a), and every
`file::function` it names exists (found by text, nothing is imported). Needs no server."""

import os
import re

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATALOGUE = os.path.join(TESTS, "CATALOGUE.md")

# entries per group in the catalogue (group L, load and endurance, is not mapped here)
GROUPS = {"A": 10, "P": 10, "T": 8, "K": 6, "R": 6, "C": 7, "H": 6, "X": 7, "D": 7, "B": 9}

ROW = re.compile(r"^\|\s*([A-Z])(\d{2})\s*\|(.*)\|\s*$")
REF = re.compile(r"([\w./-]+\.(?:py|c))::(\w+)")


def rows():
    out = []
    with open(CATALOGUE, encoding="utf-8") as f:
        for line in f:
            m = ROW.match(line.rstrip("\n"))
            if m:
                cells = [c.strip() for c in m.group(3).split("|")]
                out.append((m.group(1) + m.group(2), cells))
    return out


def defines(path, name):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if path.endswith(".py"):
        return re.search(rf"^\s*(async\s+)?def {name}\(", text, re.M) is not None
    # C: a function definition at the start of a line (return type before the name)
    return re.search(rf"^[A-Za-z_][\w \t\*]*\b{name}\s*\(", text, re.M) is not None


def test_every_id_listed_once():
    ids = [i for i, _ in rows()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    expected = {f"{g}{n:02d}" for g, count in GROUPS.items() for n in range(1, count + 1)}
    assert set(ids) == expected, (sorted(expected - set(ids)), sorted(set(ids) - expected))
    assert len(ids) == sum(GROUPS.values())


def test_every_row_has_a_test_or_a_reason():
    for ident, cells in rows():
        assert len(cells) == 3, (ident, cells)        # title | tests | notes
        title, tests, notes = cells
        assert title, ident
        assert REF.search(tests) or "n/a" in notes, ident


def test_named_tests_exist():
    missing = []
    for ident, cells in rows():
        for path, name in REF.findall(cells[1]):
            full = os.path.join(TESTS, path)
            if not os.path.isfile(full) or not defines(full, name):
                missing.append(f"{ident}: {path}::{name}")
    assert not missing, missing


def test_the_checker_notices_a_missing_function(tmp_path):
    """The existence check itself can fail."""
    p = tmp_path / "test_x.py"
    p.write_text("def test_real():\n    pass\n")
    c = tmp_path / "x.c"
    c.write_text("static void test_c(void **state)\n{\n}\n")
    assert defines(str(p), "test_real") and not defines(str(p), "test_fake")
    assert defines(str(c), "test_c") and not defines(str(c), "test_d")
