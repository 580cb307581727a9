"""Build costguard's dependency layer, pruned, exactly where Chalice looks for its managed layer.

Chalice (``automatic_layer: true``) names its layer zip after an md5 of requirements.txt and of everything under
vendor/ and reuses a zip that already has that name. This script computes the name with Chalice's own
``LayerDeploymentPackager`` and writes a smaller zip there, so ``chalice package`` and ``chalice deploy`` both say
"Reusing existing shared layer deployment package" and ship the pruned layer.

The pip install for the Lambda platform is cached under layers/.cache/<hash of requirements.txt>, so a rebuild
after a code change only re-zips.

Usage: python layers/build.py [--project-dir DIR] [--cache-dir DIR]
"""
from __future__ import annotations

import argparse
import compileall
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

PYTHON_VERSION = "python3.11"
LAYER_PREFIX = f"python/lib/{PYTHON_VERSION}/site-packages"
PIP_PLATFORM_ARGS = ("--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.11",
                     "--only-binary=:all:")
DEFAULT_PROJECT_DIR = Path(__file__).resolve().parent.parent

# Never imported on Lambda. kubernetes.aio is the asyncio twin of the client (~68 MB); bin/ holds console
# scripts whose shebang points at the build machine; tests folders ship with a few packages.
PRUNED_TOP_LEVEL = {"bin", "chalice"}  # chalice: Chalice adds its own runtime to the function zip
PRUNED_PACKAGE_PATHS = {PurePosixPath("kubernetes/aio")}
PRUNED_DIR_NAMES = {"__pycache__", "tests", "test"}
PRUNED_SUFFIXES = (".pyc", ".pyo")


class LayerBuildError(Exception):
    """The layer could not be built; the message says which step failed."""


@dataclass(frozen=True)
class LayerFigures:
    unpruned_bytes: int
    pruned_bytes: int
    zipped_bytes: int
    kubernetes_unpruned_bytes: int
    kubernetes_pruned_bytes: int
    path: Path

    def lines(self) -> list[str]:
        return [
            f"layer (installed, unpruned): {megabytes(self.unpruned_bytes)}",
            f"layer (pruned, with vendor/): {megabytes(self.pruned_bytes)}",
            f"layer zip:                    {megabytes(self.zipped_bytes)}",
            f"kubernetes package: {megabytes(self.kubernetes_unpruned_bytes)} -> "
            f"{megabytes(self.kubernetes_pruned_bytes)}",
            f"written to {self.path}",
        ]


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def is_pruned(relative: PurePosixPath) -> bool:
    """True for files (path relative to site-packages) that no costguard code path ever imports."""
    parts = relative.parts
    if not parts:
        return False
    if parts[0] in PRUNED_TOP_LEVEL or parts[0] == "__pycache__":
        return True
    if any(relative == path or path in relative.parents for path in PRUNED_PACKAGE_PATHS):
        return True
    # Directories below a top-level package; a top-level package called "test" would be kept.
    if any(part in PRUNED_DIR_NAMES for part in parts[1:-1]):
        return True
    return relative.name.endswith(PRUNED_SUFFIXES)


def requirements_key(requirements: Path) -> str:
    return hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]


def installed_tree(requirements: Path, cache_dir: Path) -> Path:
    """The pip install of requirements.txt for Lambda, reused when requirements.txt has not changed."""
    target = cache_dir / requirements_key(requirements) / "site-packages"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Install beside the final place and rename, so an interrupted build never leaves a half tree in the cache.
    staging = Path(tempfile.mkdtemp(prefix="install-", dir=target.parent))
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
               *PIP_PLATFORM_ARGS, "--target", str(staging), "-r", str(requirements)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise LayerBuildError(f"pip install for the Lambda platform failed:\n{result.stderr.strip()[-2000:]}")
    try:
        staging.rename(target)
    except OSError:  # another build finished first; its tree is the same
        shutil.rmtree(staging, ignore_errors=True)
    return target


