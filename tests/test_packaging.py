"""What ships and what it needs (issue 18).

- The lock (requirements/*.txt) agrees with pyproject.toml: every dependency, core and extra,
  pinned at a version its range admits, every pin hashed, shared packages at one version,
  and none of the extras' packages in the core lock.
- A wheel built from this tree installs into a new venv with the core lock's packages only
  (offline: the wheels `make test` fetched by hash into .venv/wheels-core), and there
  `seedguard --version` runs, a core command works, and each command whose extra is
  missing says which one to install, in one line, exit 2, no traceback.
- Two builds with the same SOURCE_DATE_EPOCH are byte for byte the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import make_home, run_cli
from tests.servers import S3Server

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements"
WHEELS_CORE = ROOT / ".venv" / "wheels-core"
# The lock's platform (Makefile: --python-version 3.11 --python-platform x86_64 Linux).
ENVIRONMENT = {
    **default_environment(),
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
EXTRA_ONLY = {"boto3", "webdav4", "fastapi", "uvicorn", "sqlalchemy", "alembic", "psycopg",
              "prometheus-client", "numba", "numpy"}  # fmt: skip


def _pins(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of a requirements file written by `make lock`."""
    pins: dict[str, tuple[str, list[str]]] = {}
    text = path.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("--") else line
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)(.*)$", line.strip())
        if match:
            hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", match.group(3))
            pins[canonicalize_name(match.group(1))] = (match.group(2), hashes)
    return pins


