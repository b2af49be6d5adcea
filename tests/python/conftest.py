"""Shared fixtures: the package under test, the CLI to compare with, the seed data set.

The package is the one built by CMake (build/python, or $LOGCLF_PYTHONPATH); an installed logclf is used
only when neither exists. The CLI is build/bin/logclf (or $LOGCLF_BIN).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_module_dir = Path(os.environ.get("LOGCLF_PYTHONPATH", ROOT / "build" / "python"))
if _module_dir.is_dir():
    sys.path.insert(0, str(_module_dir))

import logclf  # noqa: E402

SHARED = Path(os.environ.get("LOGCLF_SHARED_DIR", ROOT.parent / "shared"))
SEED = SHARED / "data" / "synthetic_logs.csv"
E5_DIR = SHARED / "models" / "e5-small-v2"


def loud_skip(reason: str):
    print(f"\n*** SKIPPED: {reason} ***", file=sys.stderr)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def cli() -> Path:
    path = Path(os.environ.get("LOGCLF_BIN", ROOT / "build" / "bin" / "logclf"))
    if not path.exists():
        loud_skip(f"no logclf binary at {path} (build it, or set LOGCLF_BIN)")
    return path


@pytest.fixture(scope="session")
def seed() -> Path:
    if not SEED.exists():
        loud_skip(f"the seed data set {SEED} is missing")
    return SEED


@pytest.fixture(scope="session")
def seed_frame(seed):
    pandas = pytest.importorskip("pandas")
    return pandas.read_csv(seed, dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def e5_dir() -> Path:
    if not (E5_DIR / "model.safetensors").exists():
        loud_skip(f"the E5-small-v2 weights are not in {E5_DIR}: the E5 tests did not run")
    return E5_DIR


@pytest.fixture(scope="session")
def builtin():
    return logclf.Classifier.load()


def run_cli(cli: Path, *args: str) -> str:
    done = subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout
