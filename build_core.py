"""Compile the decision core (`machine/`) to C with mypyc: the same source, about 2× faster.

The core is the per-input hot path of backtests, `journal replay` and tuning. mypyc compiles
the very modules that run interpreted (no second implementation): `State`, `Ind` and the
records in `machine.records` become native classes whose fields are read at a fixed offset.
The compiled modules go to `<package>/_native/` with a manifest of the sources they were built
from; `journal/native.py` loads them only while every one of those sources is unchanged, so an
edit falls back to the interpreted code until the next build, never runs stale code. Both give
byte-identical journals (tests/test_core_compiled.py).

    python build_core.py            build when missing or stale (what bootstrap.sh runs)
    python build_core.py --force    rebuild
    python build_core.py --clean    remove the compiled core (the interpreted one runs)

Without a C compiler or mypyc it says so in one line and exits 0: the interpreted core
is complete, only slower.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from journal.native import (  # noqa: E402
    C_EXTENSIONS,
    COMPILED_MODULES,
    GROUP,
    MANIFEST,
    MANIFEST_PACKAGE,
    abi_tag,
    built_modules,
    manifest_sources,
    native_packages,
    native_dir,
    native_is_current,
    source_digest,
)
MYPY_CONFIG = """\
[mypy]
python_version = 3.11
follow_imports = silent
ignore_missing_imports = true

[mypy-journal.*]
ignore_errors = true

[mypy-machine.lifecycle]
ignore_errors = true

[mypy-machine.*,cli.loop,cli.run_summary,exchange.paper,exchange.paper_fills,exchange.paper_checks]
# Literal-typed event fields take plain str here, the dispatch tables are dicts of callables, and events are
# told apart by `type(event) is X` (which mypy does not narrow): all sound at run time, where mypyc checks
# each value it unboxes.
disable_error_code = arg-type, operator, attr-defined

[mypy-cli.*,exchange.*]
# the rest of the shell is only imported for its types, never compiled here
ignore_errors = true
"""


def clean() -> None:
    for package in native_packages():
        shutil.rmtree(native_dir(package), ignore_errors=True)


def build() -> int:
    try:
        from mypyc.build import mypycify
        from setuptools import Distribution, Extension
    except ImportError as exc:
        print(f"build_core: mypyc is not installed ({exc.name}); the interpreted core runs", file=sys.stderr)
        return 0
    if shutil.which(sysconfig.get_config_var("CC").split()[0] if sysconfig.get_config_var("CC") else "cc") is None:
        print("build_core: no C compiler; the interpreted core runs", file=sys.stderr)
        return 0
    # Digests taken before mypyc reads the sources and checked again after the C build: a file saved
    # meanwhile (an editor, a git pull, a second bootstrap) must not be recorded as built.
    before = {path: source_digest(path) for path in manifest_sources()}
    with tempfile.TemporaryDirectory(prefix="build_core-") as tmp:
        config = Path(tmp) / "mypy.ini"
        config.write_text(MYPY_CONFIG)
        cwd = os.getcwd()
        os.chdir(ROOT)  # mypyc names modules by their path relative to the working directory
        try:
            paths = [f"{package}/{name}.py" for package, names in COMPILED_MODULES.items() for name in names]
            extensions = mypycify(["--config-file", str(config), *paths], opt_level="3", group_name=GROUP,
                                  verbose=False)
            extensions += [Extension(f"{package}.{name}", [f"{package}/{name}.c"], extra_compile_args=["-O3"])
                           for package, names in C_EXTENSIONS.items() for name in names]
            dist = Distribution({"name": "machine-core", "ext_modules": extensions})
            cmd = dist.get_command_obj("build_ext")
            cmd.build_lib = str(Path(tmp) / "lib")
            cmd.build_temp = str(Path(tmp) / "tmp")
            dist.run_command("build_ext")
        except (SystemExit, Exception) as exc:  # mypy type errors end in SystemExit; a compiler error in CompileError
            print(f"build_core: compiling the core failed ({exc}); the interpreted core runs", file=sys.stderr)
            return 1
        finally:
            os.chdir(cwd)
        changed = sorted(path for path, digest in before.items() if source_digest(path) != digest)
        if changed:
            print(f"build_core: {', '.join(changed)} changed during the build; nothing installed, the interpreted "
                  "core runs until the next build", file=sys.stderr)
            return 1
        staged = {}
        for package in native_packages():  # stage every package first: a failed copy leaves the old build whole
            staging = native_dir(package).with_name("_native.new")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            for lib in (Path(tmp) / "lib" / package).glob("*.so"):
                shutil.copy2(lib, staging / lib.name)
            staged[package] = staging
        manifest = {"abi": abi_tag(),
                    "modules": built_modules(),
                    "sources": before}
        manifest_text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
        (staged[MANIFEST_PACKAGE] / MANIFEST.name).write_text(manifest_text)
        clean()
        for package, staging in staged.items():
            staging.rename(native_dir(package))
    count = sum(len(names) for names in built_modules().values())
    print(f"build_core: compiled {count} modules ({', '.join(native_packages())}) into <package>/_native",
          file=sys.stderr)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="rebuild even when the compiled core is current")
    ap.add_argument("--clean", action="store_true", help="remove the compiled core")
    args = ap.parse_args()
    if args.clean:
        clean()
        return 0
    if native_is_current() and not args.force:
        return 0
    return build()


if __name__ == "__main__":
    sys.exit(main())