def walk_files(root: Path) -> list[tuple[Path, PurePosixPath]]:
    """(absolute path, path relative to root) of every file, following symlinks like Chalice does, sorted."""
    found: list[tuple[Path, PurePosixPath]] = []
    for directory, _, filenames in os.walk(root, followlinks=True):
        for filename in filenames:
            full = Path(directory) / filename
            found.append((full, PurePosixPath(full.relative_to(root).as_posix())))
    return sorted(found, key=lambda item: item[1])


def tree_size(files: list[tuple[Path, PurePosixPath]], under: str | None = None) -> int:
    return sum(full.stat().st_size for full, relative in files
               if under is None or (relative.parts and relative.parts[0] == under))


def settle_vendor_bytecode(vendor_dir: Path) -> None:
    """Compile vendor/ now: Chalice hashes vendor/ *including* __pycache__, and importing app.py (which
    `chalice package` does before hashing) would otherwise add .pyc files and change the layer's name."""
    if vendor_dir.is_dir():
        for entry in sorted(vendor_dir.iterdir()):
            if entry.is_dir():
                compileall.compile_dir(str(entry.resolve()), quiet=1)


def chalice_layer_path(project_dir: Path) -> Path:
    """Where Chalice looks for its managed layer, computed by Chalice itself."""
    from chalice.deploy.packager import LayerDeploymentPackager
    from chalice.utils import UI, OSUtils

    packager = LayerDeploymentPackager(OSUtils(), None, UI())
    return Path(packager.deployment_package_filename(str(project_dir), PYTHON_VERSION))


def write_zip(destination: Path, entries: list[tuple[Path, str]]) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for full, name in entries:
            archive.write(full, name)
    os.replace(partial, destination)


def remove_stale_layers(current: Path) -> list[Path]:
    """Older managed-layer zips of this Python version: Chalice would never pick them again."""
    stale = [path for path in current.parent.glob(f"managed-layer-*-{PYTHON_VERSION}.zip") if path != current]
    for path in stale:
        path.unlink()
    return stale


def build_layer(project_dir: Path = DEFAULT_PROJECT_DIR, cache_dir: Path | None = None) -> LayerFigures:
    project_dir = project_dir.resolve()
    requirements = project_dir / "requirements.txt"
    if not requirements.is_file():
        raise LayerBuildError(f"no requirements.txt in {project_dir}")
    site_packages = installed_tree(requirements, cache_dir or project_dir / "layers" / ".cache")
    vendor_dir = project_dir / "vendor"
    settle_vendor_bytecode(vendor_dir)

    installed = walk_files(site_packages)
    kept = [(full, relative) for full, relative in installed if not is_pruned(relative)]
    vendored = [(full, relative) for full, relative in walk_files(vendor_dir) if not is_pruned(relative)] \
        if vendor_dir.is_dir() else []
    clash = {relative for _, relative in kept} & {relative for _, relative in vendored}
    if clash:
        raise LayerBuildError(f"vendor/ and requirements.txt both provide {sorted(map(str, clash))[:5]}")

    destination = chalice_layer_path(project_dir)
    write_zip(destination, [(full, f"{LAYER_PREFIX}/{relative}") for full, relative in kept + vendored])
    remove_stale_layers(destination)
    return LayerFigures(
        unpruned_bytes=tree_size(installed),
        pruned_bytes=tree_size(kept) + tree_size(vendored),
        zipped_bytes=destination.stat().st_size,
        kubernetes_unpruned_bytes=tree_size(installed, "kubernetes"),
        kubernetes_pruned_bytes=tree_size(kept, "kubernetes"),
        path=destination,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project-dir", type=Path, default=DEFAULT_PROJECT_DIR)
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: <project>/layers/.cache")
    options = parser.parse_args(argv)
    try:
        figures = build_layer(options.project_dir, options.cache_dir)
    except LayerBuildError as error:
        print(f"layers/build.py: {error}", file=sys.stderr)
        return 2
    print("\n".join(figures.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
