"""Where benchmarks are found: environment variables, the embedded and cache directories, name prefixes.

The lowest module of the repository (it imports only ``storage`` for the metadata file name), so that the
repository, its mirror, the converters and the YAHPO surrogates share these without importing each other.
"""

from __future__ import annotations

import os
from pathlib import Path

from blackbox_repository.storage import METADATA_FILE

CACHE_ENV = "HPO_BLACKBOX_CACHE"
MIRROR_ENV = "HPO_BLACKBOX_MIRROR"
MIRROR_UPLOAD_ENV = "HPO_BLACKBOX_MIRROR_UPLOAD"
EMBEDDED_DIR = Path(__file__).parent / "data"
#: benchmark names starting with this are YAHPO Gym surrogates (``yahpo-<scenario>-<instance>``)
YAHPO_PREFIX = "yahpo-"


def default_cache_dir() -> Path:
    """``$HPO_BLACKBOX_CACHE`` if set, else ``$XDG_CACHE_HOME`` (or ``~/.cache``) ``/hpo-workbench/blackboxes``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "hpo-workbench" / "blackboxes"


def benchmark_dir(name: str, cache_dir: Path) -> Path:
    """The directory of benchmark ``name``: embedded in the package if it is there, else in ``cache_dir``."""
    embedded = EMBEDDED_DIR / name
    if (embedded / METADATA_FILE).is_file():
        return embedded
    return cache_dir / name
