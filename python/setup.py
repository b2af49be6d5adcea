"""Builds the native module with the repository's CMake build and installs it into the package.

Environment: LOGCLF_BUILD_DIR (default: build-python/ at the repository's root; an existing Release build
directory such as build/ is reused as it is), LOGCLF_BUILD_JOBS (parallel compile jobs; default: CMake's).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        if not (ROOT / "CMakeLists.txt").exists() or not (ROOT / "include" / "logclf").is_dir():
            sys.exit(f"logclf: {ROOT} is not the logclf repository; install from python/ inside a checkout "
                     "(pip builds in place)")
        build_dir = Path(os.environ.get("LOGCLF_BUILD_DIR", ROOT / "build-python"))
        if not (build_dir / "CMakeCache.txt").exists():
            subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build_dir), "-G", "Ninja",
                            "-DCMAKE_BUILD_TYPE=Release", "-DLOGCLF_TESTS=OFF", "-DLOGCLF_PYTHON=ON",
                            f"-DPython_EXECUTABLE={sys.executable}"], check=True)
        command = ["cmake", "--build", str(build_dir), "--target", "_logclf"]
        if os.environ.get("LOGCLF_BUILD_JOBS"):
            command += ["-j", os.environ["LOGCLF_BUILD_JOBS"]]
        subprocess.run(command, check=True)
        built = sorted((build_dir / "python" / "logclf").glob("_logclf*.so"))
        if not built:
            sys.exit(f"logclf: the build in {build_dir} made no module (is pybind11-dev installed?)")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[-1], target)


setup(ext_modules=[Extension("logclf._logclf", sources=[])], cmdclass={"build_ext": CMakeBuild})