def _pyproject() -> dict[str, list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = {"core": [Requirement(r) for r in project["dependencies"]]}
    for extra, reqs in project["optional-dependencies"].items():
        groups[extra] = [Requirement(r) for r in reqs]
    return groups


def _check(requirements: list[Requirement], pins: dict[str, tuple[str, list[str]]]) -> None:
    for req in requirements:
        name = canonicalize_name(req.name)
        if name == "seedguard" or (req.marker and not req.marker.evaluate(ENVIRONMENT)):
            continue
        assert name in pins, f"{req} is in pyproject.toml but not in the lock: run make lock"
        version = pins[name][0]
        assert req.specifier.contains(version, prereleases=True), (
            f"the lock pins {name}=={version}, outside pyproject.toml's {req}: run make lock"
        )


def test_the_lock_agrees_with_pyproject() -> None:
    groups = _pyproject()
    core, dev, build = (_pins(REQUIREMENTS / f"{n}.txt") for n in ("core", "dev", "build"))
    _check(groups["core"], core)
    for extra in ("s3", "webdav", "server", "repair", "dev"):
        _check(groups[extra], dev)
    _check(groups["core"], dev)
    _check([Requirement(line.split("#")[0]) for line in
            (REQUIREMENTS / "build.in").read_text().splitlines()
            if line.split("#")[0].strip()], build)  # fmt: skip
    assert {"boto3", "numba", "fastapi"} <= dev.keys()
    assert not EXTRA_ONLY & core.keys(), "the core lock carries an extra's package"
    for pins in (core, dev, build):
        for name, (version, hashes) in pins.items():
            assert hashes, f"{name}=={version} has no hash"
    for name in core.keys() & dev.keys():
        assert core[name][0] == dev[name][0], f"{name}: core and dev locks differ"
    for name in build.keys() & dev.keys():
        assert build[name][0] == dev[name][0], f"{name}: build and dev locks differ"


def _direct(path: Path) -> set[str]:
    """The pins `make lock` wrote because pyproject.toml asks for them (uv's `# via`)."""
    direct, current = set(), None
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==", line)
        if match:
            current = canonicalize_name(match.group(1))
        elif current and "seedguard (pyproject.toml)" in line:
            direct.add(current)
    return direct


def test_the_lock_pins_no_dependency_that_pyproject_dropped() -> None:
    groups = _pyproject()

    def names(*group_names: str) -> set[str]:
        return {canonicalize_name(r.name) for g in group_names for r in groups[g]} - {"seedguard"}

    assert _direct(REQUIREMENTS / "core.txt") == names("core"), "run make lock"
    everything = names("core", "s3", "webdav", "server", "repair", "dev")
    assert _direct(REQUIREMENTS / "dev.txt") == everything, "run make lock"


def test_the_all_extra_is_every_extra() -> None:
    groups = _pyproject()
    (everything,) = groups["all"]
    assert everything.extras == {"s3", "webdav", "server", "repair"}
    assert set(groups) == {"core", "s3", "webdav", "server", "repair", "all", "dev"}


def test_the_makefile_installs_by_hash() -> None:
    makefile = (ROOT / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if "install" in line and "-r " in line]
    assert installs, "make installs nothing from the lock"
    assert all("--require-hashes" in line for line in installs)


# --- builds ---------------------------------------------------------------------------------


def _build(outdir: Path, epoch: str = "1700000000", *kinds: str) -> list[Path]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": epoch}
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", *kinds, "--outdir", str(outdir)],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    return sorted(outdir.iterdir())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_two_builds_of_the_wheel_and_sdist_are_identical(tmp_path: Path) -> None:
    first = _build(tmp_path / "one")
    second = _build(tmp_path / "two")
    assert [p.name for p in first] == [p.name for p in second]
    assert {p.suffix for p in first} == {".whl", ".gz"}
    assert [_digest(p) for p in first] == [_digest(p) for p in second]


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with the core lock's packages and the wheel built from this tree, no more."""
    if not WHEELS_CORE.is_dir() or not any(WHEELS_CORE.glob("*.whl")):
        pytest.fail(
            "no .venv/wheels-core: run `make test` (or `make .venv/wheels-core/.done`) first"
        )
    base = tmp_path_factory.mktemp("core")
    (wheel,) = _build(base / "dist", "1700000000", "--wheel")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--quiet", "--disable-pip-version-check"]
    wheels = sorted(str(p) for p in WHEELS_CORE.glob("*.whl"))
    subprocess.run([*pip, "install", "--no-index", "--no-deps", *wheels, str(wheel)], check=True)
    check = subprocess.run([*pip, "check"], capture_output=True, text=True)
    assert check.returncode == 0, f"the core lock does not satisfy the wheel: {check.stdout}"
    return venv


def _seedguard(
    venv: Path,
    *args: str,
    stdin: str = "",
    home: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in {**os.environ, **(env or {})}.items()
           if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}  # fmt: skip
    if home is not None:
        env["SEEDGUARD_HOME"] = str(home)
    return subprocess.run(
        [str(venv / "bin" / "seedguard"), *args],
        input=stdin, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


def test_the_core_install_has_no_extra(core_venv: Path) -> None:
    probe = subprocess.run(
        [str(core_venv / "bin" / "python"), "-c",
         "import importlib.util as u; print([m for m in ('boto3', 'webdav4', 'fastapi', "
         "'sqlalchemy', 'uvicorn', 'numba', 'numpy') if u.find_spec(m)])"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert probe.stdout.strip() == "[]"


def test_the_wheel_runs_from_a_clean_venv(core_venv: Path) -> None:
    from seedguard import __version__

    done = _seedguard(core_venv, "--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"seedguard {__version__}")


def test_core_commands_work_without_any_extra(core_venv: Path, tmp_path: Path) -> None:
    phrase = "abandon " * 11 + "about"
    done = _seedguard(core_venv, "seed", "check", "--json", stdin=phrase + "\n", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert '"valid": true' in done.stdout


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["backup", "list", "--from", "s3://bucket/prefix"], "s3"),
        (["backup", "list", "--from", "webdav+http://127.0.0.1:9/dav"], "webdav"),
        (["server", "migrate"], "server"),
        (["server", "run"], "server"),
        (["demo"], "server"),  # refused before it starts, not half-way
    ],
)
def test_a_missing_extra_is_named_in_one_line(
    core_venv: Path, tmp_path: Path, args: list[str], extra: str
) -> None:
    done = _seedguard(core_venv, *args, home=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"pip install 'seedguard[{extra}]'" in lines[0]
    assert "Traceback" not in done.stderr + done.stdout


def test_repair_without_its_kernels_still_searches_and_says_how_to_speed_it(
    core_venv: Path, tmp_path: Path
) -> None:
    words = ("abandon " * 11 + "about").split()
    words[5] = "?"
    done = _seedguard(
        core_venv, "seed", "repair", "--fingerprint", "73c5da0a", "--json",
        stdin=" ".join(words) + "\n", home=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "pip install 'seedguard[repair]'" in done.stderr
    assert '"found": true' in done.stdout


def test_status_with_a_copy_whose_extra_is_missing_checks_the_rest_and_never_says_ok(
    core_venv: Path, tmp_path: Path, s3: S3Server
) -> None:
    # Made with every extra (this venv), then asked by a core install on the same home: the
    # S3 copy cannot be checked there, which the status says, copy by copy.
    home = make_home(tmp_path / "home")
    bucket = f"sg-{secrets.token_hex(5)}"
    s3.client().create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    env = {**s3.env, "SEEDGUARD_HOME": str(home)}
    made = run_cli(
        "backup", "create", "--to", str(tmp_path / "folder"), "--to", f"s3://{bucket}/phone",
        "--json", stdin="legal winner thank year wave sausage worth useful legal winner thank "
        "yellow\nGranite-Otter-Lamp-51\n", env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    done = _seedguard(core_venv, "backup", "status", "--json", home=home, env=s3.env)
    assert done.returncode == 3, (done.stdout, done.stderr)  # not everything could be asked
    [backup] = json.loads(done.stdout)["backups"]
    folder, bucket_copy = backup["copies"]
    assert folder["state"] == "ok"
    assert bucket_copy["state"] == "unchecked"  # not "denied", not "missing": nothing is known
    assert backup["state"] == "partly-unreachable"
    assert "pip install 'seedguard[s3]'" in backup["verdict"]
    assert "backup copy" not in backup["verdict"]  # no repair advised for an unread copy
    assert "could not be reached" not in backup["verdict"]  # it was never tried
    human = _seedguard(core_venv, "backup", "status", home=home, env=s3.env)
    assert human.returncode == 3
    assert "Traceback" not in human.stderr
    assert "seedguard[s3]" in human.stdout + human.stderr


def _locked_line(name: str) -> str:
    """One package's requirement, exactly as the core lock pins it (version and hashes)."""
    version, hashes = _pins(REQUIREMENTS / "core.txt")[name]
    return f"{name}=={version} " + " ".join(f"--hash=sha256:{h}" for h in hashes) + "\n"


def test_a_swapped_file_for_a_locked_version_is_refused(core_venv: Path, tmp_path: Path) -> None:
    # Who: anyone who can replace a file on the index or a mirror (or in a cache) for a version
    # the lock pins. The lock's hash refuses it; the genuine file still installs.
    (genuine,) = WHEELS_CORE.glob("segno-*.whl")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(_locked_line("segno"))
    pip = [str(core_venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check",
           "install", "--require-hashes", "--no-deps", "--no-index", "--force-reinstall",
           "--find-links"]  # fmt: skip
    honest = tmp_path / "honest"
    honest.mkdir()
    (honest / genuine.name).write_bytes(genuine.read_bytes())
    ok = subprocess.run(
        [*pip, str(honest), "-r", str(requirements)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    swapped = tmp_path / "swapped"
    swapped.mkdir()
    (swapped / genuine.name).write_bytes(genuine.read_bytes() + b"\0")  # still a valid zip
    refused = subprocess.run(
        [*pip, str(swapped), "-r", str(requirements)], capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "DO NOT MATCH THE HASHES" in refused.stderr
