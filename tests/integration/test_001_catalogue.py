"""tests/CATALOGUE.md maps every entry of the security catalogue (groups A P T K R C H X D B)
to the tests that check it. This keeps the map honest: every ID of every group is listed
exactly once, every row names a test or says why none applies (n/a), and every
`file::function` it names exists (found by text). Integration tests say which entries they
check with @pytest.mark.catalogue("A03", ...): the markers, as pytest collects them, and the
table's integration column must be the same map. Needs no server."""

import json
import os
import re
import subprocess
import sys

import pytest

INTEGRATION = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(INTEGRATION)
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


@pytest.fixture(scope="module")
def markers(tmp_path_factory):
    """{(file, function): {ids}} of the integration tests, from pytest's own collection (a
    child pytest, so that this file alone sees every other file's markers)."""
    dump = tmp_path_factory.mktemp("catalogue") / "markers.json"
    env = dict(os.environ, OAS_IT_CATALOGUE_DUMP=str(dump))
    r = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                        "-p", "no:cacheprovider", INTEGRATION],
                       env=env, cwd=TESTS, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    out = {}
    for nodeid, ids in json.loads(dump.read_text()).items():
        path, name = nodeid.split("::", 1)
        out.setdefault((os.path.basename(path), name.split("[", 1)[0]), set()).update(ids)
    return out


def test_every_row_has_a_marked_test(markers):
    """Every row is title | tests | notes, and every ID has an integration test marked with it
    (a unit or fuzz test, or an n/a reason, may stand beside it, not instead of it)."""
    marked_ids = set().union(*markers.values())
    for ident, cells in rows():
        assert len(cells) == 3, (ident, cells)        # title | tests | notes
        assert cells[0], ident
    assert not [i for i, _ in rows() if i not in marked_ids]


def test_named_tests_exist_and_match_the_markers(markers):
    """Every named function exists; the integration tests a row names are exactly the tests
    marked with its ID, and every marker's ID is a catalogue entry."""
    missing = []
    table = {}
    for ident, cells in rows():
        for path, name in REF.findall(cells[1]):
            full = os.path.join(TESTS, path)
            if not os.path.isfile(full) or not defines(full, name):
                missing.append(f"{ident}: {path}::{name}")
            if path.startswith("integration/"):
                table.setdefault((os.path.basename(path), name), set()).add(ident)
    assert not missing, missing
    known = {i for i, _ in rows()}
    unknown = {k: ids - known for k, ids in markers.items() if ids - known}
    assert not unknown, unknown
    only_table = {k: v - markers.get(k, set()) for k, v in table.items()
                  if v - markers.get(k, set())}
    only_marked = {k: v - table.get(k, set()) for k, v in markers.items()
                   if v - table.get(k, set())}
    assert not only_table and not only_marked, (
        f"in CATALOGUE.md but not marked: {only_table}; marked but not in CATALOGUE.md: "
        f"{only_marked}")


def test_the_checker_notices_a_missing_function(tmp_path):
    """The existence check itself can fail."""
    p = tmp_path / "test_x.py"
    p.write_text("def test_real():\n    pass\n")
    c = tmp_path / "x.c"
    c.write_text("static void test_c(void **state)\n{\n}\n")
    assert defines(str(p), "test_real") and not defines(str(p), "test_fake")
    assert defines(str(c), "test_c") and not defines(str(c), "test_d")


# ---- README.md "FAPI 2.0 conformance": conformance module | variants | test ------------------

README = os.path.join(os.path.dirname(TESTS), "README.md")
FAPI_FILES = ("test_810_fapi2_conformance.py", "test_815_fapi2_message_signing.py")


def fapi_rows():
    """(module, variants, [(file, function)]) of the table under "### FAPI 2.0 conformance"."""
    text = open(README, encoding="utf-8").read()
    section = text.split("### FAPI 2.0 conformance\n", 1)[1].split("\n## ", 1)[0]
    section = section.split("\n### ", 1)[0]
    out = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 3 and REF.search(cells[2]):
            out.append((cells[0], cells[1], REF.findall(cells[2])))
    return out


def test_readme_fapi2_conformance_table():
    """Every test the table names exists (in tests/integration/), every test of test_810 and
    test_815 is in the table, and the variants named are the two of the plan."""
    rows_ = fapi_rows()
    assert len(rows_) > 60, len(rows_)
    missing, named = [], set()
    for module, variants, refs in rows_:
        assert module and ("private_key_jwt-dpop" in variants), (module, variants)
        for path, name in refs:
            full = os.path.join(INTEGRATION, path)
            if not os.path.isfile(full) or not defines(full, name):
                missing.append(f"{module}: {path}::{name}")
            named.add((path, name))
    assert not missing, missing
    for path in FAPI_FILES:
        with open(os.path.join(INTEGRATION, path), encoding="utf-8") as f:
            tests = re.findall(r"^def (test_\w+)\(", f.read(), re.M)
        assert tests, path
        unlisted = [t for t in tests if (path, t) not in named]
        assert not unlisted, (path, unlisted)
